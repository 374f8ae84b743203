"""Choreography step: ship a paid order (PaymentCaptured -> OrderShipped)."""

from __future__ import annotations

import hashlib

from handlers.app import shipments
from handlers.orderlog import emit, publish, recorded
from handlers.schemas import ORDER_SHIPPED, PAYMENT_CAPTURED, order_event, read_order_event
from portside import Message

CARRIER = "portside-post"


def ship_order(message: Message) -> None:
    _, paid = read_order_event(message, PAYMENT_CAPTURED)
    order_id = paid["order_id"]
    done = recorded(order_id, ORDER_SHIPPED)
    if done:
        publish(done)
        return
    tracking = "PS" + hashlib.sha256(order_id.encode()).hexdigest()[:10].upper()
    shipments.put_if_absent({"order_id": order_id, "carrier": CARRIER, "tracking": tracking,
                             "created": message.time.isoformat()})
    label = shipments.get(order_id) or {"carrier": CARRIER, "tracking": tracking}
    emit(order_event(ORDER_SHIPPED, order_id, {"carrier": label["carrier"], "tracking": label["tracking"]},
                     step="shipping"))
