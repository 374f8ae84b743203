"""The port contract, on every target: each test runs on fake, local, AWS (moto) and GCP (emulators)
and asserts one behaviour, or the per-cloud difference the capability table documents
(docs/architecture.md, "Capabilities"). The rules' sources are cited in portside/capabilities.py."""

from __future__ import annotations

import logging

import pytest

from portside import InvalidRequest, NotFound, PayloadTooLarge
from tests.contract.app import contract_app
from tests.contract.harness import Harness

# -- buckets ------------------------------------------------------------------------------------

KEYS = ["b", "a/10", "a/9", "A", "é/x y+1.txt", "z", "a/b/c", "Ω"]


def test_objects_round_trip_and_list_in_code_point_order(cloud: Harness) -> None:
    """S3 lists keys in UTF-8 binary order, Cloud Storage lexicographically by bytes: the code point
    order Python sorts str by; every target lists that way."""
    files = cloud.port("files")
    for i, key in enumerate(KEYS):
        files.put(key, f"body {i}".encode(), "text/plain", {"n": str(i)})
    assert list(files.list()) == sorted(KEYS)
    assert list(files.list("a/")) == ["a/10", "a/9", "a/b/c"]
    assert files.get("é/x y+1.txt") == b"body 4" and files.exists("Ω") and not files.exists("nope")
    files.put("b", bytearray(b"again"))
    assert files.get("b") == b"again"
    files.delete("b")
    files.delete("b")  # a missing key is not an error (S3 and Cloud Storage alike)
    assert not files.exists("b")
    with pytest.raises(NotFound, match="has no object 'b'"):
        files.get("b")


@pytest.mark.parametrize("key", ["../escape", "a/../b", "./a", "a//b", "/lead", "trail/", "", "a\nb", "a\rb",
                                 "x" * 1025, "é" * 513])
def test_keys_are_refused_alike_everywhere(cloud: Harness, key: str) -> None:
    """One key rule (portside.contract.check_key): Cloud Storage refuses '.', '..', CR and LF and both
    clouds 1024 bytes; '..' segments, empty segments and edge slashes are refused for portability (the
    local target stores keys as files; tools resolve them as paths). Before, the fake accepted
    '../escape' and the local target refused it."""
    files = cloud.port("files")
    with pytest.raises(InvalidRequest, match="object key"):
        files.put(key, b"x")
    with pytest.raises(InvalidRequest, match="object key"):
        files.get(key)
    assert list(files.list()) == []


def test_data_must_be_bytes_or_a_file_and_urls_last_at_most_seven_days(cloud: Harness) -> None:
    """S3 SigV4 presigned URLs and Cloud Storage V4 signed URLs both last at most 7 days."""
    import io

    files = cloud.port("files")
    files.put("stream.bin", io.BytesIO(b"\x00\xff" * 10))
    assert files.get("stream.bin") == b"\x00\xff" * 10
    with pytest.raises(InvalidRequest, match="bytes or a binary file"):
        files.put("text.txt", "not bytes")  # the handle encodes str; a port takes bytes
    assert isinstance(files.signed_url("stream.bin", 3600), str)
    for expires in (0, 7 * 24 * 3600 + 1, 1.5):
        with pytest.raises(InvalidRequest, match="signed URL lifetime"):
            files.signed_url("stream.bin", expires)


# -- queues and topics --------------------------------------------------------------------------

def test_messages_arrive_intact_text_or_binary(cloud: Harness) -> None:
    """Bodies are bytes everywhere: SQS and SNS carry text, so binary bodies travel base64 with a
    marker the AWS adapter removes; attributes arrive as sent, empty values dropped (SQS refuses
    them) on every target."""
    jobs = cloud.port("jobs")
    ids = [jobs.send(b'{"n": 1}', {"k": "v", "unicode": "é✓", "empty": ""}),
           jobs.send(b"\x00\xff\xfe binary", {"k": "bin"})]
    assert all(isinstance(i, str) and i for i in ids)
    got = sorted(cloud.received("jobs", 2), key=lambda m: m.body)
    assert [m.body for m in got] == [b"\x00\xff\xfe binary", b'{"n": 1}']
    assert [dict(m.attributes) for m in got] == [{"k": "bin"}, {"k": "v", "unicode": "é✓"}]
    assert {m.source for m in got} == {"jobs"} and all(m.ordering_key is None for m in got)


def test_topics_fan_out_intact_and_keep_no_order(cloud: Harness) -> None:
    """SNS standard topics have no message groups, so a topic refuses an ordering key everywhere
    (Pub/Sub would take one and AWS would drop it: a handler would see it on one cloud only)."""
    news = cloud.port("news")
    news.publish(b"hello", {"ce-type": "greeted"})
    [m] = cloud.received("news", 1)
    assert (m.body, dict(m.attributes)) == (b"hello", {"ce-type": "greeted"})
    with pytest.raises(InvalidRequest, match="topics fan out in no particular order"):
        news.publish(b"x", {}, "customer-7")


def test_ten_attributes_pass_and_an_eleventh_is_refused_everywhere(cloud: Harness) -> None:
    """SQS carries at most 10 message attributes and SNS discards a message with more bound for a
    raw-delivery SQS subscription; Pub/Sub takes 100. An app targeting both is held to 10 on every
    target (before: AWS refused an 11th, GCP, fake and local accepted it). A binary body needs one
    of the ten on AWS for its base64 marker."""
    ten = {f"a{i}": str(i) for i in range(10)}
    cloud.port("jobs").send(b"x", ten)
    with pytest.raises(InvalidRequest, match="11 message attributes are over the limit of 10 on aws"):
        cloud.port("jobs").send(b"x", {**ten, "a10": "10"})
    with pytest.raises(InvalidRequest, match=r"11 message attributes \(a body that is not text"):
        cloud.port("news").publish(b"\xff", ten)
    [m] = cloud.received("jobs", 1)
    assert dict(m.attributes) == ten


def test_attribute_names_sqs_refuses_are_refused_everywhere(cloud: Harness) -> None:
    """SQS attribute names: A-Z a-z 0-9 _ - . only, no leading, trailing or repeated period, not
    starting with AWS. or Amazon.; Pub/Sub values at most 1024 bytes."""
    jobs = cloud.port("jobs")
    for name in ("bad name", "AWS.trace", "amazon.x", ".lead", "a..b", "é"):
        with pytest.raises(InvalidRequest, match="refused on aws"):
            jobs.send(b"x", {name: "v"})
    with pytest.raises(InvalidRequest, match="over the 1024-byte limit on gcp"):
        jobs.send(b"x", {"big": "v" * 1025})


@pytest.mark.parametrize("make", ["fake", "local", "gcp"], indirect=True)  # AWS is not this app's target
def test_an_app_that_targets_gcp_only_takes_more_attributes(make: pytest.FixtureRequest) -> None:
    """The documented difference: Pub/Sub carries 100 attributes, so an app declared for GCP alone
    may send 11 on fake, local and GCP."""
    cloud = make(contract_app(clouds="gcp"))
    eleven = {f"a{i}": str(i) for i in range(11)}
    cloud.port("jobs").send(b"x", eleven)
    [m] = cloud.received("jobs", 1)
    assert dict(m.attributes) == eleven


def test_empty_bodies_are_refused(cloud: Harness) -> None:
    """SQS refuses an empty body; Pub/Sub a message with neither data nor attributes."""
    with pytest.raises(InvalidRequest, match="the message body is empty"):
        cloud.port("jobs").send(b"", {})
    with pytest.raises(InvalidRequest, match="the message body is empty"):
        cloud.port("news").publish(b"", {"k": "v"})


def test_message_sizes_are_the_smallest_targeted_clouds(cloud: Harness) -> None:
    """SNS takes 256 KiB (body and attributes), SQS 1 MiB, Pub/Sub 10 MB; base64 counts on AWS."""
    with pytest.raises(PayloadTooLarge, match="over the 262144-byte limit on aws"):
        cloud.port("news").publish(b"x" * (256 * 1024), {"k": "v"})
    with pytest.raises(PayloadTooLarge, match="over the 1048576-byte limit on aws"):
        cloud.port("jobs").send(b"x" * (1024 * 1024 + 1), {})
    with pytest.raises(PayloadTooLarge, match="base64"):
        cloud.port("jobs").send(b"\xff" * 800_000, {})  # 1,066,668 bytes once base64-encoded
    body = b"y" * (256 * 1024 - 10)
    cloud.port("news").publish(body, {"k": "v"})  # 262,138 bytes: at the limit
    [m] = cloud.received("news", 1)
    assert m.body == body


def test_delays_are_bounded_and_a_cloud_that_cannot_delay_says_so(cloud: Harness, caplog) -> None:
    """SQS delays 0-900 s; Pub/Sub has no per-message delay and sends at once. Every target now takes
    the same range and logs the same warning for GCP (before: GCP warned, fake and local were silent)."""
    jobs = cloud.port("jobs")
    with caplog.at_level(logging.WARNING, "portside"):
        jobs.send(b"later", {}, 1)
    assert "gcp has no per-message delivery delay" in caplog.text
    for delay in (-1, 901, 1.5, "5"):
        with pytest.raises(InvalidRequest, match="delay must be whole seconds from 0 to 900"):
            jobs.send(b"x", {}, delay)


def test_fifo_queues_refuse_a_delay_everywhere(cloud: Harness) -> None:
    """"When you set FifoQueue, you can't set DelaySeconds per message" (SQS SendMessage). Before,
    only AWS refused it."""
    with pytest.raises(InvalidRequest, match="SQS takes no per-message delay on FIFO queues"):
        cloud.port("ledger").send(b"x", {}, 5)


def test_fifo_groups_arrive_in_order_with_their_key(cloud: Harness) -> None:
    """A FIFO queue's message without an ordering key joins the group "default" (the AWS port's
    MessageGroupId; GCP publishes it as the ordering key), so every target reports the same key, and
    each group arrives in order. A standard queue refuses an ordering key: it orders nothing anywhere."""
    ledger = cloud.port("ledger")
    for n in range(5):
        ledger.send(f"a-{n}".encode(), {}, 0, "acct-7")
    ledger.send(b"no key", {})
    got = cloud.received("ledger", 6)
    assert [m.body for m in got if m.ordering_key == "acct-7"] == [f"a-{n}".encode() for n in range(5)]
    assert [m.ordering_key for m in got if m.body == b"no key"] == ["default"]
    with pytest.raises(InvalidRequest, match="ordering_key needs a FIFO queue"):
        cloud.port("jobs").send(b"x", {}, 0, "acct-7")
    with pytest.raises(InvalidRequest, match="message group id is 1-128 ASCII"):
        ledger.send(b"x", {}, 0, "with space")


# -- tables -------------------------------------------------------------------------------------

ITEM = {"id": "n-1", "text": "héllo ✓", "n": 3, "x": 1.5, "ok": True, "none": None,
        "tags": ["a", 2, {"k": [1.25]}], "meta": {"nested": {"deep": "y"}, "dotted.name": 1}}


def test_items_round_trip_as_plain_json(cloud: Harness) -> None:
    notes = cloud.port("notes")
    assert notes.get({"id": "n-1"}) is None
    notes.put(ITEM)
    assert notes.get({"id": "n-1"}) == ITEM
    assert notes.update({"id": "n-1"}, {"n": 4, "id": "ignored", "new": "field"}) == {**ITEM, "n": 4, "new": "field"}
    assert notes.get({"id": "n-1"}) == {**ITEM, "n": 4, "new": "field"}
    notes.delete({"id": "n-1"})
    notes.delete({"id": "n-1"})
    assert notes.get({"id": "n-1"}) is None
    with pytest.raises(NotFound, match="has no item"):
        notes.update({"id": "n-1"}, {"n": 5})


def test_put_if_absent_is_a_conditional_create(cloud: Harness) -> None:
    notes = cloud.port("notes")
    assert notes.put_if_absent({"id": "k", "v": 1}) is True
    assert notes.put_if_absent({"id": "k", "v": 2}) is False
    assert notes.get({"id": "k"}) == {"id": "k", "v": 1}


SORT_KEYS = ["b", "B", "a10", "a9", "é", "z", "0", "a 1", "Ω", "ab"]


def test_query_returns_one_partition_in_sort_key_order(cloud: Harness) -> None:
    """DynamoDB sorts string sort keys by UTF-8 bytes, Firestore strings by UTF-8 byte order: the code
    point order of Python's sort. Before, mixed-type sort keys raised on the fake, came back [2, 'a']
    locally and sorted a third way on GCP; keys are now strings on every target."""
    events = cloud.port("events")
    for sk in SORT_KEYS:
        events.put({"pk": "p1", "sk": sk, "v": sk.upper()})
    events.put({"pk": "p2", "sk": "a"})
    assert [i["sk"] for i in events.query("p1")] == sorted(SORT_KEYS)
    assert [i["sk"] for i in events.query("p1", 3)] == sorted(SORT_KEYS)[:3]
    assert events.query("none") == []
    assert events.get({"pk": "p1", "sk": "é"})["v"] == "É"
    with pytest.raises(InvalidRequest, match="query limit must be an int >= 1"):
        events.query("p1", 0)


@pytest.mark.parametrize("key, match", [
    ({"pk": "p", "sk": 2}, "key field 'sk' must be a non-empty str, got 2"),
    ({"pk": 1, "sk": "a"}, "key field 'pk' must be a non-empty str, got 1"),
    ({"pk": "", "sk": "a"}, "key field 'pk' must be a non-empty str"),
    ({"pk": "p"}, r"needs key fields \['pk', 'sk'\], missing \['sk'\]"),
    ({"pk": "p", "sk": "s" * 1025}, "key field 'sk' of 1025 bytes is over the 1024-byte limit on aws"),
    ({"pk": "p" * 1500, "sk": "a"}, "key field 'pk' of 1500 bytes is over the 1499-byte limit on gcp"),
])
def test_keys_are_non_empty_strings_within_the_clouds_sizes(cloud: Harness, key: dict, match: str) -> None:
    """DynamoDB keys are strings as portside provisions them (1-2048 bytes partition, 1-1024 sort);
    Firestore queries take string values of at most 1499 bytes. The same InvalidRequest everywhere (before: a
    KeyError on the fake, ValueError locally and on GCP, a ClientError on AWS)."""
    events = cloud.port("events")
    with pytest.raises(InvalidRequest, match=match):
        events.put({**key, "v": 1})
    with pytest.raises(InvalidRequest, match=match):
        events.get(key)
    assert events.query("p") == []


def test_the_longest_keys_every_cloud_takes_work_everywhere(cloud: Harness) -> None:
    """At the limits (1499-byte partition, 1024-byte sort key): the GCP port names such a document by
    a hash of its key, since the escaped key is over Firestore's 1500-byte document id."""
    events = cloud.port("events")
    pk, sk = "p/" * 749 + "p", "s%" * 512
    events.put({"pk": pk, "sk": sk, "v": 1})
    assert events.get({"pk": pk, "sk": sk}) == {"pk": pk, "sk": sk, "v": 1}
    assert [i["v"] for i in events.query(pk)] == [1]


@pytest.mark.parametrize("value, match", [
    ({1, 2}, "only JSON types"), (b"bytes", "only JSON types"), (float("nan"), "only JSON types"),
    (object(), "only JSON types"), (2 ** 63, "too large for gcp"), ({"__reserved__": 1}, "reserved on gcp"),
    ({"": 1}, "field names must be non-empty"),
])
def test_items_a_targeted_cloud_cannot_store_are_refused_everywhere(cloud: Harness, value: object, match: str) -> None:
    """Firestore reserves field names matching __.*__ and stores 64-bit integers; neither stores sets,
    bytes as such, or NaN in portside's JSON items."""
    notes = cloud.port("notes")
    with pytest.raises(InvalidRequest, match=match):
        notes.put({"id": "bad", "value": value})
    assert notes.get({"id": "bad"}) is None


def test_items_over_the_smallest_item_size_are_refused(cloud: Harness) -> None:
    """DynamoDB items are at most 400 KB, Firestore documents 1 MiB."""
    with pytest.raises(PayloadTooLarge, match="over the 409600-byte item limit on aws"):
        cloud.port("notes").put({"id": "big", "blob": "x" * 410_000})
    assert cloud.port("notes").get({"id": "big"}) is None
