"""The transactional outbox: what a handler recorded is published, even if it died in between."""

from __future__ import annotations

import pytest

from portside import App, DeclarationError
from portside.fake import FakeCloud
from portside.outbox import Outbox
from tests.core.outbox_app import app, broken


@pytest.fixture
def cloud() -> FakeCloud:
    broken.clear()
    return FakeCloud(app)


def post(cloud: FakeCloud, fact_id: str) -> int:
    return cloud.http("POST", "/facts", json={"id": fact_id}).status


def relay(cloud: FakeCloud, after: float) -> dict[str, int]:
    cloud.clock += after
    cloud.tick("outbox-relay")
    [outcome] = [o for o in cloud.run_until_idle() if o.event.__class__.__name__ == "Tick"]
    return outcome.result


def test_a_recorded_event_is_published_and_its_entry_removed(cloud: FakeCloud) -> None:
    assert post(cloud, "f1") == 202
    cloud.run_until_idle()
    assert [i["id"] for i in cloud.items("seen")] == ["ev-f1"]
    assert cloud.items("outbox") == []


def test_a_cancelled_message_is_neither_published_nor_left_behind(cloud: FakeCloud) -> None:
    assert post(cloud, "f7") == 202
    assert post(cloud, "f7") == 200  # a duplicate: the block cancels what it staged
    cloud.run_until_idle()
    assert [i["id"] for i in cloud.items("seen")] == ["ev-f7"] and cloud.items("outbox") == []


def test_an_event_recorded_by_a_handler_that_died_before_publishing_is_published_by_the_relay(
        cloud: FakeCloud) -> None:
    broken.append("after-record")
    assert post(cloud, "f2") == 500  # recorded, then the handler died: no retry for an HTTP call
    cloud.run_until_idle()
    assert cloud.items("facts") and cloud.items("seen") == [] and len(cloud.items("outbox")) == 1
    assert relay(cloud, after=10) == {"published": 0, "dropped": 0, "waiting": 1}  # it may still be running
    assert relay(cloud, after=60) == {"published": 1, "dropped": 0, "waiting": 0}
    assert [i["id"] for i in cloud.items("seen")] == ["ev-f2"] and cloud.items("outbox") == []
    [published] = cloud.events_published("news")
    assert published.type == "fact.recorded" and published.data == {"id": "f2"}


def test_nothing_is_published_for_a_record_never_made(cloud: FakeCloud) -> None:
    broken.append("before-record")
    assert post(cloud, "f3") == 500
    assert cloud.items("outbox") == []  # discarded at once: the proof does not hold
    assert relay(cloud, after=120) == {"published": 0, "dropped": 0, "waiting": 0}
    assert cloud.published("news") == []


def test_an_entry_a_dead_handler_left_before_recording_is_dropped_after_the_grace(cloud: FakeCloud) -> None:
    cloud.table("outbox").put({"box": "pending", "id": "000000000000000-x", "topic": "news", "body": "e30=",
                               "attributes": {}, "staged": 0.0,
                               "proof": {"table": "facts", "key": {"id": "f4"}, "match": {"event_id": "ev-f4"}}})
    cloud.table("facts").put({"id": "f4", "event_id": "someone-else"})  # lost the race to record
    assert relay(cloud, after=61) == {"published": 0, "dropped": 1, "waiting": 0}
    assert cloud.published("news") == [] and cloud.items("outbox") == []


def test_without_a_proof_a_failed_block_discards_its_message(cloud: FakeCloud) -> None:
    broken.extend(["no-proof", "after-record"])
    assert post(cloud, "f5") == 500
    assert cloud.items("outbox") == [] and cloud.published("news") == []


def test_a_topic_the_outbox_was_not_declared_with_is_refused(cloud: FakeCloud) -> None:
    broken.append("wrong-topic")
    assert post(cloud, "f6") == 500
    [outcome] = cloud.invocations("record")
    assert isinstance(outcome.error, DeclarationError) and "add it to topics=" in str(outcome.error)
    with pytest.raises(DeclarationError, match="needs the topics"):
        Outbox(App("other-app"), topics=[])
