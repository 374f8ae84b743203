"""boto3-backed ports against a moto server reached through AWS_ENDPOINT_URL only (no endpoint in code)."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest

from portside import Message, NotFound
from portside.aws import AwsTarget, Names, to_events
from portside.declarations import Bucket, Queue, Table, Topic
from tests.aws.conftest import REGION, lambda_sqs_event, receive_all

pytestmark = pytest.mark.usefixtures("aws")


def boto(service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=REGION)


def make_bucket(name: str) -> None:
    boto("s3").create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})


def make_queue(name: str, **attributes: str) -> tuple[str, str]:
    sqs = boto("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def make_table(name: str, key: str = "id", sort_key: str | None = None) -> None:
    schema = [{"AttributeName": key, "KeyType": "HASH"}]
    defs = [{"AttributeName": key, "AttributeType": "S"}]
    if sort_key:
        schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
        defs.append({"AttributeName": sort_key, "AttributeType": "S"})
    boto("dynamodb").create_table(TableName=name, KeySchema=schema, AttributeDefinitions=defs,
                                  BillingMode="PAY_PER_REQUEST")


def target(**resources: Any) -> AwsTarget:
    return AwsTarget(Names(resources))


# -- S3 -----------------------------------------------------------------------------------------

def test_bucket_put_get_list_exists_delete() -> None:
    make_bucket("shop-uploads-1a2b")
    bucket = target(uploads="shop-uploads-1a2b").port(Bucket("uploads"))
    bucket.put("in/a été+b.txt", b"hello", "text/plain", {"origin": "test"})
    bucket.put("in/b.bin", b"\x00\xff")
    bucket.put("other/c", b"c")
    assert bucket.get("in/a été+b.txt") == b"hello" and bucket.get("in/b.bin") == b"\x00\xff"
    head = boto("s3").head_object(Bucket="shop-uploads-1a2b", Key="in/a été+b.txt")
    assert head["ContentType"] == "text/plain" and head["Metadata"] == {"origin": "test"}
    assert sorted(bucket.list("in/")) == ["in/a été+b.txt", "in/b.bin"]
    assert sorted(bucket.list()) == ["in/a été+b.txt", "in/b.bin", "other/c"]
    assert bucket.exists("other/c") and not bucket.exists("nope")
    assert "shop-uploads-1a2b" in bucket.signed_url("other/c")
    bucket.delete("other/c")
    assert not bucket.exists("other/c")
    with pytest.raises(NotFound, match="no object 'other/c'"):
        bucket.get("other/c")


def test_ports_are_created_once_and_clients_reused() -> None:
    from portside.aws import ports

    make_bucket("bucket-one")
    make_bucket("bucket-two")
    t = target(one="bucket-one", two="bucket-two")
    first = t.port(Bucket("one"))
    assert t.port(Bucket("one")) is first
    assert t.port(Bucket("two")).s3 is first.s3 is ports.client("s3")


def test_a_resource_missing_from_the_environment_is_named() -> None:
    from portside import DeclarationError

    with pytest.raises(DeclarationError, match="'thumbs'.*PORTSIDE_RESOURCES.*\\['uploads'\\]"):
        target(uploads="x").port(Bucket("thumbs"))


# -- SNS -> SQS ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw_delivery", [True, False], ids=["raw-delivery", "envelope"])
def test_publish_reaches_a_subscribed_queue_with_body_and_attributes(raw_delivery: bool) -> None:
    topic_arn = boto("sns").create_topic(Name="shop-events")["TopicArn"]
    url, arn = make_queue("shop-events-worker")
    boto("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                          Attributes={"RawMessageDelivery": "true" if raw_delivery else "false"})
    topic = target(events=topic_arn).port(Topic("events"))
    attributes = {"ce-type": "order.placed", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                  "correlationid": "c-1", "empty": ""}
    published_id = topic.publish('{"order": "crème"}'.encode(), attributes)

    received = receive_all(boto("sqs"), url, 1)
    assert len(received) == 1
    (msg,) = to_events(lambda_sqs_event(received, arn), names=Names({"events": topic_arn}, default_source="events"))
    assert isinstance(msg, Message) and msg.json() == {"order": "crème"}
    assert dict(msg.attributes) == {k: v for k, v in attributes.items() if v}  # SNS refuses empty values
    assert msg.source == "events"  # the topic's logical name, not the per-subscriber queue's
    if not raw_delivery:
        assert msg.id == published_id  # the SNS message id, the same in every subscriber


def test_binary_bodies_survive_topic_and_queue() -> None:
    url, arn = make_queue("bin")
    q = target(jobs=url).port(Queue("jobs"))
    q.send(b"\x00\x01\xfe\xff", {"k": "v"})
    (msg,) = to_events(lambda_sqs_event(receive_all(boto("sqs"), url, 1), arn), names=Names({"jobs": url}))
    assert msg.body == b"\x00\x01\xfe\xff" and dict(msg.attributes) == {"k": "v"}


# -- SQS ----------------------------------------------------------------------------------------

def test_queue_send_with_delay_and_attributes() -> None:
    url, arn = make_queue("shop-jobs")
    q = target(jobs={"kind": "queue", "url": url, "arn": arn}).port(Queue("jobs"))
    sent = time.monotonic()
    mid = q.send(b'{"n": 1}', {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, delay=1)
    sqs = boto("sqs")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None  # not visible yet
    (m,) = receive_all(sqs, url, 1, timeout=5)
    assert time.monotonic() - sent >= 0.9
    assert m["MessageId"] == mid and m["Body"] == '{"n": 1}'
    assert m["MessageAttributes"]["traceparent"]["StringValue"].startswith("00-0af7")


def test_queue_found_by_arn_alone() -> None:
    url, arn = make_queue("by-arn")
    q = target(jobs={"kind": "queue", "arn": arn}).port(Queue("jobs"))
    assert q.url.endswith("/by-arn")
    q.send(b"x", {})
    assert receive_all(boto("sqs"), url, 1)[0]["Body"] == "x"


def test_fifo_queue_gets_the_ordering_key_as_group() -> None:
    url, arn = make_queue("ledger.fifo", FifoQueue="true")
    q = target(ledger=url).port(Queue("ledger", fifo=True))
    q.send(b"1", {}, ordering_key="account-7")
    q.send(b"2", {}, ordering_key="account-7")
    with pytest.raises(ValueError, match="no per-message delay"):
        q.send(b"3", {}, delay=5)
    received = receive_all(boto("sqs"), url, 2)
    assert [m["Body"] for m in received] == ["1", "2"]
    assert {m["Attributes"]["MessageGroupId"] for m in received} == {"account-7"}
    out = to_events(lambda_sqs_event(received, arn), names=Names({"ledger": url}))
    assert [m.ordering_key for m in out] == ["account-7", "account-7"] and out[0].source == "ledger"


def test_more_than_ten_attributes_is_a_clear_error() -> None:
    url, _ = make_queue("many")
    q = target(jobs=url).port(Queue("jobs"))
    with pytest.raises(ValueError, match="11 message attributes are over the limit of 10 on aws"):
        q.send(b"x", {f"a{i}": "v" for i in range(11)})


# -- DynamoDB -----------------------------------------------------------------------------------

def test_table_put_if_absent_refuses_the_second_write() -> None:
    make_table("shop-seen")
    table = target(seen="shop-seen").port(Table("seen"))
    assert table.put_if_absent({"id": "evt-1", "n": 1}) is True
    assert table.put_if_absent({"id": "evt-1", "n": 2}) is False
    assert table.get({"id": "evt-1"}) == {"id": "evt-1", "n": 1}


def test_table_items_are_plain_json_never_decimal_or_descriptors() -> None:
    make_table("shop-orders")
    table = target(orders="shop-orders").port(Table("orders")).raw  # the port itself: the int is AWS-only
    item = {"id": "o-1", "qty": 3, "price": 9.99, "big": 12345678901234567890, "paid": True, "note": None,
            "lines": [{"sku": "a", "n": 1}, "x", 2.5], "meta": {"tags": ["a", "b"], "nested": {"k": -1}}}
    table.put(item)
    got = table.get({"id": "o-1"})
    assert got == item and json.loads(json.dumps(got)) == item

    def walk(v: Any) -> None:
        assert not isinstance(v, (Decimal, bytes, set)), v
        if isinstance(v, dict):
            assert not (len(v) == 1 and next(iter(v)) in {"S", "N", "M", "L", "BOOL", "NULL"}), v
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(got)
    assert table.update({"id": "o-1"}, {"qty": 4, "price": 1.5}) == {**item, "qty": 4, "price": 1.5}
    with pytest.raises(NotFound):
        table.update({"id": "missing"}, {"qty": 1})
    assert table.get({"id": "missing"}) is None
    table.delete({"id": "o-1"})
    assert table.get({"id": "o-1"}) is None
    with pytest.raises(TypeError, match="only JSON types"):
        table.put({"id": "o-2", "when": object()})


def test_table_query_by_partition_with_limit() -> None:
    make_table("shop-lines", key="order", sort_key="line")
    table = AwsTarget(Names({"lines": "shop-lines"})).port(Table("lines", key="order", sort_key="line"))
    for i in range(5):
        table.put({"order": "o-1", "line": f"l{i}", "qty": i})
    table.put({"order": "o-2", "line": "l0", "qty": 9})
    assert [r["line"] for r in table.query("o-1")] == ["l0", "l1", "l2", "l3", "l4"]
    assert [r["qty"] for r in table.query("o-1", limit=2)] == [0, 1]
    assert table.query("o-3") == []
