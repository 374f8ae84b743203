"""AWS adapter budgets (issue 3): per-event overhead and cold start, as ratios measured in one run.

    .venv/bin/python -m bench.aws              # both
    .venv/bin/python -m bench.aws overhead     # to_events + .json() vs json.loads
    .venv/bin/python -m bench.aws coldstart    # import portside.aws vs a bare interpreter (bench.startup aws)

Overhead: an SQS batch of 10 JSON messages shaped exactly as Lambda delivers them (receipt
handles, md5s, system attributes, the traceparent/correlationid message attributes portside
sends). Two ratios:
  * mapping   = to_events(event) + .json() of each body   /  json.loads(each body)
                + json.loads(event text)   (the issue's figure: the event is already a dict)
  * end to end = json.loads(event text) + to_events + .json()  /  json.loads(event text) +
                json.loads(each body)      (what a Lambda invocation pays: the runtime parses
                the event text before any adapter runs)
"""

from __future__ import annotations

import json
import sys
import uuid

from bench.timing import paired
from portside.aws import Names, to_events


def sqs_event(n: int = 10) -> str:
    """The text Lambda's runtime receives for a batch of ``n`` portside-sent JSON messages."""
    records = []
    for i in range(n):
        body = json.dumps({"order_id": f"o-{1000 + i}", "customer": {"id": f"c-{i}", "email": f"user{i}@example.com"},
                           "items": [{"sku": "SKU-1", "qty": 2, "price": 9.99}, {"sku": "SKU-7", "qty": 1, "price": 24.5}],
                           "total": 44.48, "currency": "EUR", "placed_at": "2026-11-22T20:01:02.123Z"})
        records.append({
            "messageId": str(uuid.UUID(int=i + 1)),
            "receiptHandle": "AQEB" + "x7Kp9Qm2" * 40,
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "AWSTraceHeader": "Root=1-6740e5a1-5f1c2d3e4f5a6b7c8d9e0f1a;"
                           "Parent=53995c3f42cd8ad8;Sampled=1", "SentTimestamp": str(1763841662123 + i),
                           "SenderId": "AROAXXXXXXXXXXXXXXXXX:shop-dev-place-order",
                           "ApproximateFirstReceiveTimestamp": str(1763841662130 + i)},
            "messageAttributes": {
                "traceparent": {"stringValue": f"00-{uuid.UUID(int=i).hex}-{'%016x' % (i + 1)}-01",
                                "stringListValues": [], "binaryListValues": [], "dataType": "String"},
                "correlationid": {"stringValue": str(uuid.UUID(int=1000 + i)), "stringListValues": [],
                                  "binaryListValues": [], "dataType": "String"}},
            "md5OfMessageAttributes": "2d2f1a4f3e5c6b7a8d9e0f1a2b3c4d5e",
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:shop-dev-orders",
            "awsRegion": "eu-west-1",
        })
    return json.dumps({"Records": records})


def overhead() -> None:
    text = sqs_event()
    raw = json.loads(text)
    bodies = [r["body"] for r in raw["Records"]]
    names = Names({"orders": "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-dev-orders"})
    loads = json.loads

    def adapter() -> None:
        for m in to_events(raw, names=names):
            m.json()

    def end_to_end() -> None:
        for m in to_events(loads(text), names=names):
            m.json()

    def baseline_all() -> None:
        loads(text)
        for b in bodies:
            loads(b)

    assert len(to_events(raw, names=names)) == 10
    base, ad, ratio = paired(baseline_all, adapter)
    _, e2e, e2e_ratio = paired(baseline_all, end_to_end)
    print(f"SQS batch of 10 JSON messages, event text {len(text)} bytes (median µs per batch)")
    print(f"  baseline: json.loads(event text) + json.loads(10 bodies)   {base:8.1f} µs   1.00x")
    print(f"  to_events(dict) + .json() x10                              {ad:8.1f} µs   {ratio:4.2f}x  (issue budget 1.2x)")
    print(f"  json.loads(event text) + to_events + .json() x10           {e2e:8.1f} µs   {e2e_ratio:4.2f}x  (end to end)")


def coldstart() -> None:
    """Cold start from the built archive under Python 3.12 (bench/startup.py); it also checks that
    ``import portside.aws`` imports no boto3."""
    from bench.startup import measure

    measure("aws")


if __name__ == "__main__":
    which = sys.argv[1:] or ["overhead", "coldstart"]
    for name in which:
        {"overhead": overhead, "coldstart": coldstart}[name]()
