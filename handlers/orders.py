"""Orders, the start of the choreography: ``POST /orders`` emits OrderPlaced; ``GET /orders/{id}``
replays the order's event log. Nothing here knows which services react to OrderPlaced.

Clients may send an ``Idempotency-Key`` header: a retried POST (a timeout, a double click)
then gets the first answer again instead of placing a second order.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from handlers.app import idempotency, order_index
from handlers.catalog import CATALOG, price_of
from handlers.orderlog import emit, replay
from handlers.schemas import ORDER_PLACED, order_event
from portside import HttpError, HttpRequest, HttpResponse, InProgress, PermanentError, idempotent

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ORDER_ID = re.compile(r"^ord-[0-9a-f]{16}$")
MAX_LINES, MAX_QTY, MAX_KEY = 20, 100, 200


def _validate(body: Any) -> dict[str, Any]:
    """Customer, merged order lines and payment token, or HttpError naming what is wrong."""
    if not isinstance(body, dict):
        raise HttpError(400, "body must be a JSON object")
    email = body.get("customer")
    if not isinstance(email, str) or not EMAIL.match(email.strip()):
        raise HttpError(422, "customer must be the customer's email address")
    token = body.get("payment_token")
    if not isinstance(token, str) or not 0 < len(token) <= 100:
        raise HttpError(422, "payment_token must be a non-empty string (e.g. 'tok_visa')")
    lines = body.get("items")
    if not isinstance(lines, list) or not 0 < len(lines) <= MAX_LINES:
        raise HttpError(422, f"items must be a list of 1-{MAX_LINES} {{sku, qty}} objects")
    qty: dict[str, int] = {}
    for line in lines:
        sku, n = (line.get("sku"), line.get("qty", 1)) if isinstance(line, dict) else (None, None)
        if sku not in CATALOG:
            raise HttpError(422, f"unknown sku {sku!r}; the catalog has {sorted(CATALOG)}")
        if type(n) is not int or not 0 < n <= MAX_QTY:
            raise HttpError(422, f"qty of {sku} must be an integer from 1 to {MAX_QTY}, got {n!r}")
        qty[sku] = qty.get(sku, 0) + n
    if any(n > MAX_QTY for n in qty.values()):
        raise HttpError(422, f"at most {MAX_QTY} of one sku per order")
    items = [{"sku": s, "qty": n, "price_cents": price_of(s)} for s, n in sorted(qty.items())]
    return {"customer": email.strip().lower(), "payment_token": token, "items": items,
            "total_cents": sum(i["qty"] * i["price_cents"] for i in items)}


def _request_key(request: HttpRequest) -> str:
    """The idempotency key: the client's Idempotency-Key, scoped to the customer (two customers
    choosing the same key must not see each other's order), or the request id when absent."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return request.id  # no key: every request is new
    if not 0 < len(key) <= MAX_KEY:
        raise HttpError(400, f"Idempotency-Key must be 1-{MAX_KEY} characters")
    try:
        customer = request.json().get("customer")
    except (PermanentError, AttributeError):
        return request.id  # the handler answers the 400 for the body
    return "key:" + hashlib.sha256(f"{customer}\n{key}".encode()).hexdigest()[:32]


@idempotent(idempotency, key=_request_key, expires_after=24 * 3600)
def _place(request: HttpRequest) -> HttpResponse:
    try:
        body = request.json()
    except PermanentError:
        raise HttpError(400, "body must be JSON") from None
    order = _validate(body)
    # With a key the id is derived from it: if a first attempt died after logging OrderPlaced but
    # before publishing it, the client's retry re-emits that same event instead of a second order.
    scoped = _request_key(request)
    order_id = "ord-" + (hashlib.sha256(scoped.encode()).hexdigest()[:16] if scoped.startswith("key:")
                         else uuid.uuid4().hex[:16])
    day = request.time.date().isoformat()
    order_index.put({"day": day, "order_id": order_id, "placed": request.time.isoformat()})
    emit(order_event(ORDER_PLACED, order_id, {**order, "day": day}, step="orders",
                     time=request.time))
    return HttpResponse.json_body({"order_id": order_id, "status": "placed", "total_cents": order["total_cents"],
                                   "href": f"/orders/{order_id}"}, status=202)


def place_order(request: HttpRequest) -> HttpResponse:
    """POST /orders: 202 and the order id; inventory, payment and shipping follow by events.

    Example: {"customer": "ada@example.com", "payment_token": "tok_visa", "items": [{"sku": "kibble-5kg", "qty": 2}]}
    """
    try:
        return _place(request)
    except InProgress:
        raise HttpError(409, "a request with this Idempotency-Key is still being processed; retry shortly") from None


def get_order(request: HttpRequest) -> dict[str, Any]:
    """GET /orders/{id}: the order rebuilt from its events (never from a projection)."""
    order_id = request.path_params["id"]
    state = replay(order_id) if ORDER_ID.match(order_id) else None
    if state is None:
        raise HttpError(404, f"no order {order_id!r}")
    return state
