"""to_events on payloads shaped as AWS sends them (tests/aws/events/), awkward cases included."""

from __future__ import annotations

import base64
import copy
import json
from datetime import datetime, timezone

import pytest

from portside import (
    Event,
    HttpRequest,
    HttpResponse,
    Message,
    ObjectCreated,
    ObjectDeleted,
    PermanentError,
    RecordChanged,
    Tick,
    UnsupportedEvent,
)
from portside.aws import Names, batch_result, classify, http_flavour, http_result, to_events
from tests.aws.conftest import EVENTS, load

UTC = timezone.utc
NAMES = Names({
    "uploads": "shop-dev-uploads-1a2b3c",
    "orders": "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-dev-orders",
    "ledger": {"kind": "queue", "url": "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-dev-ledger.fifo",
               "arn": "arn:aws:sqs:eu-west-1:123456789012:shop-dev-ledger.fifo"},
    "order-events": "arn:aws:sns:eu-west-1:123456789012:shop-dev-orders-events",
    "orders-table": {"kind": "table", "name": "shop-dev-orders-t",
                     "stream_arn": "arn:aws:dynamodb:eu-west-1:123456789012:table/shop-dev-orders/stream/x"},
    "clicks": "arn:aws:kinesis:eu-west-1:123456789012:stream/shop-dev-clicks",
    "nightly": "shop-dev-nightly",
})


def events(name: str, names: Names = NAMES) -> list:
    return to_events(load(name), names=names)


# -- S3 ---------------------------------------------------------------------------------------

def test_s3_notification_decodes_keys_and_maps_bucket() -> None:
    created, removed = events("s3_notification.json")
    assert isinstance(created, ObjectCreated) and isinstance(removed, ObjectDeleted)
    assert created.bucket == "uploads" and removed.bucket == "uploads"
    assert created.key == "photos/red flower été (1)+1.jpg"  # '+' is a space, %2B a plus, %C3%A9 é
    assert removed.key == "a+b c.txt"
    assert created.size == 1024 and created.etag == "d41d8cd98f00b204e9800998ecf8427e"
    assert created.version == "096fKKXTRTtl3on89fVO.nfljtsv6qko" and created.content_type is None
    assert created.time == datetime(2026, 11, 22, 20, 15, 3, 512000, tzinfo=UTC)
    assert created.id == "shop-dev-uploads-1a2b3c/photos/red flower été (1)+1.jpg@0055AED6DCD90281E5"
    assert to_events(load("s3_notification.json"), names=NAMES)[0].id == created.id  # stable on redelivery


def test_s3_via_sqs_unwraps_and_skips_the_test_event() -> None:
    out = events("s3_via_sqs.json")
    assert len(out) == 1  # the s3:TestEvent S3 sends when notifications are configured is no event
    assert isinstance(out[0], ObjectCreated) and out[0].bucket == "uploads"
    assert out[0].key == "photos/red flower été (1)+1.jpg"


def test_s3_via_eventbridge() -> None:
    (created,) = events("s3_eventbridge_created.json")
    (deleted,) = events("s3_eventbridge_deleted.json")
    assert isinstance(created, ObjectCreated) and created.bucket == "uploads"
    assert created.key == "photos/red flower été.jpg" and created.size == 5
    assert created.version == "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"
    assert created.time == datetime(2026, 11, 22, 20, 15, 4, tzinfo=UTC)
    assert isinstance(deleted, ObjectDeleted) and deleted.key == "old/report.pdf" and deleted.size is None


def test_other_s3_event_types_are_refused_by_name() -> None:
    raw = load("s3_notification.json")
    raw["Records"][0]["eventName"] = "ObjectTagging:Put"
    with pytest.raises(UnsupportedEvent, match="ObjectTagging:Put"):
        to_events(raw, names=NAMES)


# -- SQS --------------------------------------------------------------------------------------

def test_sqs_batch_attributes_of_every_type() -> None:
    first, second = events("sqs_batch.json")
    assert isinstance(first, Message) and first.source == "orders"
    assert first.id == "059f36b4-87a3-44ab-83d2-661975830a7d"
    assert first.json() == {"order": 1, "note": "crème brûlée"}
    assert dict(first.attributes) == {"Attribute1": "AttributeValue1", "Attribute2": "123", "Attribute3": "MTEwMA==",
                                      "price": "9.99",
                                      "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    assert first.attempt == 1 and first.ordering_key is None
    assert first.time == datetime.fromtimestamp(1763842503.6, UTC)
    assert second.attempt == 3 and second.attributes == {}
    assert second.text() == "plain text, not JSON"


def test_a_queue_message_read_on_first_use_equals_one_read_at_once() -> None:
    """sqs_record leaves a plain message's source, attributes and time to be read when first asked for
    (portside.events.deferred_message). On every recorded SQS payload (ours and other projects'), what
    is read then is what the checked constructor makes of the record, as AWS documents its message
    attributes (String and Number as stringValue, Binary as binaryValue: docs.aws.amazon.com/lambda/
    latest/dg/with-sqs.html), and changing the raw record in between changes nothing."""
    from portside.aws.events import sqs_record

    checked = 0
    for path in sorted(EVENTS.rglob("*.json")):
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict) or not isinstance(raw.get("Records"), list) or classify(raw) != "sqs":
            continue
        for rec in raw["Records"]:
            out = sqs_record(rec, NAMES)
            if len(out) != 1 or not isinstance(out[0], Message) or out[0].id != rec["messageId"]:
                continue  # an envelope of another source, unwrapped
            message = out[0]
            sent = rec["attributes"].get("SentTimestamp")
            expected = Message(rec["messageId"], rec["body"].encode(), NAMES.logical(rec["eventSourceARN"]),
                               {k: v["binaryValue"] if v["dataType"].startswith("Binary") else v["stringValue"]
                                for k, v in (rec.get("messageAttributes") or {}).items()},
                               int(rec["attributes"]["ApproximateReceiveCount"]),
                               rec["attributes"].get("MessageGroupId"),
                               datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else message.time)
            rec["attributes"]["SentTimestamp"], rec["eventSourceARN"] = "1", "arn:aws:sqs:eu-west-1:1:other"
            (rec.get("messageAttributes") or {}).clear()
            assert message == expected and repr(message) == repr(expected), path.name
            checked += 1
    assert checked >= 7  # sqs_batch, sqs_fifo and Powertools' sqsEvent


def test_a_body_that_is_not_json_fails_only_when_asked_and_permanently() -> None:
    _, second = events("sqs_batch.json")
    with pytest.raises(PermanentError, match="not valid JSON"):
        second.json()


def test_sqs_fifo_group_is_the_ordering_key() -> None:
    out = events("sqs_fifo.json")
    assert [m.ordering_key for m in out] == ["account-7", "account-7", "account-9"]
    assert {m.source for m in out} == {"ledger"}


def test_unknown_queue_falls_back_to_default_source_then_physical_name() -> None:
    raw = load("sqs_batch.json")
    assert to_events(raw, names=Names({}))[0].source == "shop-dev-orders"
    assert to_events(raw, names=Names({}, default_source="jobs"))[0].source == "jobs"


def test_binary_bodies_wrapped_by_our_ports_are_restored() -> None:
    raw = load("sqs_batch.json")
    rec = raw["Records"][1]
    rec["body"] = base64.b64encode(b"\x00\xff binary").decode()
    rec["messageAttributes"] = {"portside-encoding": {"stringValue": "base64", "dataType": "String"},
                                "k": {"stringValue": "v", "dataType": "String"}}
    msg = to_events(raw, names=NAMES)[1]
    assert msg.body == b"\x00\xff binary" and dict(msg.attributes) == {"k": "v"}


# -- SNS --------------------------------------------------------------------------------------

def test_sns_direct_keeps_attributes_binary_as_base64() -> None:
    (msg,) = events("sns.json")
    assert msg.id == "95df01b4-ee98-5cb9-9903-4c221d41eb5e" and msg.source == "order-events"
    assert msg.attributes == {"ce-type": "order.placed", "priority": "3",
                              "thumb": base64.b64encode(b"\x89PNG\r\n").decode(), "tags": '["a","b"]'}
    assert msg.event().type == "order.placed" and msg.event().data == {"order": 7}
    assert msg.time == datetime(2026, 11, 22, 20, 17, 1, 245000, tzinfo=UTC)


def test_sns_via_sqs_is_unwrapped() -> None:
    (msg,) = events("sns_via_sqs.json")
    assert msg.id == "95df01b4-ee98-5cb9-9903-4c221d41eb5e"  # the SNS id, the same in every subscriber
    assert msg.source == "order-events" and msg.attempt == 2  # the SQS receive count
    assert msg.attributes["ce-type"] == "order.placed"
    assert msg.json()["type"] == "order.placed"


# -- HTTP -------------------------------------------------------------------------------------

def test_rest_api_v1_multi_values_base64_and_cookies() -> None:
    (req,) = events("apigw_v1.json")
    assert isinstance(req, HttpRequest)
    assert req.method == "POST" and req.path == "/orders/o-42" and req.route == "POST /orders/{id}"
    assert req.headers["x-multi"] == "one, two" and req.headers["CONTENT-TYPE"] == "application/json"
    assert req.query == {"tag": ("a", "b"), "q": ("café",)}
    assert req.json() == {"qty": 2} and req.path_params == {"id": "o-42"}
    assert req.cookies == {"session": "abc", "theme": "dark"}
    assert req.source_ip == "198.51.100.1" and req.id == "e0b3a1a4-31a5-4d6b-9d11-6e6e9b1e3d21"
    assert req.time == datetime.fromtimestamp(1763842681, UTC)


def test_rest_api_console_test_event_full_of_nulls() -> None:
    (req,) = events("apigw_v1_console_test.json")
    assert req.method == "GET" and req.path == "/health" and req.body == b""
    assert req.headers == {} and req.query == {} and req.path_params == {} and req.cookies == {}


def test_http_api_v2_query_from_raw_string_and_cookies() -> None:
    (req,) = events("http_api_v2.json")
    assert req.query == {"tag": ("a", "b"), "q": ("café",), "empty": ("",)}  # not the comma-joined form
    assert req.cookies == {"session": "abc", "theme": "dark"}
    assert req.json() == {"qty": 2} and req.route == "POST /orders/{id}" and req.path_params == {"id": "o-42"}
    assert req.source_ip == "205.255.255.176" and req.headers["x-multi"] == "one,two"


def test_function_url() -> None:
    (req,) = events("function_url.json")
    assert req.method == "GET" and req.path == "/orders/o-43" and req.route is None
    assert req.query == {} and req.id == "id-fn-url-0001"


def test_http_results_per_flavour() -> None:
    resp = HttpResponse(201, {"content-type": "application/json"}, b'{"ok":true}', cookies=("a=1; Secure",))
    v2 = http_result(resp, "v2")
    assert v2 == {"statusCode": 201, "headers": {"content-type": "application/json"}, "body": '{"ok":true}',
                  "isBase64Encoded": False, "cookies": ["a=1; Secure"]}
    v1 = http_result(resp, "v1")
    assert v1["multiValueHeaders"] == {"Set-Cookie": ["a=1; Secure"]} and "cookies" not in v1
    png = http_result(HttpResponse(200, {"content-type": "image/png"}, b"\x89PNG\x00"))
    assert png["isBase64Encoded"] is True and base64.b64decode(png["body"]) == b"\x89PNG\x00"


def test_batch_result_lists_only_failures() -> None:
    assert batch_result(["a", "b"]) == {"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]}
    assert batch_result([]) == {"batchItemFailures": []}


# -- EventBridge and schedules ------------------------------------------------------------------

def test_eventbridge_custom_event_without_version() -> None:
    (ev,) = events("eventbridge_custom.json")
    assert isinstance(ev, Event) and ev.type == "OrderShipped" and ev.source == "com.example.shipping"
    assert ev.data == {"order": "o-42", "carrier": "DHL"} and ev.id == "f0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"


def test_eventbridge_scheduled_event_is_a_tick_of_the_logical_schedule() -> None:
    (tick,) = events("eventbridge_scheduled.json")
    assert isinstance(tick, Tick) and tick.schedule == "nightly"
    assert tick.id == "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c" and tick.time == datetime(2026, 11, 22, 21, tzinfo=UTC)


def test_scheduler_input_id_is_stable_across_attempts() -> None:
    raw = load("scheduler_input.json")
    (tick,) = to_events(raw, names=NAMES)
    again = dict(raw, attempt="3", execution="other-execution-id")
    assert to_events(again, names=NAMES)[0].id == tick.id
    assert tick.schedule == "nightly" and tick.time == datetime(2026, 11, 22, 21, tzinfo=UTC)
    bare = to_events({"schedule": "nightly", "function": "x"}, names=NAMES, request_id="req-1")
    assert bare[0].id == "req-1"


# -- streams ----------------------------------------------------------------------------------

def test_dynamodb_stream_every_attribute_type_as_plain_json() -> None:
    insert, modify, remove = events("dynamodb_stream.json")
    assert all(isinstance(r, RecordChanged) for r in (insert, modify, remove))
    assert [r.kind for r in (insert, modify, remove)] == ["created", "updated", "deleted"]
    assert insert.table == "orders-table" and insert.key == {"id": "o-42"} and insert.old is None
    assert insert.new == {"id": "o-42", "blob": "aGVsbG8=", "blobs": ["aGVsbG8=", "d29ybGQ="], "paid": True,
                          "lines": ["x", 2, None], "meta": {"k": "v", "n": 1.5}, "qty": 3,
                          "big": 12345678901234567890, "ratio": 0.25, "sizes": [1, 2.5], "gone": None,
                          "name": "Zoë", "tags": ["a", "b"]}
    json.dumps(insert.new)  # nothing that is not JSON (no Decimal, no bytes, no set)
    assert modify.old == {"id": "o-42", "qty": 3} and modify.new == {"id": "o-42", "qty": 4}
    assert remove.new is None and remove.time == datetime.fromtimestamp(1763842920, UTC)


def test_kinesis_record_is_a_message() -> None:
    (msg,) = events("kinesis.json")
    assert msg.json() == {"click": "buy"} and msg.source == "clicks" and msg.ordering_key == "1"
    assert msg.id.startswith("shardId-000000000006:")


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ({"hello": 1}, "top-level keys \\['hello'\\]"),
    ([], "must be a JSON object, got list"),
    ({"Records": []}, "non-empty list"),
    ({"Records": [{"eventSource": "aws:ses"}]}, "eventSource 'aws:ses'"),
    ({"Records": [{"eventSource": "aws:sqs", "body": "x"}]}, "missing 'messageId'"),
    ({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}, "missing 's3'"),
    ({"Records": [{"EventSource": "aws:sns", "Sns": {"Type": "Notification"}}]}, "MessageId"),
    ({"Records": [{"eventSource": "aws:dynamodb", "eventName": "INSERT", "eventID": "e", "dynamodb": {"Keys": {"id": {"X": 1}}}}]},
     "unknown DynamoDB attribute type 'X'"),
    ({"Records": [{"eventSource": "aws:kinesis", "kinesis": {"data": "%%%"}}]}, "not valid base64"),
    ({"detail-type": "X", "source": "y"}, "EventBridge id"),
    ({"requestContext": {"http": {}}, "version": "2.0", "rawPath": "/"}, "requestId"),
    ({"specversion": "1.0"}, "not a CloudEvent"),
])
def test_bad_input_is_unsupported_event_naming_what_it_saw(raw: object, expected: str) -> None:
    with pytest.raises(UnsupportedEvent, match=expected):
        to_events(raw, names=NAMES)


def test_malformed_s3_in_sqs_body_names_the_message() -> None:
    raw = load("s3_via_sqs.json")
    raw["Records"][0]["body"] = '{"Records":[{"eventSource":"aws:s3", broken'
    with pytest.raises(UnsupportedEvent, match="4b7b1b3e"):
        to_events(raw, names=NAMES)


def test_classify_every_sample() -> None:
    expected = {"apigw_v1.json": "http-v1", "apigw_v1_console_test.json": "http-v1", "http_api_v2.json": "http-v2",
                "function_url.json": "http-v2", "sqs_batch.json": "sqs", "sqs_fifo.json": "sqs",
                "s3_via_sqs.json": "sqs", "sns_via_sqs.json": "sqs", "s3_notification.json": "s3", "sns.json": "sns",
                "dynamodb_stream.json": "dynamodb", "kinesis.json": "kinesis",
                "eventbridge_custom.json": "eventbridge", "eventbridge_scheduled.json": "eventbridge",
                "s3_eventbridge_created.json": "eventbridge", "s3_eventbridge_deleted.json": "eventbridge",
                "scheduler_input.json": "scheduler"}
    assert {name: classify(load(name)) for name in expected} == expected


def test_mapping_does_not_mutate_the_raw_event() -> None:
    for name in ("sqs_batch.json", "apigw_v1.json", "dynamodb_stream.json", "s3_via_sqs.json"):
        raw = load(name)
        before = copy.deepcopy(raw)
        to_events(raw, names=NAMES)
        assert raw == before


# -- more awkward shapes ------------------------------------------------------------------------

def test_function_url_post_base64_body_cookies_and_repeated_query() -> None:
    raw = load("function_url_post.json")
    (req,) = to_events(raw, names=NAMES)
    assert req.method == "POST" and req.path == "/upload/photo.png" and req.route is None
    assert req.body == base64.b64decode(raw["body"]) and req.body.startswith(b"\x89PNG")
    assert req.cookies == {"session": "abc", "theme": "dark"}
    assert req.query == {"tag": ("a", "b"), "caption": ("résumé final",), "flag": ("",)}  # rawQueryString, decoded
    assert req.headers["Content-Type"] == "application/octet-stream" and req.headers["x-multi"] == "one,two"
    assert req.path_params == {} and req.source_ip == "203.0.113.9" and req.id == "id-fn-url-0002"
    assert req.time == datetime.fromtimestamp(1763842920.123, UTC)
    assert http_flavour(raw) == "v2" and http_flavour(load("apigw_v1.json")) == "v1"


def test_function_url_response_binary_with_cookies() -> None:
    resp = HttpResponse(200, {"content-type": "image/png", "cache-control": "no-store"}, b"\x89PNG\r\n\x1a\n\x00",
                        cookies=("session=new; HttpOnly; Secure", "theme=light"))
    out = http_result(resp, http_flavour(load("function_url_post.json")))
    assert out == {"statusCode": 200, "headers": {"content-type": "image/png", "cache-control": "no-store"},
                   "body": base64.b64encode(b"\x89PNG\r\n\x1a\n\x00").decode(), "isBase64Encoded": True,
                   "cookies": ["session=new; HttpOnly; Secure", "theme=light"]}
    assert "set-cookie" not in {k.lower() for k in out["headers"]}  # v2 wants cookies apart


def test_rest_api_response_has_no_cookies_key_and_text_stays_text() -> None:
    out = http_result(HttpResponse(404, {"content-type": "text/plain; charset=utf-8"}, "pas trouvé".encode()), "v1")
    assert out == {"statusCode": 404, "headers": {"content-type": "text/plain; charset=utf-8"},
                   "body": "pas trouvé", "isBase64Encoded": False}


def test_rest_api_base64_body_is_decoded() -> None:
    raw = load("apigw_v1.json")
    assert raw["isBase64Encoded"] is True
    (req,) = to_events(raw, names=NAMES)
    assert req.body == base64.b64decode(raw["body"])
    bad = dict(raw, body="not base64 at all!")
    with pytest.raises(UnsupportedEvent, match="not valid base64"):
        to_events(bad, names=NAMES)


def test_fifo_system_attributes_do_not_leak_into_message_attributes() -> None:
    out = events("sqs_fifo.json")
    assert [m.id for m in out][:2] == ["11d6ee51-4cc7-4302-9e22-7cd8afdaadf5", "22d6ee51-4cc7-4302-9e22-7cd8afdaadf5"]
    assert all("MessageDeduplicationId" not in m.attributes and "SequenceNumber" not in m.attributes for m in out)
    assert [m.json() for m in out][:2] == [{"entry": 1}, {"entry": 2}]


def test_a_plain_message_that_mentions_topicarn_is_not_taken_for_an_envelope() -> None:
    raw = load("sqs_batch.json")
    raw["Records"][0]["body"] = '{"TopicArn": "arn:aws:sns:x", "note": "Notification pending"}'
    msg = to_events(raw, names=NAMES)[0]
    assert msg.json() == {"TopicArn": "arn:aws:sns:x", "note": "Notification pending"}
    assert msg.id == "059f36b4-87a3-44ab-83d2-661975830a7d"


def test_sns_console_test_event_with_nulls() -> None:
    """The Lambda console's "sns-notification" template: Subject null, empty MessageAttributes."""
    raw = load("sns.json")
    raw["Records"][0]["Sns"].update(Subject=None, MessageAttributes={}, Message="example message")
    (msg,) = to_events(raw, names=NAMES)
    assert msg.text() == "example message" and msg.attributes == {}


def test_s3_notification_lifecycle_expiration_is_a_deletion() -> None:
    raw = load("s3_notification.json")
    raw["Records"][1]["eventName"] = "LifecycleExpiration:Delete"
    assert isinstance(to_events(raw, names=NAMES)[1], ObjectDeleted)


def test_the_query_parser_reads_raw_query_strings_as_parse_qsl_does() -> None:
    """HTTP API's rawQueryString is parsed by a loop cheaper than parse_qsl (a third of an HTTP
    event's mapping cost was parse_qsl); on 20,000 random strings of the characters that matter
    ('=', '&', '%xx', '+', ';', non-ASCII) it must agree with parse_qsl(keep_blank_values=True)."""
    import random
    from urllib.parse import parse_qsl

    from portside.aws.events import _query

    rng = random.Random(3)
    for _ in range(20_000):
        text = "".join(rng.choice("ab=&%+2F3D41é ;") for _ in range(rng.randint(0, 20)))
        expected: dict[str, list[str]] = {}
        for k, v in parse_qsl(text, keep_blank_values=True):
            expected.setdefault(k, []).append(v)
        assert _query(text) == expected, text
