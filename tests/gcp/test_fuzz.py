"""Fuzzing the GCP adapter: seeded mutants (tests/aws/mutate.py) of recorded CloudEvents and Pub/Sub
push bodies (tests/gcp/events: the functions-framework conformance inputs and google-cloudevents
test data; tests/gcp/payloads.py), through ``to_events`` and through both entry points served by
functions-framework's own app and test client. A fixed seed keeps the run reproducible (about 5 s).

- ``to_events``: 2,000 mutants (Cloud Storage notifications pushed to a bucket's trigger among them);
  it returns normalized events or raises ``UnsupportedEvent``;
- ``on_cloud_event``: 600 mutated CloudEvents in binary mode (as Eventarc delivers them) and 600
  in structured mode;
- ``on_http``: 600 mutated CloudEvents (structured) and 600 mutated push bodies.

Asserted for every request: no 5xx (the handler here never fails, so a 5xx could only be the
adapter or the framework choking on the input, which Pub/Sub and Eventarc would redeliver as a
transient failure), and every 4xx is JSON with an ``error`` naming the problem.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from portside.gcp import Names, to_events
from tests.aws.mutate import check_mapping, mutants
from tests.gcp import payloads as P
from tests.gcp.test_overwrite import BUCKET, DELETE_DATA, OVERWRITE_DATA
from tests.gcp.test_overwrite import push as notification

EVENTS = Path(__file__).parent / "events"
CLOUDEVENTS = {str(p.relative_to(EVENTS)): json.loads(p.read_text()) for p in sorted(EVENTS.rglob("*-cloudevent-input.json"))}
CLOUDEVENTS |= {"storage": P.storage_event(), "published": P.message_published(), "firestore": P.firestore_event(),
                "deleted": P.storage_event("deleted")}
PUSHES = {"duplicated-fields": json.loads((EVENTS / "google-cloudevents/MessagePublishedData-duplicatedFields.json").read_text()),
          "push": P.push_body(ordering_key="k"), "conformance": CLOUDEVENTS["conformance/pubsub_text-cloudevent-input.json"]["data"]}
NAMES = Names.from_resources(P.RESOURCES, source="orders")
NOTIFICATIONS = {  # Cloud Storage notifications pushed to the bucket's own deletion trigger (tests/gcp/test_overwrite.py)
    "overwrite": json.loads(notification(OVERWRITE_DATA, "1", "1507260507792797", overwrittenByGeneration="1")),
    "delete": json.loads(notification(DELETE_DATA, "2", "1507260566514012")),
    "finalize": json.loads(notification(DELETE_DATA, "3", "1507260566514012", eventType="OBJECT_FINALIZE",
                                        eventTime="2017-10-06T03:29:26.502Z"))}
BUCKET_NAMES = Names.from_resources({"uploads": BUCKET}, source="uploads")


def test_to_events_on_mutants_returns_events_or_raises_unsupported_event() -> None:
    escaped = []
    for name, n, raw in mutants(CLOUDEVENTS | PUSHES | NOTIFICATIONS, 2000, seed=21):
        try:
            check_mapping(lambda: to_events(raw, BUCKET_NAMES if name in NOTIFICATIONS else NAMES))
        except Exception as e:  # noqa: BLE001 - collected, reported with the case to replay
            escaped.append(f"{name} case {n}: {type(e).__name__}: {str(e)[:160]}")
    assert not escaped, "\n".join(escaped[:10])


def _binary(ce: Any) -> tuple[dict[str, str], bytes] | None:
    """A mutated CloudEvent in binary mode: attributes as ce- headers (as text, as HTTP carries them)."""
    if not isinstance(ce, dict):
        return None
    headers = {f"ce-{k}": str(v) for k, v in ce.items() if k not in ("data", "datacontenttype")}
    headers["Content-Type"] = str(ce.get("datacontenttype") or "application/json")
    if any(c in v for v in headers.values() for c in "\r\n\x00") or any(not k.isascii() for k in headers):
        return None  # not expressible as HTTP headers
    try:
        return headers, json.dumps(ce.get("data")).encode()
    except (ValueError, RecursionError):
        return None


def _structured(ce: Any) -> tuple[dict[str, str], bytes] | None:
    try:
        return {"Content-Type": "application/cloudevents+json"}, json.dumps(ce).encode()
    except (ValueError, RecursionError):
        return None


def _push(body: Any) -> tuple[dict[str, str], bytes] | None:
    try:
        return {"Content-Type": "application/json"}, json.dumps(body).encode()
    except (ValueError, RecursionError):
        return None


@pytest.mark.parametrize("function, signature, seeds, encode, seed", [
    ("on-upload", "event", CLOUDEVENTS, _binary, 22),
    ("on-upload", "event", CLOUDEVENTS, _structured, 23),
    ("on-order", "http", CLOUDEVENTS, _structured, 24),
    ("on-order", "http", PUSHES, _push, 25),
], ids=["cloudevent-binary", "cloudevent-structured", "http-cloudevent", "http-push"])
def test_the_entries_answer_every_mutant_without_a_5xx(deploy, caplog: Any, function: str, signature: str,
                                                       seeds: dict[str, Any], encode: Any, seed: int) -> None:
    caplog.set_level(logging.CRITICAL)
    client = deploy(function, signature)
    bad, statuses = [], {}
    for name, n, raw in mutants(seeds, 600, seed=seed):
        request = encode(raw)
        if request is None:
            continue
        headers, body = request
        r = client.post("/", data=body, headers=headers)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        if r.status_code >= 500 or (r.status_code >= 400 and not (r.is_json and r.get_json().get("error"))):
            bad.append(f"{name} case {n}: {r.status_code} {r.get_data(as_text=True)[:160]}")
    assert not bad, "\n".join(bad[:10])
    assert statuses.get(200, 0) > 50 and statuses.get(400, 0) > 50, statuses  # both outcomes exercised
