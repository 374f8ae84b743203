"""The GCP adapter on payloads other projects recorded (tests/gcp/events/README.md says where each
comes from): the functions-framework conformance CloudEvents and google-cloudevents' test data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from portside import Message, ObjectCreated, RecordChanged
from portside.gcp import Names, to_events
from tests.gcp import payloads as P

EVENTS = Path(__file__).parent / "events"
NAMES = Names.from_resources({"uploads": "some-bucket", "orders": "projects/sample-project/topics/gcf-test"})


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def test_conformance_cloudevents() -> None:
    (obj,) = to_events(load("conformance/storage-cloudevent-input.json"), NAMES)
    assert type(obj) is ObjectCreated and (obj.bucket, obj.key, obj.size, obj.version, obj.content_type) == \
        ("uploads", "folder/Test.cs", 352, "1587627537231057", "text/plain")
    (text,) = to_events(load("conformance/pubsub_text-cloudevent-input.json"), NAMES)
    assert type(text) is Message and (text.source, text.body, dict(text.attributes)) == \
        ("orders", b"test message 3", {"attr1": "attr1-value"})
    (binary,) = to_events(load("conformance/pubsub_binary-cloudevent-input.json"), NAMES)
    assert binary.body == b"\x01\x02\x03\x04" and binary.id == "aaaaaa-1111-bbbb-2222-cccccccccccc"
    (doc,) = to_events(load("conformance/firestore_complex-cloudevent-input.json"), Names())
    assert type(doc) is RecordChanged and (doc.table, doc.kind, doc.old) == ("gcf-test", "created", None)
    assert doc.key == {"id": "IH75dRdeYJKd4uuQiqch"} and doc.new["arrayValue"] == [1, 2]
    assert doc.new["timestampValue"] == "2020-04-23T14:23:53.241000Z" and doc.new["geoPointValue"]["latitude"] == 51.4543


def test_google_cloudevents_data_inside_our_envelopes() -> None:
    """Their data objects, as the CloudEvent (or push body) Google wraps them in would carry them."""
    (pushed,) = to_events(load("google-cloudevents/MessagePublishedData-duplicatedFields.json"),
                          Names(source="orders"))
    assert (pushed.id, pushed.body, pushed.source) == ("message-id", b"\x01\x02\x03\x04", "orders")
    (changed,) = to_events(P.firestore_event("updated", data=load("google-cloudevents/DocumentEventData-simple.json"),
                                             document="gcf-test/2Vm2mI1d0wIaK2Waj5to"), NAMES)
    assert (changed.old["count"], changed.new["count"], changed.new["another test"]) == (3, 4, "asd")
    stored = load("google-cloudevents/StorageObjectData-complex.json")
    (obj,) = to_events(P.storage_event(data=stored, subject="objects/MyFile"), Names.from_resources({"files": "sample-bucket"}))
    assert (obj.bucket, obj.key, obj.size, obj.version, obj.etag) == ("files", "MyFile", 0, "96883251", "COu8mb3Dn+kCEAE=")
