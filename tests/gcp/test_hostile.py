"""Hostile and malformed input on the GCP entries (issue 11): each defect found by mutating real
payloads has its test here. ``to_events`` raises only ``UnsupportedEvent``; both entries answer a
malformed request with a JSON 400 naming the problem, never a 500 (Pub/Sub push and Eventarc
redeliver a 500 as if the failure were transient)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from portside import UnsupportedEvent
from portside import deployment as env
from portside.gcp import Names, to_events
from tests.aws.mutate import deep_json
from tests.gcp import payloads as P
from tests.gcp.conftest import PROJECT, ROOT, binary, free_port, wait_until

NAMES = Names.from_resources(P.RESOURCES, source="orders")


# -- to_events ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    # AttributeError: 'list' object has no attribute 'startswith' (the storage subject)
    (P.storage_event(data={"kind": "storage#object"}, subject=["objects/a"]), "CloudEvent"),
    # OverflowError / OSError from a time past year 9999, as epoch milliseconds
    (P.storage_event(time="99999999999999999999"), "time"),
    (P.message_published() | {"data": {"message": {**P.pubsub_message(), "publishTime": "99999999999999999999"}}},
     "publishTime"),
    # TypeError / AttributeError: the Firestore document path as a number or a list
    (P.firestore_event() | {"document": 5.5}, "CloudEvent"),
    (P.firestore_event() | {"document": ["items", "a"]}, "CloudEvent"),
])
def test_malformed_fields_are_unsupported_events_naming_the_problem(raw: dict[str, Any], expected: str) -> None:
    with pytest.raises(UnsupportedEvent, match=expected):
        to_events(raw, NAMES)


def test_a_storage_notification_with_an_event_time_out_of_range_is_an_unsupported_event() -> None:
    """OSError from a 20-digit eventTime escaped to_events through the notification mapping."""
    from tests.gcp.test_overwrite import BUCKET, DELETE_DATA, push

    body = push(DELETE_DATA, "3", "1507260566514012", eventType="OBJECT_FINALIZE", eventTime="99999999999999999999")
    with pytest.raises(UnsupportedEvent, match="eventTime"):
        to_events(body, Names.from_resources({"uploads": BUCKET}, source="uploads"))


@pytest.mark.parametrize("body", [deep_json().encode(), ("[" * 100_000 + "]" * 100_000).encode()])
def test_a_push_body_nested_too_deep_is_an_unsupported_event(body: bytes) -> None:
    """RecursionError from the JSON scanner escaped to_events."""
    with pytest.raises(UnsupportedEvent, match="nested too deep"):
        to_events(body, NAMES)


# -- the entries ------------------------------------------------------------------------------------

@pytest.mark.parametrize("ce", [
    {"specversion": "1.0", "id": "x", "source": "s", "type": ["not", "a", "string"]},
    {"specversion": ["1.0"], "id": "x", "source": "s", "type": "t"},
])
def test_a_cloudevent_over_http_that_cloudevents_chokes_on_gets_a_json_400(deploy, ce: dict[str, Any]) -> None:
    """cloudevents' from_http raises TypeError/ValueError on such shapes: it was a 500."""
    r = deploy("on-order").post("/", data=json.dumps(ce), headers={"Content-Type": "application/cloudevents+json"})
    assert r.status_code == 400 and "malformed CloudEvent" in r.get_json()["error"], r.data


def test_a_request_functions_framework_cannot_read_as_a_cloudevent_gets_a_json_400(deploy) -> None:
    """functions-framework falls back to reading a background event and crashed (500) on a list."""
    headers, body = binary(P.storage_event(), b"[1, 2]", "application/json")
    del headers["ce-id"]
    r = deploy("on-upload", "event").post("/", data=body, headers=headers)
    assert r.status_code == 400 and "cannot read the request as a CloudEvent" in r.get_json()["error"], r.data
    r = deploy("on-upload", "event").post("/", data=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "not a CloudEvent" in r.get_json()["error"], r.data


def test_as_deployed_the_cloudevent_entry_answers_unreadable_requests_in_json(tmp_path: Path) -> None:
    """In a fresh process, as Cloud Run starts the function (functions-framework imports main.py,
    which imports portside.gcp while the app is being created): the JSON error handler is in place."""
    (tmp_path / "main.py").write_text(env.gcp_main())
    port = free_port()
    environ = {**os.environ, env.APP: "tests.gcp.sample:app", env.FUNCTION: "on-upload", env.PROJECT: PROJECT,
               env.RESOURCES: json.dumps(P.RESOURCES), "PYTHONPATH": str(ROOT)}
    cli = Path(sys.executable).with_name("functions-framework")
    proc = subprocess.Popen([str(cli), "--target", env.GCP_TARGETS["event"], "--signature-type", "cloudevent",
                             "--source", str(tmp_path / "main.py"), "--host", "127.0.0.1", "--port", str(port)],
                            env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        def answer() -> tuple[int, bytes] | None:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=b"[1, 2]", method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=1) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()
            except OSError:
                return None

        status, body = wait_until(answer, 20, "functions-framework", proc)
        assert status == 400 and "cannot read the request as a CloudEvent" in json.loads(body)["error"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
