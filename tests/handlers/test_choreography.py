"""Pattern 4, choreography: OrderPlaced -> InventoryReserved -> PaymentCaptured -> OrderShipped,
and the compensation PaymentFailed -> InventoryReleased. No orchestrator: each step reacts."""

from __future__ import annotations

import json

import pytest

import handlers.app as declared
from tests.handlers.conftest import place

HAPPY = ["OrderPlaced", "InventoryReserved", "PaymentCaptured", "OrderShipped"]


def types(cloud) -> list[str]:
    return [e.type for e in cloud.events_published("orders")]


def logged(cloud, order_id: str) -> list[str]:
    return [r["type"] for r in cloud.table("order-log").query(order_id)]


def test_a_paid_order_flows_through_every_step(cloud):
    order_id = place(cloud, [{"sku": "leash", "qty": 2}, {"sku": "kibble-5kg", "qty": 1}])
    assert types(cloud) == ["OrderPlaced"]  # the API only starts it
    cloud.run_until_idle()
    assert types(cloud) == HAPPY and logged(cloud, order_id) == HAPPY
    assert cloud.http("GET", f"/orders/{order_id}").json()["status"] == "shipped"
    [payment] = cloud.items("payments")
    assert payment["status"] == "captured" and payment["amount_cents"] == 2 * 1_299 + 2_499
    assert cloud.items("shipments")[0]["tracking"].startswith("PS")
    held = {r["sku"]: (r["qty"], r["status"]) for r in cloud.items("reservations")}
    assert held == {"leash": (2, "held"), "kibble-5kg": (1, "held")}
    assert all(e.subject == order_id and e.id == f"{order_id}/{e.type}" for e in cloud.events_published("orders"))


def test_a_failed_payment_releases_the_reservation(cloud):
    order_id = place(cloud, [{"sku": "dog-bed", "qty": 1}], token="tok_declined")
    cloud.run_until_idle()
    assert logged(cloud, order_id) == ["OrderPlaced", "InventoryReserved", "PaymentFailed", "InventoryReleased"]
    order = cloud.http("GET", f"/orders/{order_id}").json()
    assert order["status"] == "cancelled" and order["reason"] == "payment failed: card declined"
    assert cloud.items("reservations")[0]["status"] == "released"
    assert cloud.items("shipments") == [] and cloud.invocations("ship-order") == []


def test_released_stock_can_be_sold_again(cloud):
    place(cloud, [{"sku": "agility-set", "qty": 3}], token="tok_insufficient_funds")
    cloud.run_until_idle()
    order_id = place(cloud, [{"sku": "agility-set", "qty": 3}])
    cloud.run_until_idle()
    assert cloud.http("GET", f"/orders/{order_id}").json()["status"] == "shipped"


def test_an_order_beyond_the_stock_is_rejected_and_never_charged(cloud):
    first = place(cloud, [{"sku": "agility-set", "qty": 2}])
    cloud.run_until_idle()
    second = place(cloud, [{"sku": "agility-set", "qty": 2}, {"sku": "leash", "qty": 1}])
    cloud.run_until_idle()
    assert logged(cloud, second) == ["OrderPlaced", "InventoryUnavailable"]
    order = cloud.http("GET", f"/orders/{second}").json()
    assert order["status"] == "rejected" and order["reason"] == "out of stock: agility-set"
    assert [p["order_id"] for p in cloud.items("payments")] == [first]
    assert {r["order_id"] for r in cloud.items("reservations")} == {first}


def test_over_the_card_limit_fails_the_payment(cloud):
    order_id = place(cloud, [{"sku": "agility-set", "qty": 3}, {"sku": "gps-collar", "qty": 10},
                             {"sku": "dog-bed", "qty": 20}, {"sku": "kibble-5kg", "qty": 30}])
    cloud.run_until_idle()
    assert "over the card limit" in cloud.http("GET", f"/orders/{order_id}").json()["reason"]


def test_duplicate_deliveries_everywhere_still_give_one_of_each_effect(cloud):
    cloud.inject(duplicates=1)
    order_id = place(cloud, [{"sku": "leash", "qty": 1}])
    cloud.run_until_idle()
    assert logged(cloud, order_id) == HAPPY
    assert types(cloud) == HAPPY  # each event published once: a duplicate finds its decision in the log
    assert len(cloud.invocations("capture-payment")) == 2 and len(cloud.items("payments")) == 1
    assert len(cloud.items("shipments")) == 1 and len(cloud.items("reservations")) == 1


def test_reordered_deliveries_reach_the_same_end(cloud):
    cloud.inject(reorder=True)
    ids = [place(cloud, [{"sku": "leash", "qty": 1}], customer=f"c{i}@example.com") for i in range(5)]
    cloud.run_until_idle()
    assert {cloud.http("GET", f"/orders/{i}").json()["status"] for i in ids} == {"shipped"}
    assert all(logged(cloud, i) == HAPPY for i in ids)


def test_a_step_that_fails_transiently_is_retried_and_charges_once(cloud):
    cloud.fail_next("capture-payment", times=2)
    order_id = place(cloud)
    cloud.run_until_idle()
    assert [o.attempt for o in cloud.invocations("capture-payment")] == [1, 2, 3]
    assert logged(cloud, order_id) == HAPPY and len(cloud.items("payments")) == 1


def test_a_crash_between_charging_and_logging_does_not_charge_twice(cloud, monkeypatch):
    import handlers.payments as payments
    real = payments.emit
    calls = []

    def crash_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("lost the connection to the log after charging")
        return real(*args, **kwargs)

    monkeypatch.setattr(payments, "emit", crash_once)
    order_id = place(cloud)
    cloud.run_until_idle()
    assert logged(cloud, order_id) == HAPPY and len(cloud.items("payments")) == 1


def test_a_crash_between_appending_and_publishing_republishes_on_retry(cloud, monkeypatch):
    real = type(declared.orders).publish
    failures = []

    def flaky(self, message, attributes=None, ordering_key=None):
        kind = getattr(message, "type", None) or (attributes or {}).get("ce-type")  # an Event, or the outbox's bytes
        if kind == "InventoryReserved" and not failures:
            failures.append(1)
            raise ConnectionError("the broker hung up")
        return real(self, message, attributes, ordering_key)

    monkeypatch.setattr(type(declared.orders), "publish", flaky)
    order_id = place(cloud)
    cloud.run_until_idle()
    assert failures and logged(cloud, order_id) == HAPPY  # appended once, not twice
    assert types(cloud) == HAPPY  # and published once it could be
    assert all(r["published"] for r in cloud.table("order-log").query(order_id))


def test_idempotency_key_makes_a_retried_post_place_one_order(cloud):
    first = place(cloud, headers={"Idempotency-Key": "cart-42"})
    again = place(cloud, headers={"Idempotency-Key": "cart-42"})
    other = place(cloud, headers={"Idempotency-Key": "cart-43"})
    assert first == again != other
    assert len(cloud.items("order-index")) == 2
    assert place(cloud) != place(cloud)  # without a key every POST is a new order


def test_the_same_key_from_two_customers_places_two_orders(cloud):
    ann = place(cloud, customer="ann@example.com", headers={"Idempotency-Key": "1"})
    bo = place(cloud, customer="bo@example.com", headers={"Idempotency-Key": "1"})
    assert ann != bo


def test_a_retry_after_a_crash_before_publishing_continues_the_same_order(cloud, monkeypatch):
    real = type(declared.orders).publish

    def down(self, *args, **kwargs):
        raise ConnectionError("the broker is down")

    monkeypatch.setattr(type(declared.orders), "publish", down)
    reply = cloud.http("POST", "/orders", json={"customer": "a@b.co", "payment_token": "t",
                                                "items": [{"sku": "leash"}]}, headers={"Idempotency-Key": "k1"})
    assert reply.status == 500 and cloud.items("order-log")[0]["published"] is False
    monkeypatch.setattr(type(declared.orders), "publish", real)
    order_id = place(cloud, customer="a@b.co", token="t", headers={"Idempotency-Key": "k1"})
    cloud.run_until_idle()
    assert [r["order_id"] for r in cloud.items("order-index")] == [order_id]
    assert logged(cloud, order_id) == HAPPY and types(cloud) == HAPPY


def test_a_post_with_a_key_still_in_progress_is_a_409(cloud):
    from handlers.orders import _request_key
    from portside import HttpRequest

    body = {"customer": "a@b.co", "payment_token": "t", "items": [{"sku": "leash"}]}
    probe = HttpRequest("r", "POST", "/orders", {"idempotency-key": "busy"}, body=json.dumps(body))
    cloud.table("idempotency").put({"id": f"place-order#{_request_key(probe)}", "status": "in_progress",
                                    "expires_at": 2_000_000_000})
    reply = cloud.http("POST", "/orders", json=body, headers={"Idempotency-Key": "busy"})
    assert reply.status == 409 and "still being processed" in reply.json()["error"]


@pytest.mark.parametrize("body, says", [
    ({"payment_token": "t", "items": [{"sku": "leash"}]}, "customer"),
    ({"customer": "a@b.co", "items": [{"sku": "leash"}]}, "payment_token"),
    ({"customer": "a@b.co", "payment_token": "t", "items": []}, "items must be a list"),
    ({"customer": "a@b.co", "payment_token": "t", "items": [{"sku": "cat"}]}, "unknown sku 'cat'"),
    ({"customer": "a@b.co", "payment_token": "t", "items": [{"sku": "leash", "qty": 0}]}, "qty of leash"),
    ({"customer": "a@b.co", "payment_token": "t", "items": [{"sku": "leash", "qty": "2"}]}, "qty of leash"),
    ({"customer": "a@b.co", "payment_token": "t", "items": [{"sku": "leash", "qty": 60}] * 2}, "at most 100"),
    ({"customer": "a@b.co", "payment_token": "t", "items": ["leash"]}, "unknown sku None"),
])
def test_invalid_orders_are_refused_and_nothing_happens(cloud, body, says):
    reply = cloud.http("POST", "/orders", json=body)
    assert reply.status == 422 and says in reply.json()["error"], reply.body
    assert cloud.published("orders") == [] and cloud.items("order-log") == []


def test_a_bad_idempotency_key_or_body_is_a_400(cloud):
    assert cloud.http("POST", "/orders", json={}, headers={"Idempotency-Key": "k" * 201}).status == 400
    assert cloud.http("POST", "/orders", body=b"{").status == 400


def test_a_malformed_order_event_goes_to_the_dead_letter(cloud):
    from portside import Event
    cloud.publish("orders", Event(type="OrderPlaced", source="/test", data={"no": "order id"}))
    cloud.run_until_idle()
    assert {d.function for d in cloud.dead_letters()} == {"reserve-inventory", "project-order"}
    assert all(d.attempts == 1 and "order_id" in d.error for d in cloud.dead_letters())


@pytest.mark.parametrize("type_, data, says", [
    ("OrderPlaced", {"order_id": "o1", "customer": "a@b.co", "items": [{"sku": "leash"}], "total_cents": 1,
                     "payment_token": "t"}, "items[]"),
    ("InventoryReserved", {"order_id": "o1", "customer": "a@b.co", "items": [], "total_cents": "12",
                           "payment_token": "t"}, "total_cents (int)"),
    ("PaymentFailed", {"order_id": "o1"}, "reason (str)"),
    ("PaymentCaptured", {"order_id": "o1", "amount_cents": True, "customer": "a@b.co"}, "amount_cents (int)"),
])
def test_an_order_event_of_the_wrong_shape_is_dead_lettered_with_the_fields_named(cloud, type_, data, says):
    from portside import Event
    cloud.publish("orders", Event(type=type_, source="/test", subject="o1", data=data),
                  attributes={"amount-band": "large"})
    cloud.run_until_idle()
    dead = cloud.dead_letters()
    assert dead and all(d.attempts == 1 and d.error_type == "PermanentError" and says in d.error for d in dead), \
        [(d.function, d.error) for d in dead]


def test_an_order_whose_placing_died_before_publishing_still_ships(cloud, monkeypatch):
    """POST /orders has no redelivery: before the outbox, such an order stayed "placed" for ever."""
    real = type(declared.orders).publish

    def broker_down(self, message, attributes=None, ordering_key=None):
        raise ConnectionError("the process died here")

    monkeypatch.setattr(type(declared.orders), "publish", broker_down)
    reply = cloud.http("POST", "/orders", json={"customer": "ann@example.com", "payment_token": "tok_visa",
                                                "items": [{"sku": "leash", "qty": 1}]})
    assert reply.status == 500
    monkeypatch.setattr(type(declared.orders), "publish", real)
    [row] = cloud.items("order-log")
    assert row["type"] == "OrderPlaced" and not row["published"]
    cloud.run_until_idle()
    cloud.clock += declared.order_outbox.grace
    cloud.tick("order-outbox-relay")
    cloud.run_until_idle()
    assert logged(cloud, row["order_id"]) == HAPPY
    assert cloud.items("order-outbox") == []
