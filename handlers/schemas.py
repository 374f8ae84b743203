"""The app's event contracts: type names, builders, and the ProfileCreated upcaster (schema versioning).

Producers and consumers are deployed independently, so an old producer (or a message
queued before a deploy, or a redrive from a dead letter) can deliver an older schema to a
newer consumer. Consumers therefore never read ``event.data`` directly: they call
``read_profile_created`` which upcasts any known version to the current one, step by step.
The version travels in the CloudEvent's ``dataschema`` (an event without one is v1, which
predates the field), so subscriptions, which filter on the type, need no change per version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from portside import Event, Message, PermanentError

# -- profiles --
PROFILE_CREATED = "ProfileCreated"
PROFILE_SOURCE = "/portside-demo/profiles"
PROFILE_SCHEMA = "urn:portside-demo:ProfileCreated:v{}"
PROFILE_VERSION = 2  # what producers publish now

# -- orders (choreography): each step's event --
ORDER_PLACED = "OrderPlaced"
INVENTORY_RESERVED = "InventoryReserved"
INVENTORY_UNAVAILABLE = "InventoryUnavailable"
PAYMENT_CAPTURED = "PaymentCaptured"
PAYMENT_FAILED = "PaymentFailed"
INVENTORY_RELEASED = "InventoryReleased"
ORDER_SHIPPED = "OrderShipped"
ORDER_EVENT_TYPES = (ORDER_PLACED, INVENTORY_RESERVED, INVENTORY_UNAVAILABLE, PAYMENT_CAPTURED,
                     PAYMENT_FAILED, INVENTORY_RELEASED, ORDER_SHIPPED)

# -- routing: subscription filters match exact attribute values on every cloud (Pub/Sub has
# no numeric ranges), so the publisher puts the amount in a band a filter can name --
AMOUNT_BANDS = ((5_000, "small"), (50_000, "medium"))  # upper bounds (exclusive), in cents
FRAUD_THRESHOLD_CENTS = 50_000  # payments of $500.00 and more are checked for fraud
FRAUD_BAND = "large"  # the band that starts at FRAUD_THRESHOLD_CENTS
ALERT_FRAUD_SUSPECTED = "FraudSuspected"


def amount_band(cents: int) -> str:
    """The band of an amount: the ``amount-band`` attribute a subscription filter can match."""
    for upper, band in AMOUNT_BANDS:
        if cents < upper:
            return band
    return FRAUD_BAND


# ---------------------------------------------------------------- ProfileCreated v1 / v2
# v1 (flat):  {"profile_id", "name", "breed", "owner_email", "city", "photo"?}
# v2 (nested, with tags):
#   {"profile_id", "pet": {"name", "breed", "photo"}, "owner": {"email", "city"}, "tags": [str]}


def profile_created(profile: Mapping[str, Any]) -> Event:
    """A ProfileCreated event in the current schema (v2), id'd by the profile (a retry re-uses it)."""
    data = check_profile_v2(profile)
    return Event(type=PROFILE_CREATED, source=PROFILE_SOURCE, id=f"{data['profile_id']}/{PROFILE_CREATED}",
                 subject=data["profile_id"], dataschema=PROFILE_SCHEMA.format(PROFILE_VERSION), data=data)


def profile_created_v1(data: Mapping[str, Any], event_id: str | None = None) -> Event:
    """A v1 event as the previous producer sent it (no dataschema): for tests and replays."""
    return Event(type=PROFILE_CREATED, source=PROFILE_SOURCE, id=event_id or f"{data['profile_id']}/v1",
                 subject=str(data.get("profile_id")), dataschema=None, data=dict(data))


def upcast_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    """v1 -> v2: nest pet and owner fields; v1 had no tags."""
    missing = [f for f in ("profile_id", "name", "breed", "owner_email", "city") if not data.get(f)]
    if missing:
        raise PermanentError(f"ProfileCreated v1 is missing {missing}")
    return {"profile_id": data["profile_id"],
            "pet": {"name": data["name"], "breed": data["breed"], "photo": data.get("photo")},
            "owner": {"email": data["owner_email"], "city": data["city"]},
            "tags": []}


UPCASTERS: dict[int, Callable[[Mapping[str, Any]], dict[str, Any]]] = {1: upcast_v1}  # v -> v+1


def schema_version(event: Event) -> int:
    """The version named by ``dataschema``; none means v1 (it predates the field)."""
    if not event.dataschema:
        return 1
    prefix = PROFILE_SCHEMA.format("")
    if not event.dataschema.startswith(prefix) or not event.dataschema[len(prefix):].isdigit():
        raise PermanentError(f"{event.type} {event.id}: unknown dataschema {event.dataschema!r}")
    return int(event.dataschema[len(prefix):])


def read_profile_created(message: Message | Event) -> dict[str, Any]:
    """The ProfileCreated data as v2, whatever version was sent.

    A version newer than this consumer knows is a PermanentError: it lands in the dead letter,
    to be redriven once a consumer that knows it is deployed.
    """
    event = message.event() if isinstance(message, Message) else message
    if event.type != PROFILE_CREATED:
        raise PermanentError(f"expected {PROFILE_CREATED}, got {event.type!r} (event {event.id})")
    version = schema_version(event)
    if version > PROFILE_VERSION:
        raise PermanentError(f"{PROFILE_CREATED} {event.id} is v{version}; this consumer knows up to "
                             f"v{PROFILE_VERSION}: redrive it after deploying a newer consumer")
    data = event.json()
    if not isinstance(data, Mapping):
        raise PermanentError(f"{PROFILE_CREATED} {event.id}: data must be an object, got {type(data).__name__}")
    while version < PROFILE_VERSION:
        data = UPCASTERS[version](data)
        version += 1
    return check_profile_v2(data)


def check_profile_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the v2 shape; a wrong one is permanent (retrying cannot fix it)."""
    pet, owner = data.get("pet"), data.get("owner")
    problems = []
    if not isinstance(data.get("profile_id"), str) or not data["profile_id"]:
        problems.append("profile_id")
    if not isinstance(pet, Mapping) or not all(isinstance(pet.get(f), str) and pet[f] for f in ("name", "breed")):
        problems.append("pet.name/pet.breed")
    if not isinstance(owner, Mapping) or not all(isinstance(owner.get(f), str) and owner[f] for f in ("email", "city")):
        problems.append("owner.email/owner.city")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append("tags")
    if problems:
        raise PermanentError(f"{PROFILE_CREATED} v2 data is invalid: bad or missing {problems}")
    photo = pet.get("photo")  # type: ignore[union-attr]
    return {"profile_id": data["profile_id"],
            "pet": {"name": pet["name"], "breed": pet["breed"],  # type: ignore[index]
                    "photo": photo if isinstance(photo, str) and photo else None},
            "owner": {"email": owner["email"], "city": owner["city"]},  # type: ignore[index]
            "tags": list(tags)}


# ---------------------------------------------------------------- order events


def order_event(type_: str, order_id: str, data: Mapping[str, Any], step: str,
                time: datetime | None = None) -> Event:
    """An order event. Its id is ``order/type``: a retried step emits the *same* event, so
    the log and every consumer can tell a repeat from a new fact."""
    if type_ not in ORDER_EVENT_TYPES:
        raise ValueError(f"unknown order event type {type_!r}")
    extra = {"time": time} if time is not None else {}
    return Event(type=type_, source=f"/portside-demo/{step}", id=f"{order_id}/{type_}", subject=order_id,
                 data={**data, "order_id": order_id}, **extra)


# What each order event's data must hold (beyond order_id) for the steps that read it.
ORDER_FIELDS: dict[str, dict[str, type]] = {
    ORDER_PLACED: {"customer": str, "items": list, "total_cents": int, "payment_token": str},
    INVENTORY_RESERVED: {"customer": str, "items": list, "total_cents": int, "payment_token": str},
    INVENTORY_UNAVAILABLE: {"skus": list},
    PAYMENT_CAPTURED: {"amount_cents": int, "customer": str},
    PAYMENT_FAILED: {"reason": str, "items": list},
    INVENTORY_RELEASED: {"items": list},
    ORDER_SHIPPED: {"carrier": str, "tracking": str},
}


def read_order_event(message: Message, *expected: str) -> tuple[Event, dict[str, Any]]:
    """The order event a subscription delivered, checked: (event, data with an order_id).

    A wrong type or shape is a PermanentError naming the fields, never a KeyError three calls later.
    """
    event = message.event()
    if expected and event.type not in expected:
        raise PermanentError(f"expected {' or '.join(expected)}, got {event.type!r} (event {event.id})")
    data = event.json()
    if not isinstance(data, Mapping) or not isinstance(data.get("order_id"), str):
        raise PermanentError(f"{event.type} {event.id}: data must be an object with an order_id")
    wrong = [f"{name} ({kind.__name__})" for name, kind in ORDER_FIELDS.get(event.type, {}).items()
             if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool)]
    items = data.get("items", [])
    if isinstance(items, list) and not all(isinstance(i, Mapping) and isinstance(i.get("sku"), str)
                                           and type(i.get("qty")) is int for i in items):
        wrong.append("items[] ({sku: str, qty: int})")
    if wrong:
        raise PermanentError(f"{event.type} {event.id}: bad or missing data fields {wrong}")
    return event, dict(data)
