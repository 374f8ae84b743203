"""GCP adapter benchmarks (issue 12): what one event costs, as ratios to a baseline measured in the
same run (the two alternate for 41 rounds; the figure is the median of the per-round ratios, the
spread their quartiles; bench/timing.py).

    .venv/bin/python -m bench.gcp                # normalize, then roundtrip; recorded
    .venv/bin/python -m bench.gcp normalize
    .venv/bin/python -m bench.gcp roundtrip
    .venv/bin/python -m bench.gcp coldstart      # import portside.gcp after functions_framework

normalize and roundtrip run under Python 3.12 with portside installed from this checkout and
functions-framework beside it, in a venv under build/ (bench/venv.py re-runs this module there).

normalize: ``to_events`` against ``json.loads`` of the same bodies:
  * Pub/Sub push: 10 request bodies (bytes, as the HTTP entry reads them) shaped as Pub/Sub sends
    them for a message portside published (data base64, traceparent/correlationid attributes,
    messageId and publishTime in both spellings, deliveryAttempt) vs json.loads of the 10 bodies;
    the same with each message's ``.json()`` added, against json.loads of each body and its data;
  * Firestore: a document update as production sends it (``application/protobuf``
    DocumentEventData, a dozen fields of every Value type, old and new) vs json.loads of the same
    DocumentEventData in its JSON form.
roundtrip: one Pub/Sub push request through functions-framework's test client, into portside's
HTTP entry with a handler that does nothing, against a bare functions-framework function that
parses the push body and its data and answers 204.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from typing import Any

from portside import App

TOPIC = "projects/shop-prod/topics/shop-prod-orders"

app = App("bench-gcp-noop")
orders = app.topic("orders")
app.function("bench.gcp:consume", trigger=orders.on_event(), name="consume")


def consume(event: Any) -> None:
    """Does nothing: the round trip measures what portside adds around a handler."""


def push_bodies(n: int = 10) -> list[bytes]:
    """``n`` push request bodies as the function receives them (bytes on the wire)."""
    out = []
    for i in range(n):
        data = json.dumps({"order_id": f"o-{1000 + i}", "customer": {"id": f"c-{i}", "email": f"user{i}@example.com"},
                           "items": [{"sku": "SKU-1", "qty": 2, "price": 9.99}, {"sku": "SKU-7", "qty": 1, "price": 24.5}],
                           "total": 44.48, "currency": "EUR", "placed_at": "2026-11-22T20:01:02.123Z"}).encode()
        mid = str(17000000000000000 + i)
        when = f"2026-11-22T20:01:02.{123456 + i:06d}789Z"
        out.append(json.dumps({
            "message": {
                "attributes": {"traceparent": f"00-{uuid.UUID(int=i).hex}-{'%016x' % (i + 1)}-01",
                               "correlationid": str(uuid.UUID(int=1000 + i)), "ce-type": "order.placed"},
                "data": base64.b64encode(data).decode(), "messageId": mid, "message_id": mid,
                "publishTime": when, "publish_time": when,
            },
            "subscription": "projects/shop-prod/subscriptions/shop-prod-orders-on-order",
            "deliveryAttempt": 1,
        }).encode())
    return out


FIELDS = {  # one field of every Firestore Value type, nested ones included
    "id": {"stringValue": "o-1001"}, "customer": {"referenceValue": "projects/p/databases/(default)/documents/customers/c-1"},
    "total": {"doubleValue": 44.48}, "items": {"integerValue": "3"}, "paid": {"booleanValue": True},
    "note": {"nullValue": None}, "placed": {"timestampValue": "2026-11-22T20:01:02.123456Z"},
    "where": {"geoPointValue": {"latitude": 51.4543, "longitude": -0.9781}}, "raw": {"bytesValue": "AQIDBA=="},
    "tags": {"arrayValue": {"values": [{"stringValue": "gift"}, {"stringValue": "express"}]}},
    "address": {"mapValue": {"fields": {"city": {"stringValue": "Reading"}, "zip": {"stringValue": "RG1"}}}},
}


def firestore_update() -> tuple[Any, str]:
    """(the CloudEvent functions-framework hands the function, the same data as JSON text)."""
    from cloudevents.http import CloudEvent
    from google.events.cloud.firestore_v1.types import DocumentEventData
    from google.protobuf.json_format import ParseDict

    name = "projects/shop-prod/databases/shop-prod-items/documents/orders/o-1001"
    old = {**FIELDS, "paid": {"booleanValue": False}}
    data = {"oldValue": {"name": name, "fields": old, "createTime": "2026-11-22T20:01:02.123456Z",
                         "updateTime": "2026-11-22T20:01:02.123456Z"},
            "value": {"name": name, "fields": FIELDS, "createTime": "2026-11-22T20:01:02.123456Z",
                      "updateTime": "2026-11-22T20:02:02.123456Z"},
            "updateMask": {"fieldPaths": ["paid"]}}
    raw = DocumentEventData.serialize(DocumentEventData.wrap(ParseDict(data, DocumentEventData.pb()())))
    attributes = {"specversion": "1.0", "id": "7b8f1804-d38b-4b68-b37d-e2fb5d12d5a0",
                  "type": "google.cloud.firestore.document.v1.updated",
                  "source": "//firestore.googleapis.com/projects/shop-prod/databases/shop-prod-items",
                  "subject": "documents/orders/o-1001", "time": "2026-11-22T20:02:02.123456Z",
                  "datacontenttype": "application/protobuf", "database": "shop-prod-items", "namespace": "(default)",
                  "document": "orders/o-1001", "location": "europe-west1", "project": "shop-prod"}
    return CloudEvent(attributes, raw), json.dumps(data)


def normalize() -> dict[str, Any]:
    from bench.timing import figure
    from portside.gcp import Names, to_events

    bodies = push_bodies()
    datas = [base64.b64decode(json.loads(b)["message"]["data"]) for b in bodies]
    names = Names.from_resources({"orders": TOPIC}, source="orders")
    loads = json.loads
    got = [m for b in bodies for m in to_events(b, names)]
    assert len(got) == 10 and got[0].json()["order_id"] == "o-1000" and got[0].source == "orders"
    event, text = firestore_update()
    (change,) = to_events(event, Names.from_resources({"orders": "shop-prod-items"}))
    assert change.kind == "updated" and change.new["address"] == {"city": "Reading", "zip": "RG1"}

    def with_json() -> None:
        for b in bodies:
            for m in to_events(b, names):
                m.json()

    def both_loads() -> None:
        for b, d in zip(bodies, datas):
            loads(b)
            loads(d)

    import binascii

    from google.events.cloud.firestore_v1.types import DocumentEventData

    from portside.events import _loads

    texts = [json.loads(b)["message"]["data"] for b in bodies]
    pb = DocumentEventData.pb()  # protobuf's own class, as portside.gcp reads the data
    cases = {
        "Pub/Sub push, 10 request bodies: to_events": figure(lambda: [loads(b) for b in bodies],
                                                            lambda: [to_events(b, names) for b in bodies], 1.3),
        "  of which parsing the bodies (the JSON scanner to_events reads them with)": figure(
            lambda: [loads(b) for b in bodies], lambda: [_loads(b.decode()) for b in bodies]),
        "  of which decoding the base64 data (checked, as b64decode(validate=True))": figure(
            lambda: [loads(b) for b in bodies], lambda: [binascii.a2b_base64(t, strict_mode=True) for t in texts]),
        "  the same, + .json() of each message (vs json.loads of body and data)": figure(both_loads, with_json),
        "Firestore update, protobuf DocumentEventData: to_events": figure(lambda: loads(text),
                                                                         lambda: to_events(event, names), 3.0),
        "  of which protobuf's parse of the data (DocumentEventData.FromString)": figure(
            lambda: loads(text), lambda: pb.FromString(event.data)),
    }
    _print("normalization against json.loads of the same bodies", cases)
    return cases


def roundtrip() -> dict[str, Any]:
    import logging
    import os
    import tempfile
    from pathlib import Path

    import functions_framework
    from functions_framework import create_app

    import portside.gcp as gcp
    from bench.timing import figure
    from portside import deployment as env
    from portside.gcp import Deployment

    logging.getLogger().addHandler(logging.StreamHandler(open(os.devnull, "w")))
    folder = Path(tempfile.mkdtemp(prefix="bench-gcp-"))
    (folder / "main.py").write_text(env.gcp_main())
    (folder / "bare.py").write_text(
        "import base64, json\nimport functions_framework\n\n\n@functions_framework.http\n"
        "def bare(request):\n    body = json.loads(request.get_data())\n"
        "    json.loads(base64.b64decode(body['message']['data']))\n    return '', 204\n")
    gcp.configure(Deployment.from_env({env.APP: "bench.gcp:app", env.FUNCTION: "consume", env.PROJECT: "shop-prod",
                                       env.RESOURCES: json.dumps({"orders": TOPIC})}))
    from portside.telemetry import setup_logging

    setup_logging()
    ours = create_app(env.GCP_TARGETS["http"], str(folder / "main.py"), "http").test_client()
    bare = create_app("bare", str(folder / "bare.py"), "http").test_client()
    assert functions_framework  # the runtime's, imported before main.py in both
    body = push_bodies(1)[0]
    headers = {"Content-Type": "application/json"}
    assert ours.post("/", data=body, headers=headers).status_code == 200
    assert bare.post("/", data=body, headers=headers).status_code == 204
    cases = {"Pub/Sub push request through functions-framework's test client": figure(
        lambda: bare.post("/", data=body, headers=headers), lambda: ours.post("/", data=body, headers=headers),
        number=50)}
    _print("round trip against a bare functions-framework function", cases)
    return cases


def _print(title: str, cases: dict[str, Any]) -> None:
    print(f"{title} (median µs per call; ratio = median of per-round ratios, quartiles in brackets)")
    for name, f in cases.items():
        budget = f" (budget {f['budget']}x)" if "budget" in f else ""
        print(f"  {name:<72} {f['us']:8.1f} µs vs {f['baseline_us']:8.1f} µs  {f['ratio']:5.2f}x "
              f"[{f['spread'][0]:.2f}-{f['spread'][1]:.2f}]{budget}")


def coldstart() -> None:
    """Cold start from the built archive under Python 3.12 over ``import functions_framework``
    (bench/startup.py); it also checks that no client library is imported."""
    from bench.startup import measure

    measure("gcp")


def main(which: list[str]) -> None:
    from bench.results import record

    figures: dict[str, Any] = {}
    for name in which:
        if name == "coldstart":
            coldstart()
            continue
        figures.update({"normalize": normalize, "roundtrip": roundtrip}[name]())
    if figures:
        record("gcp-overhead", ".venv/bin/python -m bench.gcp", figures,
               notes="Python 3.12, portside installed from the checkout, functions-framework 3.10 beside it "
                     "(bench/venv.py). normalize: to_events against json.loads of the same bodies; roundtrip: "
                     "one push request through functions-framework's test client against a bare function.")


if __name__ == "__main__":
    from bench.venv import ensure

    which = sys.argv[1:] or ["normalize", "roundtrip"]
    if set(which) - {"coldstart"}:
        ensure("bench.gcp")
    main(which)
