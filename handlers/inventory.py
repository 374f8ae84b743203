"""Choreography step: reserve stock on OrderPlaced; release it on PaymentFailed.

A reservation is one row per (sku, order): writing it twice changes nothing, so the step is
idempotent by design. Stock available = catalog stock - quantities held by *other* orders.
(Two orders racing for the last unit can both see it available: a real shop would add a
conditional update on a stock counter; the port's put_if_absent is enough for reservations.)
"""

from __future__ import annotations

from handlers.app import reservations
from handlers.catalog import stock_of
from handlers.orderlog import emit, publish, recorded
from handlers.schemas import (
    INVENTORY_RELEASED,
    INVENTORY_RESERVED,
    INVENTORY_UNAVAILABLE,
    ORDER_PLACED,
    PAYMENT_FAILED,
    order_event,
    read_order_event,
)
from portside import Message

CARRIED = ("customer", "items", "total_cents", "payment_token")  # what later steps need to know


def available(sku: str, order_id: str) -> int:
    held = sum(int(r["qty"]) for r in reservations.query(sku) if r["status"] == "held" and r["order_id"] != order_id)
    return stock_of(sku) - held


def reserve_inventory(message: Message) -> None:
    _, order = read_order_event(message, ORDER_PLACED)
    order_id = order["order_id"]
    done = recorded(order_id, INVENTORY_RESERVED, INVENTORY_UNAVAILABLE)
    if done:  # decided already (a duplicate, or a retry after a crash): never decide twice
        publish(done)
        return
    short = [i["sku"] for i in order["items"] if available(i["sku"], order_id) < i["qty"]]
    if short:
        emit(order_event(INVENTORY_UNAVAILABLE, order_id, {"skus": short}, step="inventory"))
        return
    for item in order["items"]:
        reservations.put({"sku": item["sku"], "order_id": order_id, "qty": item["qty"], "status": "held"})
    emit(order_event(INVENTORY_RESERVED, order_id, {k: order[k] for k in CARRIED}, step="inventory"))


def release_inventory(message: Message) -> None:
    """The compensation: a failed payment gives the reserved stock back."""
    _, failed = read_order_event(message, PAYMENT_FAILED)
    order_id = failed["order_id"]
    done = recorded(order_id, INVENTORY_RELEASED)
    if done:
        publish(done)
        return
    for item in failed.get("items", []):
        key = {"sku": item["sku"], "order_id": order_id}
        row = reservations.get(key)
        if row is not None and row["status"] == "held":
            reservations.update(key, {"status": "released"})
    emit(order_event(INVENTORY_RELEASED, order_id, {"items": failed.get("items", [])}, step="inventory"))
