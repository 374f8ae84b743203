"""Both entry points through functions-framework's own app and test client, as deployed:
a main.py that re-exports them (what infra generates), CloudEvents in structured and binary
mode, Pub/Sub push bodies, Cloud Scheduler calls and HTTP routes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from functions_framework import create_app

import portside.gcp as gcp
from portside import Event, Message, ObjectCreated, ObjectDeleted, RecordChanged, Tick
from portside import deployment as env
from tests.gcp import payloads as P
from tests.gcp import sample
from tests.gcp.conftest import PROJECT, binary

# -- the CloudEvent entry ----------------------------------------------------------------------

def test_structured_storage_cloudevent_runs_the_handler(deploy) -> None:
    client = deploy("on-upload", "event")
    r = client.post("/", data=json.dumps(P.storage_event()), headers={"Content-Type": "application/cloudevents+json"})
    assert r.status_code == 200, r.data
    (e,) = sample.SEEN
    assert type(e) is ObjectCreated and e.bucket == "uploads" and e.size == 4154


def test_binary_storage_cloudevent_runs_the_handler(deploy) -> None:
    client = deploy("on-upload", "event")
    ce = P.storage_event()
    headers, body = binary(ce, json.dumps(ce["data"]).encode(), "application/json")
    r = client.post("/", data=body, headers=headers)
    assert r.status_code == 200, r.data
    assert sample.SEEN[0].key == ce["data"]["name"]


def test_binary_firestore_protobuf_event_reaches_the_handler_as_plain_values(deploy) -> None:
    client = deploy("on-order", "event")
    ce = P.firestore_event("updated", document="items/o-1")
    data = P.firestore_protobuf({"id": {"stringValue": "o-1"}, "n": {"integerValue": "1"}},
                                {"id": {"stringValue": "o-1"}, "n": {"doubleValue": 2.5}}, ["n"])
    headers, body = binary(ce, data, "application/protobuf")
    r = client.post("/", data=body, headers=headers)
    assert r.status_code == 200, r.data
    (e,) = sample.SEEN
    assert type(e) is RecordChanged and (e.kind, e.old, e.new) == ("updated", {"id": "o-1", "n": 1}, {"id": "o-1", "n": 2.5})


def test_structured_firestore_json_event_and_binary_storage_deleted(deploy) -> None:
    client = deploy("on-order", "event")
    r = client.post("/", data=json.dumps(P.firestore_event("deleted", data={"oldValue": P.FIRESTORE_COMPLEX["value"]})),
                    headers={"Content-Type": "application/cloudevents+json"})
    assert r.status_code == 200, r.data
    (e,) = sample.SEEN
    assert type(e) is RecordChanged and (e.table, e.kind, e.new, e.old["intValue"]) == ("items", "deleted", None, 50)
    client = deploy("on-upload", "event")
    ce = P.storage_event("deleted")
    headers, body = binary(ce, json.dumps(ce["data"]).encode(), "application/json")
    assert client.post("/", data=body, headers=headers).status_code == 200
    assert type(sample.SEEN[-1]) is ObjectDeleted and sample.SEEN[-1].bucket == "uploads"


def test_any_other_cloudevent_reaches_the_handler_as_an_event(deploy) -> None:
    client = deploy("on-order", "event")
    ce = {"specversion": "1.0", "id": "audit-1", "type": "google.cloud.audit.log.v1.written",
          "source": "//cloudaudit.googleapis.com/projects/portside-test/logs/activity", "time": "2026-11-22T10:00:00Z",
          "datacontenttype": "application/json", "data": {"protoPayload": {"methodName": "SetIamPolicy"}}}
    headers, body = binary(ce, json.dumps(ce["data"]).encode(), "application/json")
    assert client.post("/", data=body, headers=headers).status_code == 200
    (e,) = sample.SEEN
    assert type(e) is Event and e.type == ce["type"] and e.data == ce["data"]


@pytest.mark.parametrize("headers, body, expected", [
    # no id/source: functions-framework itself refuses it, before the adapter, with a 400 too
    ({"Content-Type": "application/cloudevents+json"}, b'{"specversion": "1.0", "type": "x"}', "parsing CloudEvent failed"),
    ({"ce-specversion": "1.0", "ce-id": "f-1", "ce-source": "//firestore.googleapis.com/projects/p/databases/d",
      "ce-type": "google.cloud.firestore.document.v1.created", "ce-document": "items/a",
      "Content-Type": "application/protobuf"}, b"\xff\xff\xff\x0f garbage", "not a Firestore DocumentEventData protobuf"),
    ({"ce-specversion": "1.0", "ce-id": "s-1", "ce-source": "//storage.googleapis.com/projects/_/buckets/b",
      "ce-type": "google.cloud.storage.object.v1.finalized", "Content-Type": "application/json"}, b"[1]",
     "data must be a JSON object"),
])
def test_malformed_cloudevents_get_400_never_500(deploy, headers: dict, body: bytes, expected: str) -> None:
    client = deploy("on-order", "event")
    r = client.post("/", data=body, headers=headers)
    assert r.status_code == 400 and expected in r.get_data(as_text=True), r.data
    assert sample.SEEN == []


def test_malformed_cloudevent_gets_400_naming_the_problem(deploy) -> None:
    client = deploy("on-upload", "event")
    bad = P.storage_event(data={"kind": "storage#object", "size": "12"}, subject=None)
    r = client.post("/", data=json.dumps(bad), headers={"Content-Type": "application/cloudevents+json"})
    assert r.status_code == 400 and "bucket and name are missing" in r.get_json()["error"]
    assert sample.SEEN == []
    assert client.post("/", data=b"{}", headers={"Content-Type": "application/json"}).status_code == 400


def test_retryable_failure_answers_500_so_eventarc_retries(deploy) -> None:
    client = deploy("on-upload", "event")
    ce = P.storage_event(data=P.storage_object(name="flaky.png"))
    headers, body = binary(ce, json.dumps(ce["data"]).encode(), "application/json")
    r = client.post("/", data=body, headers=headers)
    assert r.status_code == 500 and r.get_json()["error"] == "RuntimeError: retry"
    assert len(sample.SEEN) == 1


def test_permanent_error_on_a_cloudevent_is_dead_lettered_and_acknowledged(deploy, pubsub, unique: str) -> None:
    dlq = pubsub.topic(f"on-upload-dlq-{unique}")
    sub = pubsub.pull_subscription(dlq, f"on-upload-dlq-{unique}")
    client = deploy("on-upload", "event", dead_letter_topic=dlq)
    ce = P.storage_event(data=P.storage_object(name="poison.png"))
    r = client.post("/", data=json.dumps(ce), headers={"Content-Type": "application/cloudevents+json"})
    assert r.status_code == 200, r.data
    (m,) = pubsub.pull(sub)
    assert m.attributes["portside-error-type"] == "PermanentError" and m.attributes["portside-function"] == "on-upload"
    assert m.attributes["content-type"] == "application/cloudevents+json"
    assert json.loads(m.data)["data"]["name"] == "poison.png"  # the CloudEvent, intact


# -- the HTTP entry: Pub/Sub push ---------------------------------------------------------------

def test_push_body_becomes_a_message_of_the_trigger_topic(deploy) -> None:
    client = deploy("on-order")
    r = client.post("/", json=P.push_body(attempt=2, ordering_key="c-1"))
    assert r.status_code == 200, r.data
    (e,) = sample.SEEN
    assert type(e) is Message and (e.source, e.attempt, e.ordering_key) == ("orders", 2, "c-1")
    assert e.json() == {"order": "o-1", "total": 42}


@pytest.mark.parametrize("body, expected", [
    (b"not json at all", "not JSON"),
    (json.dumps({"subscription": "projects/p/subscriptions/s"}).encode(), "not a CloudEvent or a Pub/Sub push body"),
    (json.dumps({"message": {"data": "aGk="}}).encode(), "no messageId"),
    (json.dumps({"message": {"messageId": "1", "data": "!!"}}).encode(), "not valid base64"),
])
def test_malformed_push_body_gets_400_never_500(deploy, body: bytes, expected: str) -> None:
    client = deploy("on-order")
    r = client.post("/", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and expected in r.get_json()["error"]
    assert sample.SEEN == []


def test_push_retryable_failure_answers_500_then_the_last_attempt_is_dead_lettered(deploy, pubsub, unique: str) -> None:
    dlq = pubsub.topic(f"on-order-dlq-{unique}")
    sub = pubsub.pull_subscription(dlq, f"on-order-dlq-{unique}")
    client = deploy("on-order", dead_letter_topic=dlq)
    attrs = {"mode": "retry", "ce-type": "order.placed"}
    r = client.post("/", json=P.push_body(attempt=4, attributes=attrs))
    assert r.status_code == 500  # Pub/Sub push nacks any non-2xx and redelivers with backoff
    r = client.post("/", json=P.push_body(attempt=5, attributes=attrs))  # max_attempts=5
    assert r.status_code == 200 and r.get_json()["dead_letter_id"]
    (m,) = pubsub.pull(sub)
    assert m.data == b'{"order": "o-1", "total": 42}'
    assert m.attributes["mode"] == "retry" and m.attributes["portside-attempts"] == "5"
    assert m.attributes["portside-error-type"] == "RuntimeError"


def test_push_permanent_error_is_dead_lettered_at_once(deploy, pubsub, unique: str) -> None:
    dlq = pubsub.topic(f"on-order-dlq-{unique}")
    sub = pubsub.pull_subscription(dlq, f"on-order-dlq-{unique}")
    client = deploy("on-order", dead_letter_topic=dlq)
    r = client.post("/", json=P.push_body(attempt=1, attributes={"mode": "permanent"}))
    assert r.status_code == 200
    (m,) = pubsub.pull(sub)
    assert m.attributes["portside-error"].startswith("cannot process 2070443601311540")
    assert m.attributes["portside-event-id"] == "2070443601311540"


def test_permanent_error_without_a_reachable_dead_letter_topic_answers_500(deploy, pubsub_emulator: str) -> None:
    client = deploy("on-order", dead_letter_topic=f"projects/{PROJECT}/topics/does-not-exist")
    r = client.post("/", json=P.push_body(attributes={"mode": "permanent"}))
    assert r.status_code == 500 and r.get_json()["error"] == "dead-letter publish failed"


def test_messagepublished_cloudevent_over_http(deploy) -> None:
    client = deploy("on-order")
    r = client.post("/", data=json.dumps(P.message_published()), headers={"Content-Type": "application/cloudevents+json"})
    assert r.status_code == 200, r.data
    assert sample.SEEN[0].source == "orders"


def test_binary_mode_cloudevent_over_http(deploy) -> None:
    """Eventarc delivers to an HTTP function in binary mode: ce-* headers, the data as body."""
    client = deploy("on-order")
    ce = P.message_published(data=b"hi", attributes={"k": "v"})
    headers, body = binary(ce, json.dumps(ce["data"]).encode(), "application/json")
    r = client.post("/", data=body, headers=headers)
    assert r.status_code == 200, r.data
    (e,) = sample.SEEN
    assert type(e) is Message and (e.source, e.body, dict(e.attributes)) == ("orders", b"hi", {"k": "v"})


@pytest.mark.parametrize("headers, body, expected", [
    ({"ce-specversion": "1.0", "ce-type": "x", "Content-Type": "application/json"}, b"{}", "malformed CloudEvent"),
    ({"Content-Type": "application/cloudevents+json"}, b"{broken", "malformed CloudEvent"),
])
def test_malformed_cloudevent_over_http_gets_400(deploy, headers: dict, body: bytes, expected: str) -> None:
    client = deploy("on-order")
    r = client.post("/", data=body, headers=headers)
    assert r.status_code == 400 and expected in r.get_json()["error"], r.data


# -- the HTTP entry: Cloud Scheduler and routes ---------------------------------------------------

def test_cloud_scheduler_call_is_a_tick(deploy) -> None:
    client = deploy("on-tick")
    r = client.post("/", data=P.SCHEDULER_BODY, headers=P.SCHEDULER_HEADERS)
    assert r.status_code == 200, r.data
    (e,) = sample.SEEN
    assert type(e) is Tick and e.schedule == "nightly" and e.id == "gcpsample-dev-on-tick@2026-11-22T03:00:00.118Z"


def test_cloud_scheduler_via_pubsub_push_is_a_tick(deploy) -> None:
    """A Scheduler job with a Pub/Sub target: its topic's push subscription calls the function."""
    client = deploy("on-tick")
    r = client.post("/", json=P.push_body(data=P.SCHEDULER_BODY, attributes={}, subscription="gcpsample-dev-nightly-on-tick"))
    assert r.status_code == 200, r.data
    (e,) = sample.SEEN
    assert type(e) is Tick and (e.schedule, e.id) == ("nightly", "2070443601311540")


def test_cloud_scheduler_call_with_a_free_form_body_is_named_by_the_trigger(deploy) -> None:
    client = deploy("on-tick")
    r = client.post("/", data=b"not a schedule body", headers={**P.SCHEDULER_HEADERS, "Content-Type": "text/plain"})
    assert r.status_code == 200 and sample.SEEN[0].schedule == "nightly"  # named by the trigger, not the body


def test_http_route_gets_path_params_query_cookies_and_body(deploy) -> None:
    client = deploy("echo")
    client.set_cookie("session", "s-1")
    r = client.post("/echo/ann?x=1&x=2", data="hi", headers={"Content-Type": "text/plain", "Function-Execution-Id": "exec-42",
                                                             "X-Forwarded-For": "203.0.113.9, 10.0.0.1"})
    assert r.status_code == 200, r.data
    assert r.get_json() == {"path": "/echo/ann", "params": {"name": "ann"}, "query": {"x": ["1", "2"]},
                            "body": "hi", "cookie": "s-1", "id": "exec-42",
                            "ip": "203.0.113.9", "route": "POST /echo/{name}", "type": "text/plain"}


def test_http_route_mismatch_errors_and_crashes(deploy, firestore_emulator: str) -> None:
    client = deploy("echo")
    assert client.post("/other").status_code == 404
    assert client.get("/echo/ann").status_code == 405
    crash = client.post("/echo/ann?crash=1")
    assert crash.status_code == 500 and crash.get_json()["error"] == "internal error"  # no internals leak
    items = deploy("get-item", **{env.RESOURCES: json.dumps({"items": "db-entries"})})
    r = items.get("/items/nope")
    assert r.status_code == 404 and "no item 'nope'" in r.get_json()["error"]


def test_misconfigured_deployment_answers_500_naming_the_variable(main_py: str) -> None:
    gcp.configure(None)
    client = create_app("on_http", main_py, "http").test_client()
    r = client.post("/", json=P.push_body())
    assert r.status_code == 500 and env.FUNCTION in r.get_json()["error"]


def test_the_generated_main_py_serves_both_signatures(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(env.gcp_main())
    for signature, target in (("http", env.GCP_TARGETS["http"]), ("cloudevent", env.GCP_TARGETS["event"])):
        assert create_app(target, str(tmp_path / "main.py"), signature).test_client() is not None
