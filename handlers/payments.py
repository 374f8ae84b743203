"""Choreography step: capture the payment on InventoryReserved -> PaymentCaptured or PaymentFailed.

Charging twice is the classic duplicate-delivery bug. The (simulated) payment provider is
called with the order id as its idempotency key, as real providers allow: here that is a
conditional create in `payments`, so a redelivery finds the first charge and reuses it.
PaymentCaptured carries an ``amount-band`` attribute so subscriptions can route on it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from handlers.app import payments
from handlers.orderlog import emit, publish, recorded
from handlers.schemas import (
    INVENTORY_RESERVED,
    PAYMENT_CAPTURED,
    PAYMENT_FAILED,
    amount_band,
    order_event,
    read_order_event,
)
from portside import Message

DECLINED = {"tok_declined": "card declined", "tok_insufficient_funds": "insufficient funds"}
LIMIT_CENTS = 500_000  # above this ($5,000) the (simulated) provider declines


def charge(order_id: str, token: str, amount: int, at: str) -> dict[str, Any]:
    """Charge once per order: the provider's idempotency key is the order id."""
    reason = DECLINED.get(token) or ("over the card limit" if amount > LIMIT_CENTS else None)
    attempt = {"order_id": order_id, "amount_cents": amount, "at": at,
               "status": "declined" if reason else "captured", "reason": reason,
               "payment_id": "pay_" + hashlib.sha256(order_id.encode()).hexdigest()[:16]}
    payments.put_if_absent(attempt)
    return payments.get(order_id) or attempt  # the first charge wins


def capture_payment(message: Message) -> None:
    _, order = read_order_event(message, INVENTORY_RESERVED)
    order_id = order["order_id"]
    done = recorded(order_id, PAYMENT_CAPTURED, PAYMENT_FAILED)
    if done:
        publish(done)
        return
    amount = int(order["total_cents"])
    result = charge(order_id, order["payment_token"], amount, message.time.isoformat())
    if result["status"] == "captured":
        data = {"amount_cents": amount, "payment_id": result["payment_id"], "customer": order["customer"]}
        emit(order_event(PAYMENT_CAPTURED, order_id, data, step="payments"),
             attributes={"amount-band": amount_band(amount)})
    else:
        emit(order_event(PAYMENT_FAILED, order_id, {"reason": result["reason"], "items": order["items"]},
                         step="payments"))
