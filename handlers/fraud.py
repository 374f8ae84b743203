"""Routing by type and attributes: the fraud check sees only PaymentCaptured in the large band.

The subscription filter (``types=[PaymentCaptured]``, ``filter={"amount-band": "large"}``)
runs in the broker (SNS filter policy, Pub/Sub subscription filter): small payments never
invoke this function at all. Filters match exact attribute values on every cloud, so the
payment step publishes a band, not a number; the check re-reads the exact amount because a
band is only as precise as its boundaries.
"""

from __future__ import annotations

import logging

from handlers.app import alerts, idempotency
from handlers.schemas import ALERT_FRAUD_SUSPECTED, FRAUD_THRESHOLD_CENTS, PAYMENT_CAPTURED, read_order_event
from portside import Event, Message, idempotent

log = logging.getLogger(__name__)
DISPOSABLE = {"mailinator.com", "10minutemail.com", "guerrillamail.com", "trashmail.com"}


def assess(amount: int, customer: str) -> list[str]:
    """Why a payment looks risky (empty: it does not)."""
    if amount < FRAUD_THRESHOLD_CENTS:
        return []
    reasons = [f"amount {amount / 100:.2f} is at or above {FRAUD_THRESHOLD_CENTS / 100:.2f}"]
    if amount >= 4 * FRAUD_THRESHOLD_CENTS:
        reasons.append("amount is 4x the threshold or more")
    if customer.rpartition("@")[2].lower() in DISPOSABLE:
        reasons.append("customer uses a disposable email domain")
    return reasons


@idempotent(idempotency, key=lambda m: m.event().id)  # one alert per payment, however delivered
def check_payment(message: Message) -> None:
    _, payment = read_order_event(message, PAYMENT_CAPTURED)
    reasons = assess(int(payment["amount_cents"]), str(payment.get("customer", "")))
    if not reasons:
        log.info("payment of %s is below the threshold", payment["order_id"])
        return
    order_id = payment["order_id"]
    alerts.publish(Event(type=ALERT_FRAUD_SUSPECTED, source="/portside-demo/fraud",
                         id=f"{order_id}/{ALERT_FRAUD_SUSPECTED}", subject=order_id,
                         data={"order_id": order_id, "amount_cents": payment["amount_cents"],
                               "customer": payment.get("customer"), "reasons": reasons,
                               "risk": "high" if len(reasons) > 1 else "review"}))
