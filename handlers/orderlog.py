"""Event sourcing: the append-only order log, and the fold that rebuilds an order from it.

The log (`order-log`, partition ``order_id``, sort key ``seq``) is the source of truth; the
`orders` topic and the `order-summaries` projection follow from it. A step *emits* an event
by appending it (a conditional create on the next ``seq``: two writers cannot both win) and
then publishing it, through the app's outbox (``portside.outbox``): the event is staged before
the append, so if the step dies before publishing, the outbox's relay publishes it (the append
is its proof). A retried step finds its event already in the log and publishes it again unless
it is marked published, so duplicates and crashes neither lose nor fork the story.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.app import order_log, order_outbox, orders
from handlers.schemas import (
    INVENTORY_RELEASED,
    INVENTORY_RESERVED,
    INVENTORY_UNAVAILABLE,
    ORDER_PLACED,
    ORDER_SHIPPED,
    PAYMENT_CAPTURED,
    PAYMENT_FAILED,
)
from portside import Event
from portside.outbox import Proof


class AppendConflict(RuntimeError):
    """Another writer took this seq first: retryable (the retry reads the log again)."""


def history(order_id: str) -> list[dict[str, Any]]:
    """Every logged event of the order, in seq order."""
    return order_log.query(order_id)


def recorded(order_id: str, *types: str) -> dict[str, Any] | None:
    """The first logged event of one of ``types``: a step's decision, if it was already made."""
    return next((row for row in history(order_id) if row["type"] in types), None)


def emit(event: Event, attributes: Mapping[str, str] | None = None) -> None:
    """Append ``event`` to its order's log (once) and publish it on `orders` (at least once)."""
    order_id = event.subject
    if not order_id:
        raise ValueError(f"order event {event.id} needs subject=order id")
    rows = history(order_id)
    row = next((r for r in rows if r["event_id"] == event.id), None)
    if row is not None:  # a retry of a step that already logged it
        publish(row)
        return
    seq = f"{int(rows[-1]['seq']) + 1 if rows else 1:06d}"
    key = {"order_id": order_id, "seq": seq}
    row = {**key, "event_id": event.id, "type": event.type, "time": event.time.isoformat(),
           "event": event.to_dict(), "attributes": dict(attributes or {}), "published": False}
    with order_outbox.publishing(orders, event, attributes, proof=Proof(order_log, key, {"event_id": event.id})):
        if not order_log.put_if_absent(row):
            raise AppendConflict(f"order {order_id}: seq {seq} was taken by a concurrent writer")
    order_log.update(key, {"published": True})


def publish(row: Mapping[str, Any]) -> None:
    """Publish a logged event unless it is marked published (a retried step's second chance)."""
    if row.get("published"):
        return
    orders.publish(Event.from_dict(row["event"]), attributes=row.get("attributes") or None)
    order_log.update({"order_id": row["order_id"], "seq": row["seq"]}, {"published": True})


# -- the read side: fold the events into the order's current state --
STATUS = {ORDER_PLACED: "placed", INVENTORY_RESERVED: "reserved", INVENTORY_UNAVAILABLE: "rejected",
          PAYMENT_CAPTURED: "paid", PAYMENT_FAILED: "payment_failed", INVENTORY_RELEASED: "cancelled",
          ORDER_SHIPPED: "shipped"}


def fold(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The order as its events say it is now; None if it has no events."""
    if not rows:
        return None
    state: dict[str, Any] = {"order_id": rows[0]["order_id"], "status": None, "version": 0, "history": []}
    for row in rows:
        data = row["event"].get("data") or {}
        kind = row["type"]
        if kind == ORDER_PLACED:
            state.update(customer=data.get("customer"), items=data.get("items", []),
                         total_cents=data.get("total_cents", 0), day=data.get("day"), placed=row["time"])
        elif kind == INVENTORY_UNAVAILABLE:
            state["reason"] = f"out of stock: {', '.join(data.get('skus', []))}"
        elif kind == PAYMENT_CAPTURED:
            state["payment_id"] = data.get("payment_id")
        elif kind == PAYMENT_FAILED:
            state["reason"] = f"payment failed: {data.get('reason')}"
        elif kind == ORDER_SHIPPED:
            state.update(carrier=data.get("carrier"), tracking=data.get("tracking"))
        state["status"] = STATUS.get(kind, state["status"])
        state["version"] = int(row["seq"])
        state["history"].append({"seq": int(row["seq"]), "type": kind, "time": row["time"]})
    return state


def replay(order_id: str) -> dict[str, Any] | None:
    return fold(history(order_id))
