"""The google-cloud-backed ports against real emulators: gcp-storage-emulator, Pub/Sub, Firestore."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from portside import App, DeclarationError, NotFound
from portside.gcp.ports import FirestoreTable, GcpTarget, GcsBucket, PubSubChannel, plain
from tests.gcp.conftest import PROJECT, ROOT

# -- Cloud Storage -----------------------------------------------------------------------------

@pytest.fixture
def bucket(storage_emulator: str, unique: str) -> GcsBucket:
    from portside.gcp.ports import storage_client

    name = f"uploads-{unique}"
    storage_client(PROJECT).create_bucket(name)
    return GcsBucket(name, "uploads", PROJECT)


def test_bucket_put_get_exists_list_delete(bucket: GcsBucket) -> None:
    bucket.put("a/1.txt", b"one", "text/plain", {"owner": "ann"})
    bucket.put("a/2.bin", io.BytesIO(b"\x00two"), None, {})
    bucket.put("b/3.txt", b"three", "text/plain", {})
    assert bucket.get("a/1.txt") == b"one" and bucket.get("a/2.bin") == b"\x00two"
    blob = bucket.bucket.get_blob("a/1.txt")
    assert blob.content_type == "text/plain" and blob.metadata == {"owner": "ann"}
    assert bucket.exists("a/1.txt") and not bucket.exists("a/nope")
    assert list(bucket.list("a/")) == ["a/1.txt", "a/2.bin"]
    assert list(bucket.list("")) == ["a/1.txt", "a/2.bin", "b/3.txt"]
    bucket.delete("a/1.txt")
    bucket.delete("a/1.txt")  # deleting a missing key is not an error
    assert not bucket.exists("a/1.txt")
    with pytest.raises(NotFound, match="bucket 'uploads' has no object 'a/1.txt'"):
        bucket.get("a/1.txt")
    assert bucket.signed_url("b/3.txt").endswith(f"/{bucket.name}/b/3.txt")


# -- Pub/Sub -----------------------------------------------------------------------------------

def test_topic_and_queue_publish_to_pubsub_with_attributes_and_ordering_key(pubsub, unique: str) -> None:
    topic = pubsub.topic(f"orders-{unique}")
    sub = pubsub.pull_subscription(topic, f"orders-{unique}-pull")
    channel = PubSubChannel(topic, "orders")
    mid = channel.publish(b'{"n": 1}', {"ce-type": "order.placed", "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
                          "customer-7")
    channel.send(b"later", {}, delay=30, ordering_key=None)  # Pub/Sub cannot delay: sent now (the contract warns)
    got = {m.message_id: m for m in pubsub.pull(sub, want=2)}
    assert got[mid].data == b'{"n": 1}' and got[mid].attributes["ce-type"] == "order.placed"
    assert got[mid].ordering_key == "customer-7"
    later = next(m for m in got.values() if m.data == b"later")
    assert dict(later.attributes) == {}


def test_target_resolves_bare_topic_names_with_the_project(pubsub, unique: str) -> None:
    app = App("porttest")
    q = app.queue("jobs")
    pubsub.topic(f"jobs-{unique}")
    target = GcpTarget({"jobs": f"jobs-{unique}"}, PROJECT)
    port = target.port(q)
    assert port.path == f"projects/{PROJECT}/topics/jobs-{unique}"
    assert target.port(q) is port  # one port per resource, reused
    assert port.send(b"x", {}, 0, None)
    with pytest.raises(DeclarationError, match="no physical name in PORTSIDE_RESOURCES"):
        target.port(app.topic("other"))


# -- Firestore ---------------------------------------------------------------------------------

@pytest.fixture
def tables(firestore_emulator: str, unique: str) -> tuple[FirestoreTable, FirestoreTable]:
    app = App("porttest")
    simple = app.table(f"items-{unique}".replace("_", "-")[:40])
    sorted_ = app.table(f"events-{unique}"[:40], key="pk", sort_key="sk")
    # one Firestore database per table, as infra provisions them
    target = GcpTarget({simple.name: f"db-{unique}", sorted_.name: {"database": f"db-{unique}"}}, PROJECT)
    return target.port(simple), target.port(sorted_)


def test_table_put_get_update_delete(tables) -> None:
    t, _ = tables
    assert t.get({"id": "a/b"}) is None
    t.put({"id": "a/b", "n": 1, "tags": ["x"], "nested": {"k": None}, "dotted.name": True})
    assert t.get({"id": "a/b"}) == {"id": "a/b", "n": 1, "tags": ["x"], "nested": {"k": None}, "dotted.name": True}
    assert t.update({"id": "a/b"}, {"n": 2, "dotted.name": False, "id": "ignored"}) == \
        {"id": "a/b", "n": 2, "tags": ["x"], "nested": {"k": None}, "dotted.name": False}
    with pytest.raises(NotFound, match="has no item"):
        t.update({"id": "missing"}, {"n": 1})
    t.delete({"id": "a/b"})
    assert t.get({"id": "a/b"}) is None
    with pytest.raises(TypeError, match="only JSON types"):
        t.put({"id": "x", "bad": {1, 2}})


def test_put_if_absent_is_a_conditional_create(tables) -> None:
    t, _ = tables
    assert t.put_if_absent({"id": "k1", "v": 1}) is True
    assert t.put_if_absent({"id": "k1", "v": 2}) is False
    assert t.get({"id": "k1"}) == {"id": "k1", "v": 1}


def test_query_by_partition_in_sort_key_order_with_limit(tables) -> None:
    _, t = tables
    for sk in ("3", "1", "2"):  # table keys are strings on every target (portside.contract)
        t.put({"pk": "cust-1", "sk": sk, "v": f"v{sk}"})
    t.put({"pk": "cust-2", "sk": "1"})
    assert [i["sk"] for i in t.query("cust-1")] == ["1", "2", "3"]
    assert [i["sk"] for i in t.query("cust-1", 2)] == ["1", "2"]
    assert t.get({"pk": "cust-1", "sk": "2"})["v"] == "v2"


def test_firestore_types_never_reach_handlers(tables) -> None:
    from google.cloud import firestore

    t, _ = tables
    t.put({"id": "ts", "n": 1})
    t._doc({"id": "ts"}).update({"at": firestore.SERVER_TIMESTAMP, "geo": firestore.GeoPoint(1.5, 2.5), "raw": b"\x01"})
    got = t.get({"id": "ts"})
    assert isinstance(got["at"], str) and got["at"].endswith("Z")
    assert got["geo"] == {"latitude": 1.5, "longitude": 2.5} and got["raw"] == "AQ=="
    json.dumps(got)
    assert plain({"l": [b"\x00"]}) == {"l": ["AA=="]}


def test_importing_the_adapter_loads_no_client_library() -> None:
    code = ("import sys, functions_framework; before = set(sys.modules); import portside.gcp; "
            "bad = sorted(m for m in set(sys.modules) - before if m.startswith(('google.cloud.storage', "
            "'google.cloud.pubsub', 'google.cloud.firestore', 'google.api_core', 'google.events', 'grpc', "
            "'google.protobuf', 'boto3', 'pulumi', 'infra'))); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_clients_are_created_once_and_reused_with_batching_suited_to_a_function(
        pubsub_emulator: str, storage_emulator: str, firestore_emulator: str) -> None:
    from portside.gcp import ports

    publisher = ports.publisher_client()
    assert ports.publisher_client() is publisher
    # the handler waits on each publish: a long batching window would be added to every invocation
    assert publisher.batch_settings.max_latency <= 0.01
    assert ports.storage_client(PROJECT) is ports.storage_client(PROJECT)
    assert ports.firestore_client(PROJECT, "reuse") is ports.firestore_client(PROJECT, "reuse")
