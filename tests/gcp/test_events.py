"""to_events on the payloads Google sends: every normalized event, and every way to be malformed."""

from __future__ import annotations

import base64
import copy
import json
from datetime import datetime, timezone

import pytest
from cloudevents.http import CloudEvent

from portside import Event, Message, ObjectCreated, ObjectDeleted, PermanentError, RecordChanged, Tick, UnsupportedEvent
from portside.gcp import Names, to_events
from portside.gcp.convert import tick_of
from tests.gcp import payloads as P

NAMES = Names.from_resources(P.RESOURCES, keys={"items": ("id",)})


def one(raw, names: Names = NAMES):
    events = to_events(raw, names)
    assert len(events) == 1
    return events[0]


def test_storage_finalized_structured_maps_physical_bucket_to_logical_and_keeps_the_key_as_is() -> None:
    e = one(P.storage_event())
    assert type(e) is ObjectCreated
    assert (e.bucket, e.key) == ("uploads", "photos/Screenshot 2026-11-22 at 9.21.22 PM.png")
    assert (e.size, e.etag, e.content_type, e.version) == (4154, "CKbVlsrwvYwDEAE=", "image/png", "1763846582769318")
    assert e.id == "14406128144428067"
    assert e.time == datetime(2026, 11, 22, 21, 43, 2, 791775, tzinfo=timezone.utc)


def test_storage_deleted_from_a_cloudevent_object_and_from_base64_data() -> None:
    ce = P.storage_event("deleted")
    data = ce.pop("data")
    attrs = {k: v for k, v in ce.items()}
    obj = CloudEvent(attrs, data)  # what functions-framework passes the CloudEvent function
    assert type(one(obj)) is ObjectDeleted
    raw = dict(ce, data_base64=base64.b64encode(json.dumps(data).encode()).decode())
    e = one(raw)
    assert type(e) is ObjectDeleted and e.key == data["name"] and e.bucket == "uploads"


def test_unknown_bucket_keeps_its_physical_name() -> None:
    e = one(P.storage_event(), Names())
    assert e.bucket == P.BUCKET


def test_push_body_becomes_a_message_with_attempt_ordering_key_and_publish_time() -> None:
    body = P.push_body(attempt=3, ordering_key="customer-7", attributes={"ce-type": "order.placed", "k": "v"})
    e = one(json.dumps(body).encode(), Names.from_resources(P.RESOURCES, source="orders"))
    assert type(e) is Message
    assert (e.id, e.source, e.attempt, e.ordering_key) == ("2070443601311540", "orders", 3, "customer-7")
    assert dict(e.attributes) == {"ce-type": "order.placed", "k": "v"}
    assert e.json() == {"order": "o-1", "total": 42}
    assert e.time == datetime(2026, 11, 22, 19, 13, 55, 749123, tzinfo=timezone.utc)


def test_push_body_without_delivery_attempt_is_attempt_one_and_names_the_subscription() -> None:
    e = one(P.push_body(attempt=None), Names())
    assert e.attempt == 1 and e.source == "gcpsample-dev-orders-on-order"


def test_message_published_cloudevent_maps_its_topic_path_to_the_logical_topic() -> None:
    e = one(P.message_published(data=b"hello", attributes={"a": "1"}))
    assert type(e) is Message and e.source == "orders" and e.body == b"hello" and dict(e.attributes) == {"a": "1"}


def test_scheduler_via_pubsub_is_a_tick_when_the_trigger_is_a_schedule() -> None:
    e = one(P.push_body(), Names(source="nightly", schedule=True))
    assert type(e) is Tick and (e.schedule, e.id) == ("nightly", "2070443601311540")


def test_scheduler_via_http_is_a_tick_with_an_id_stable_across_retries() -> None:
    a = tick_of(P.SCHEDULER_HEADERS, P.SCHEDULER_BODY, Names())
    b = tick_of({**P.SCHEDULER_HEADERS, "X-Cloud-Trace-Context": "other/2;o=1"}, P.SCHEDULER_BODY, Names())
    assert type(a) is Tick and a.schedule == "nightly" and a.id == b.id == "gcpsample-dev-on-tick@2026-11-22T03:00:00.118Z"
    assert a.time == datetime(2026, 11, 22, 3, 0, 0, 118000, tzinfo=timezone.utc)


def test_firestore_json_event_gives_plain_json_values() -> None:
    e = one(P.firestore_event("created"))
    assert type(e) is RecordChanged
    assert (e.table, e.kind, dict(e.key), e.old) == ("items", "created", {"id": "IH75dRdeYJKd4uuQiqch"}, None)
    assert e.new == {
        "arrayValue": [1, 2], "booleanValue": True, "doubleValue": 5.5,
        "geoPointValue": {"latitude": 51.4543, "longitude": -0.9781}, "intValue": 50,
        "mapValue": {"field1": "x", "field2": ["x", 1]}, "nullValue": None,
        "referenceValue": "projects/project-id/databases/(default)/documents/foo/bar/baz/qux",
        "stringValue": "text", "timestampValue": "2020-04-23T14:23:53.241000Z", "id": "IH75dRdeYJKd4uuQiqch"}
    json.dumps(e.new)  # nothing but JSON types


def test_firestore_protobuf_event_is_decoded_and_written_tells_its_kind() -> None:
    old = {"id": {"stringValue": "o-1"}, "n": {"integerValue": "1"}, "at": {"timestampValue": "2026-11-22T10:00:00Z"}}
    new = {"id": {"stringValue": "o-1"}, "n": {"integerValue": "2"}, "blob": {"bytesValue": base64.b64encode(b"\x00\x01").decode()}}
    data = P.firestore_protobuf(old, new, ["n"])
    e = one(CloudEvent({k: v for k, v in P.firestore_event("written", document="items/o-1",
                                                           content_type="application/protobuf").items() if k != "data"}, data))
    assert (e.kind, dict(e.key), e.table) == ("updated", {"id": "o-1"}, "items")
    assert e.old == {"id": "o-1", "n": 1, "at": "2026-11-22T10:00:00Z"}
    assert e.new == {"id": "o-1", "n": 2, "blob": "AAE="}
    deleted = one(CloudEvent({k: v for k, v in P.firestore_event("written", document="items/o-1").items() if k != "data"},
                             P.firestore_protobuf(old, None)))
    assert deleted.kind == "deleted" and deleted.new is None and deleted.old["n"] == 1


def test_any_other_cloudevent_is_an_event() -> None:
    raw = {"specversion": "1.0", "id": "a1", "type": "com.example.order.placed", "source": "//shop/orders",
           "time": "2026-11-22T10:00:00Z", "data": {"order": "o-1"}, "correlationid": "c-9"}
    e = one(raw)
    assert type(e) is Event and e.type == "com.example.order.placed" and e.data == {"order": "o-1"}
    assert e.extensions["correlationid"] == "c-9"
    binary = one(CloudEvent({"id": "a2", "type": "x.y", "source": "//s", "specversion": "1.0",
                             "datacontenttype": "application/octet-stream"}, b"\x00raw"))
    assert binary.data == b"\x00raw"


def _without(d: dict, *path: str) -> dict:
    d = copy.deepcopy(d)
    target = d
    for p in path[:-1]:
        target = target[p]
    del target[path[-1]]
    return d


MALFORMED = [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "cannot read a list"),
    ({"hello": "world"}, "not a CloudEvent or a Pub/Sub push body"),
    (_without(_without(P.push_body(), "message", "messageId"), "message", "message_id"), "no messageId"),
    ({"message": "hi", "subscription": "projects/p/subscriptions/s"}, "'message' must be an object"),
    (P.push_body(data=b"x") | {"message": {**P.pubsub_message(), "data": "%%%not-base64"}}, "not valid base64"),
    ({"message": {**P.pubsub_message(), "attributes": {"n": 1}}}, "attributes must map str to str"),
    ({"message": {**P.pubsub_message(), "publishTime": "yesterday"}}, "publishTime"),
    (_without(P.storage_event(), "id"), "missing ['id']"),
    (P.storage_event(data={"kind": "storage#object"}, subject=None), "bucket and name are missing"),
    (P.storage_event(data={**P.storage_object(), "size": "big"}), "size must be a number"),
    (P.storage_event(data=None) | {"data": "{oops"}, "data is not JSON"),
    (P.storage_event(time="last tuesday"), "time"),
    (P.firestore_event(data={"value": {"name": "x/documents/items/a", "fields": {"n": {"weirdValue": 1}}}}),
     "unknown Firestore Value type"),
    (P.firestore_event(document="", data={"value": {}}), "cannot tell which document"),
    (42, "cannot read a int"),
]


@pytest.mark.parametrize("raw, expected", MALFORMED, ids=[m[1] for m in MALFORMED])
def test_malformed_payloads_raise_unsupported_event_naming_the_problem(raw, expected: str) -> None:
    with pytest.raises(UnsupportedEvent) as info:
        to_events(raw, NAMES)
    assert expected in str(info.value)


def test_garbage_protobuf_is_unsupported_not_a_decode_error() -> None:
    attrs = {k: v for k, v in P.firestore_event().items() if k != "data"}
    with pytest.raises(UnsupportedEvent, match="not a Firestore DocumentEventData protobuf"):
        to_events(CloudEvent(attrs, b"\xff\xff\xff\x0f garbage"), NAMES)


def test_scheduler_call_without_a_schedule_name_is_unsupported() -> None:
    with pytest.raises(UnsupportedEvent, match="names no schedule"):
        tick_of({"X-CloudScheduler": "true"}, b"", Names())


JSON_EDGES = [b"", b" ", b"\n\t ", b"\x0b", b"\xc2\xa0", b" {}", b"x"]


@pytest.mark.parametrize("before, after", [(b, a) for b in (b"", b" ", b"\xef\xbb\xbf") for a in JSON_EDGES])
def test_the_fast_json_parse_accepts_and_refuses_exactly_what_json_loads_does(before: bytes, after: bytes) -> None:
    """Push bodies and Message.json() skip json.loads's Python layers; the verdict must not change."""
    text = before + json.dumps({"order": "o-1"}).encode() + after
    try:
        expected = json.loads(text)
    except ValueError:
        expected = None
    message = one(json.dumps({"message": P.pubsub_message(data=text)}).encode(), Names(source="orders"))
    push = before + json.dumps(P.push_body()).encode() + after
    if expected is None:
        with pytest.raises(PermanentError, match="not valid JSON"):
            message.json()
        with pytest.raises(UnsupportedEvent):
            to_events(push, Names(source="orders"))
    else:
        assert message.json() == expected
        assert one(push, Names(source="orders")).json() == {"order": "o-1", "total": 42}
    utf16 = json.dumps({"order": "o-1"}).encode("utf-16")
    assert one(json.dumps({"message": P.pubsub_message(data=utf16)}).encode(), Names(source="orders")).json() == {"order": "o-1"}


def test_a_protobuf_document_event_gives_the_same_plain_values_as_its_json_form() -> None:
    """Production's application/protobuf is read field by field (ten times cheaper than proto-plus
    and MessageToDict); every Value type must come out as the JSON form's does."""
    fields = {**P.FIRESTORE_COMPLEX["value"]["fields"], "raw": {"bytesValue": "AQIDBA=="},
              "when": {"timestampValue": "2026-11-22T20:01:02.123456Z"},
              "first": {"timestampValue": "0001-01-01T00:00:00Z"}, "last": {"timestampValue": "9999-12-31T23:59:59.999999Z"},
              "whole": {"timestampValue": "1969-12-31T23:59:59Z"}, "empty": {"stringValue": ""},
              "mixed": {"arrayValue": {"values": [{"stringValue": ""}, {"stringValue": "x"}, {"integerValue": "7"},
                                                  {"nullValue": None}]}}}
    old = {**fields, "booleanValue": {"booleanValue": False}}
    as_json = P.firestore_event("updated", document="items/o-1", data={
        "oldValue": {"name": "projects/p/databases/d/documents/items/o-1", "fields": old},
        "value": {"name": "projects/p/databases/d/documents/items/o-1", "fields": fields}})
    as_protobuf = dict(as_json, datacontenttype="application/protobuf", data=P.firestore_protobuf(old, fields))
    (a,), (b,) = to_events(as_json, NAMES), to_events(as_protobuf, NAMES)
    assert (b.old, b.new, b.kind, b.key) == (a.old, a.new, a.kind, a.key)
    assert b.new["raw"] == "AQIDBA==" and b.new["when"] == "2026-11-22T20:01:02.123456Z" and b.new["nullValue"] is None
    assert b.new["mapValue"] == {"field1": "x", "field2": ["x", 1]} and b.old["booleanValue"] is False
    assert (b.new["first"], b.new["last"], b.new["whole"]) == ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
                                                               "1969-12-31T23:59:59Z")
    assert b.new["empty"] == "" and b.new["mixed"] == ["", "x", 7, None]


def test_a_push_body_read_from_bytes_or_given_as_a_dict_is_the_same_message_and_owns_its_attributes() -> None:
    """The HTTP entry's bytes are parsed here, so their attributes are wrapped as they are; a dict a
    caller hands over is copied, so changing it afterwards changes no message."""
    body = {"message": P.pubsub_message(data=b'{"order": "o-1"}', attributes={"k": "v"}),
            "subscription": "projects/p/subscriptions/orders-sub", "deliveryAttempt": 2}
    from_bytes = one(json.dumps(body).encode(), Names(source="orders"))
    from_dict = one(body, Names(source="orders"))
    body["message"]["attributes"]["k"] = "changed"
    assert from_bytes == from_dict and from_dict.attributes == {"k": "v"} and from_dict.attempt == 2
