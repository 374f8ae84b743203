"""The outbox over the GCP ports (Firestore and Pub/Sub emulators): a handler records, dies before
publishing; the relay reads the pending entry from Firestore and publishes it on Pub/Sub."""

from __future__ import annotations

import json

import pytest

from portside import HttpRequest, Tick
from portside.delivery import invoke
from portside.events import Event
from portside.gcp.ports import GcpTarget
from tests.core import outbox_app
from tests.gcp.conftest import PROJECT


def test_the_relay_publishes_what_a_dead_handler_recorded(firestore_emulator: str, pubsub, unique: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    topic = pubsub.topic(f"news-{unique}")
    subscription = pubsub.pull_subscription(topic, f"news-note-{unique}")
    target = GcpTarget({"news": f"news-{unique}", "facts": f"facts-{unique}", "outbox": f"outbox-{unique}",
                        "seen": f"seen-{unique}"}, PROJECT)
    app = outbox_app.app
    monkeypatch.setattr(outbox_app, "broken", ["after-record"])
    outcome = invoke(app.get_function("record"), target, HttpRequest("r1", "POST", "/facts", body=b'{"id": "f1"}'))
    assert isinstance(outcome.error, ConnectionError)  # recorded, then died
    [entry] = target.port(outbox_app.outbox.table).query("pending", None)
    assert entry["proof"] == {"table": "facts", "key": {"id": "f1"}, "match": {"event_id": "ev-f1"}}

    monkeypatch.setattr(outbox_app.outbox, "grace", 0)  # the handler's time is long past
    relayed = invoke(app.get_function("outbox-relay"), target, Tick("t1", "outbox-relay"))
    assert relayed.result == {"published": 1, "dropped": 0, "waiting": 0}
    [message] = pubsub.pull(subscription)
    event = Event.from_dict(json.loads(message.data))
    assert message.attributes["ce-type"] == "fact.recorded" and (event.id, event.data) == ("ev-f1", {"id": "f1"})
    assert target.port(outbox_app.outbox.table).query("pending", None) == []
