"""GCP adapter budgets (issue 4): per-event overhead and cold start, as ratios measured in one run.

    .venv/bin/python -m bench.gcp              # both
    .venv/bin/python -m bench.gcp overhead     # to_events + .json() vs json.loads
    .venv/bin/python -m bench.gcp coldstart    # import portside.gcp after functions_framework

Overhead: 10 Pub/Sub push request bodies (the bytes the HTTP entry receives), each shaped as
Pub/Sub sends them for a message portside published (data base64, traceparent/correlationid
attributes, messageId and publishTime in both spellings, deliveryAttempt).
  * ratio = to_events(body) + .json() of the message, for each body  /  json.loads(body) +
            json.loads(its decoded data), for each body (the issue's figure); the two alternate
            in 61 rounds and the figures are medians (bench/timing.py)

Cold start: fresh interpreters that have imported functions_framework (as the Cloud Functions
runtime has before it loads main.py), with and without `import portside.gcp`, interleaved;
the adapter's run also asserts that no google-cloud client library (nor grpc, protobuf,
google.api_core, google.events) was imported.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid

from bench.timing import paired

TOPIC = "projects/shop-prod/topics/shop-prod-orders"


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


def overhead() -> float:
    from portside.gcp import Names, to_events

    bodies = push_bodies()
    datas = [base64.b64decode(json.loads(b)["message"]["data"]) for b in bodies]
    names = Names.from_resources({"orders": TOPIC}, source="orders")
    loads = json.loads

    def baseline() -> None:
        for b, d in zip(bodies, datas):
            loads(b)
            loads(d)

    def adapter() -> None:
        for b in bodies:
            for m in to_events(b, names):
                m.json()

    got = [m for b in bodies for m in to_events(b, names)]
    assert len(got) == 10 and got[0].json()["order_id"] == "o-1000" and got[0].source == "orders"
    base, ad, ratio = paired(baseline, adapter)
    size = sum(map(len, bodies)) // len(bodies)
    print(f"10 Pub/Sub push bodies of {size} bytes each (median µs per 10)")
    print(f"  baseline: json.loads(body) + json.loads(data)   {base:8.1f} µs   1.00x")
    print(f"  to_events(body) + .json()                       {ad:8.1f} µs   {ratio:4.2f}x  (issue budget 1.2x)")
    print(f"  adapter cost per message beyond the baseline    {(ad - base) / 10:8.2f} µs")
    return ratio


def coldstart() -> None:
    """Cold start from the built archive under Python 3.12 over ``import functions_framework``
    (bench/startup.py); it also checks that no client library is imported."""
    from bench.startup import measure

    measure("gcp")


if __name__ == "__main__":
    which = sys.argv[1:] or ["overhead", "coldstart"]
    for name in which:
        {"overhead": overhead, "coldstart": coldstart}[name]()
