"""The idempotency helper: once per key, in-progress state, expiry, failure releases the key."""

from __future__ import annotations

import pytest

from portside import App, DeclarationError, InProgress, Message, idempotent
from portside.fake import FakeCloud

app = App("idem-test", clouds="aws")  # max_attempts=3 below is outside Pub/Sub's 5-100
jobs = app.queue("jobs")
effects = app.table("effects")
keys = app.table("keys", ttl="ttl")
app.function("tests.core.test_idempotency:apply", trigger=jobs.on_message(max_attempts=3),
             uses=[effects.read_write, keys.read_write])

calls: list[str] = []


@idempotent(keys, key=lambda m: m.json()["order"], expires_after=60)
def apply(message: Message) -> str:
    order = message.json()["order"]
    calls.append(order)
    if message.json().get("fail") and message.attempt == 1:
        raise RuntimeError("first attempt fails")
    row = effects.get("total") or {"id": "total", "n": 0}
    effects.put({**row, "n": row["n"] + 1})
    return f"applied {order}"


@pytest.fixture
def cloud() -> FakeCloud:
    calls.clear()
    return FakeCloud(app)


def total(cloud: FakeCloud) -> int:
    return {i["id"]: i for i in cloud.items("effects")}.get("total", {"n": 0})["n"]


def test_same_key_applies_once_and_records_completion(cloud: FakeCloud) -> None:
    for _ in range(3):
        cloud.send("jobs", {"order": "o1"})
    cloud.run_until_idle()
    assert total(cloud) == 1 and calls == ["o1"]
    [record] = cloud.items("keys")
    assert record["id"] == "apply#o1" and record["status"] == "completed" and record["result"] == "applied o1"
    assert record["ttl"] == int(cloud.now().timestamp()) + 60


def test_failure_releases_the_key_so_the_retry_runs(cloud: FakeCloud) -> None:
    cloud.send("jobs", {"order": "o2", "fail": True})
    cloud.run_until_idle()
    assert calls == ["o2", "o2"] and total(cloud) == 1
    assert cloud.dead_letters() == []


def test_in_progress_duplicate_is_retried_later(cloud: FakeCloud) -> None:
    cloud.table("keys").put({"id": "apply#o3", "status": "in_progress", "ttl": int(cloud.now().timestamp()) + 300})
    cloud.send("jobs", {"order": "o3"})
    cloud.run_until_idle()
    outcomes = cloud.invocations("apply")
    assert isinstance(outcomes[0].error, InProgress)
    assert [o.ok for o in outcomes] == [False, False, False]  # still held: 10 s + 20 s < the 300 s lease
    [dead] = cloud.dead_letters()
    assert dead.error_type == "InProgress"


def test_expired_record_is_taken_over(cloud: FakeCloud) -> None:
    cloud.table("keys").put({"id": "apply#o4", "status": "completed", "ttl": int(cloud.now().timestamp()) - 1})
    cloud.send("jobs", {"order": "o4"})
    cloud.run_until_idle()
    assert calls == ["o4"] and total(cloud) == 1


def test_tables_with_sort_keys_are_refused() -> None:
    with pytest.raises(DeclarationError, match="must have no sort key"):
        idempotent(App("x-test").table("keyed", sort_key="sk"))
