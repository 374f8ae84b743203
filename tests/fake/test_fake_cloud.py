"""The fake cloud behaves like the real ones where handlers can tell (issue 2's must-be-trues)."""

from __future__ import annotations

import json

import pytest

from portside import Event
from portside.fake import FakeCloud
from tests.fake.sample import app


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud(app)


def test_object_trigger_honours_prefix_and_suffix(cloud: FakeCloud) -> None:
    cloud.upload("inbox", "in/a.txt", "hello")
    cloud.upload("inbox", "in/b.csv", "skip me")
    cloud.upload("inbox", "elsewhere/c.txt", "skip me too")
    cloud.run_until_idle()
    assert cloud.objects("outbox") == {"out/a.txt": b"HELLO"}
    assert [o.event.key for o in cloud.invocations("copy-text")] == ["in/a.txt"]


def test_retry_with_backoff_then_dead_letter_keeps_the_error(cloud: FakeCloud) -> None:
    cloud.send("work", {"n": 1, "fail_until": 99})
    cloud.run_until_idle()
    attempts = [o.attempt for o in cloud.invocations("work-item")]
    assert attempts == [1, 2, 3]  # max_attempts=3
    assert cloud.clock == 5 + 10  # Backoff(5, 60): 5 s, then 10 s, on the virtual clock
    [dead] = cloud.dead_letters("work-item")
    assert dead.error_type == "RuntimeError"
    assert dead.error == "job 1 failed on attempt 3"
    assert dead.attempts == 3
    assert dead.event.json() == {"n": 1, "fail_until": 99}  # intact
    assert cloud.items("ledger") == []


def test_permanent_error_goes_straight_to_dead_letter(cloud: FakeCloud) -> None:
    cloud.upload("inbox", "in/bad.txt", "poison pill")
    cloud.run_until_idle()
    assert len(cloud.invocations("copy-text")) == 1
    [dead] = cloud.dead_letters("copy-text")
    assert (dead.error_type, dead.attempts) == ("PermanentError", 1)
    assert "in/bad.txt is poison" in dead.error


def test_batch_of_ten_with_three_failures_retries_exactly_those_three(cloud: FakeCloud) -> None:
    failing = {2, 5, 7}
    for n in range(10):
        cloud.send("work", {"n": n, "fail_until": 1 if n in failing else 0})
    cloud.run_until_idle()
    calls = cloud.invocations("work-item")
    assert len(calls) == 13
    retried = sorted(o.event.json()["n"] for o in calls if o.attempt == 2)
    assert retried == sorted(failing)
    ledger = {i["id"]: i["attempt"] for i in cloud.items("ledger")}
    assert ledger == {f"job-{n}": (2 if n in failing else 1) for n in range(10)}
    assert cloud.dead_letters() == []


def test_duplicates_with_the_idempotency_helper_apply_once(cloud: FakeCloud) -> None:
    cloud.inject(duplicates=2)
    cloud.publish("news", Event(type="Counted", source="/test", data={"by": 5}))
    cloud.run_until_idle()
    assert len(cloud.invocations("count-once")) == 3
    assert {i["id"]: i for i in cloud.items("ledger")}["counter"]["n"] == 5


def test_fan_out_reaches_every_matching_subscriber_and_no_other(cloud: FakeCloud) -> None:
    cloud.publish("news", Event(type="Counted", source="/t", data={"by": 1}), {"size": "big"})
    cloud.publish("news", Event(type="Counted", source="/t", data={"by": 1}), {"size": "small"})
    cloud.publish("news", Event(type="Other", source="/t", data={}), {"size": "big"})
    cloud.run_until_idle()
    assert len(cloud.invocations("count-once")) == 2
    assert len(cloud.invocations("audit-all")) == 3
    [big] = cloud.invocations("big-only")
    assert big.event.attributes["size"] == "big" and big.event.event().type == "Counted"


def test_undeclared_write_fails_naming_resource_and_permission(cloud: FakeCloud) -> None:
    cloud.upload("inbox", "sneaky/x", "data")
    cloud.run_until_idle()
    [dead] = cloud.dead_letters("sneaky")
    assert dead.error_type == "PermissionDenied"
    assert "may not write bucket 'outbox'" in dead.error and "outbox.writer" in dead.error
    assert cloud.objects("outbox") == {}


def test_http_route_with_path_params_publishes_with_trace_context(cloud: FakeCloud) -> None:
    response = cloud.http("GET", "/hello/ada", headers={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"})
    assert (response.status, response.json()) == (200, {"hello": "ada"})
    [message] = cloud.published("news")
    assert message.attributes["traceparent"].startswith("00-" + "a" * 32)  # same trace, new span
    assert message.event().extensions["traceparent"] == message.attributes["traceparent"]
    assert message.attributes["correlationid"] == cloud.invocations("hello")[0].event.id


def test_http_unknown_route_and_wrong_method(cloud: FakeCloud) -> None:
    assert cloud.http("GET", "/nope").status == 404
    assert cloud.http("POST", "/hello/ada").status == 405


def test_http_handler_returning_an_unsupported_type_is_a_clear_500(cloud: FakeCloud) -> None:
    response = cloud.http("GET", "/bad")
    assert response.status == 500
    [outcome] = cloud.invocations("bad-return")
    assert isinstance(outcome.error, TypeError)
    assert "returned set" in str(outcome.error)


def test_schedules_fire_on_demand(cloud: FakeCloud) -> None:
    cloud.tick("nightly")
    cloud.run_until_idle()
    assert cloud.objects("outbox") == {"reports/2026-01-01.txt": b"report for nightly"}


def test_fail_next_injects_failures_that_are_retried(cloud: FakeCloud) -> None:
    cloud.fail_next("work-item", times=2)
    cloud.send("work", {"n": 1})
    cloud.run_until_idle()
    assert [o.ok for o in cloud.invocations("work-item")] == [False, False, True]
    assert cloud.items("ledger") == [{"id": "job-1", "attempt": 3}]


def test_reorder_delivers_all_in_a_different_order() -> None:
    orders = []
    for seed in (1, 2):
        cloud = FakeCloud(app, seed=seed)
        cloud.inject(reorder=True)
        for n in range(8):
            cloud.upload("inbox", f"in/{n}.txt", str(n))
        cloud.run_until_idle()
        orders.append([o.event.key for o in cloud.invocations("copy-text")])
        assert len(cloud.objects("outbox")) == 8
    assert sorted(orders[0]) == sorted(orders[1]) and orders[0] != orders[1]


def test_runaway_loops_are_reported_not_hung(cloud: FakeCloud) -> None:
    for n in range(5):
        cloud.send("work", {"n": n, "fail_until": 99})
    with pytest.raises(RuntimeError, match="not idle after 3 deliveries"):
        cloud.run_until_idle(max_deliveries=3)


def test_messages_bigger_than_every_cloud_accepts_are_refused(cloud: FakeCloud) -> None:
    from portside import PayloadTooLarge

    with pytest.raises(PayloadTooLarge, match="over the 1048576-byte limit on aws"):  # SQS: 1 MiB
        cloud.send("work", {"blob": "x" * 1_100_000})
    with pytest.raises(PayloadTooLarge, match="over the 262144-byte limit on aws"):  # SNS: 256 KiB
        cloud.publish("news", {"blob": "x" * 300_000})
    assert cloud.sent("work") == [] and cloud.published("news") == []


def test_table_items_must_be_json_types(cloud: FakeCloud) -> None:
    from datetime import datetime

    with pytest.raises(TypeError, match="only JSON types"):
        cloud.table("ledger").put({"id": "x", "when": datetime.now()})
    assert json.dumps(cloud.items("ledger")) == "[]"
