"""The test client (portside.testing.TestClient), the same on the fake cloud and the local runtime:
each test runs on both, acting through the app's handles or names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from portside import DeclarationError, Event
from portside.testing import TestClient
from tests.contract import client_app as c


@pytest.fixture(params=["fake", "local"])
def cloud(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    if request.param == "fake":
        from portside.fake import FakeCloud

        yield FakeCloud(c.app)
        return
    from portside.local import LocalCloud

    with LocalCloud(c.app, tmp_path / "data", workers=4) as local:
        yield local


def ids(cloud: TestClient, prefix: str) -> list[str]:
    return sorted(i["id"] for i in cloud.items(c.log) if i["id"].startswith(prefix))


def test_handles_and_names_name_the_same_things(cloud: TestClient) -> None:
    cloud.upload(c.inbox, "a.txt", "hello")
    cloud.upload("inbox", "b.txt", b"bytes")
    outcomes = cloud.run_until_idle()
    assert len(outcomes) == 2 and all(o.ok for o in outcomes)
    assert cloud.objects(c.inbox) == cloud.objects("inbox") == {"a.txt": b"hello", "b.txt": b"bytes"}
    assert ids(cloud, "upload:") == ["upload:a.txt", "upload:b.txt"]
    assert [o.event.key for o in cloud.invocations(c.copy)] == [o.event.key for o in cloud.invocations("on-upload")]
    assert sorted(o.event.key for o in cloud.invocations(c.copy)) == ["a.txt", "b.txt"]


def test_a_resource_of_the_wrong_kind_is_one_error_everywhere(cloud: TestClient) -> None:
    """Before: TypeError on the fake, LocalError locally."""
    with pytest.raises(DeclarationError, match="'inbox' is a bucket, not a queue"):
        cloud.send("inbox", {"n": 1})
    with pytest.raises(DeclarationError, match="has no resource 'nope'"):
        cloud.upload("nope", "k", b"x")
    with pytest.raises(DeclarationError, match="has no function 'nope'"):
        cloud.invocations("nope")


def test_tick_says_how_many_functions_it_reached(cloud: TestClient) -> None:
    """Before: None on the fake, an int locally."""
    assert cloud.tick(c.daily) == 1
    cloud.run_until_idle()
    assert ids(cloud, "tick:") == ["tick:daily"]


def test_send_publish_and_what_was_sent_and_published(cloud: TestClient) -> None:
    mid = cloud.send(c.jobs, {"n": 1}, {"origin": "test"})
    cloud.publish(c.news, Event(type="note.added", source="/test", data={"k": 1}))
    cloud.run_until_idle()
    [sent] = cloud.sent(c.jobs)
    assert (sent.id, sent.json(), sent.attributes["origin"]) == (mid, {"n": 1}, "test")
    assert [m.event().type for m in cloud.published(c.news)[:1]] == ["note.added"]
    assert [m.json() for m in cloud.published("news")[1:]] == [{"done": 1}]  # the handler's own publish
    assert sorted(i["type"] for i in cloud.items(c.log) if i["id"].startswith("audit:")) == ["job.done", "note.added"]


def test_http_answers_routes_404_and_405(cloud: TestClient) -> None:
    assert cloud.http("GET", "/hello/ada").json() == {"hello": "ada"}
    assert cloud.http("GET", "/nope").status == 404
    assert cloud.http("POST", "/hello/ada").status == 405


def test_failures_injected_are_retried_and_poison_is_dead_lettered(cloud: TestClient) -> None:
    cloud.fail_next(c.work, times=2)
    cloud.send(c.jobs, {"n": 1})
    cloud.run_until_idle()
    assert [o.ok for o in cloud.invocations(c.work)] == [False, False, True]
    assert [o.attempt for o in cloud.invocations(c.work)] == [1, 2, 3]
    cloud.send(c.jobs, {"n": 2, "poison": True})
    cloud.run_until_idle()
    [dead] = cloud.dead_letters(c.work)
    assert (dead.error_type, dead.attempts, dead.event.json()) == ("PermanentError", 1, {"n": 2, "poison": True})
    assert cloud.dead_letters("on-upload") == []


def test_duplicates_injected_deliver_every_event_again(cloud: TestClient) -> None:
    cloud.inject(duplicates=1)
    cloud.send(c.jobs, {"n": 7})
    cloud.run_until_idle()
    assert len(cloud.invocations(c.work)) == 2
    assert len(ids(cloud, "job:7:")) == 1  # the same message id twice: the handler's key holds


def test_fifo_groups_keep_their_order_despite_reordering_and_a_failure(cloud: TestClient) -> None:
    """SQS FIFO delivers a group in order and holds it behind a failed message; reordering injected
    on purpose reorders across groups only. Before: the fake and the local runtime ignored
    Queue(fifo=True), and inject(reorder=True) reordered a FIFO group."""
    cloud.inject(reorder=True)
    for n in range(8):
        cloud.send(c.ledger, {"n": n, "fail_once": n == 3}, ordering_key="acct-a")
        cloud.send(c.ledger, {"n": n}, ordering_key="acct-b")
    cloud.run_until_idle()
    for group in ("acct-a", "acct-b"):
        assert [i["value"] for i in cloud.table(c.groups).query(group)] == list(range(8))
    tried = [o.event.json()["n"] for o in cloud.invocations(c.record) if o.event.ordering_key == "acct-a"]
    assert tried == [0, 1, 2, 3, 3, 4, 5, 6, 7]  # 4-7 waited for 3's retry, unrun
