"""AWS adapter benchmarks (issue 12): what one event costs, as ratios to a baseline measured in the
same run (the two alternate for 41 rounds; the figure is the median of the per-round ratios, the
spread their quartiles; bench/timing.py).

    .venv/bin/python -m bench.aws                # normalize, then roundtrip; recorded
    .venv/bin/python -m bench.aws normalize
    .venv/bin/python -m bench.aws roundtrip
    .venv/bin/python -m bench.aws coldstart      # import portside.aws, fresh interpreters

normalize and roundtrip run under Python 3.12 with portside installed from this checkout and
aws-lambda-powertools beside it, in a venv under build/ (bench/venv.py re-runs this module there).

normalize: ``to_events(event)`` (the raw event as the Lambda runtime hands it over, a dict) against
``json.loads`` of the same bodies, the least a hand-written handler does to read them:
  * SQS: a batch of 10 JSON messages as Lambda delivers them (receipt handles, md5s, system
    attributes, the traceparent/correlationid attributes portside sends) vs json.loads of the 10
    bodies; the same with each message's ``.json()`` added to show the whole read;
  * SNS: 10 records of the same messages vs json.loads of the 10 ``Message`` texts;
  * S3: 10 notifications through SQS (how a bucket reaches a function) vs json.loads of the 10
    bodies, and 10 records delivered directly vs json.loads of each record's text;
  * HTTP API 2.0: Powertools' recorded request (tests/aws/events/powertools) vs json.loads of the
    event's text (there is no other body to read).
roundtrip: ``handler(event, context)`` with a handler that does nothing against the same with
aws-lambda-powertools, on the same event:
  * the SQS batch above: portside's Lambda entry vs ``process_partial_response`` with a
    ``BatchProcessor(EventType.SQS)`` and a record handler that does nothing;
  * the HTTP API request: portside's Lambda entry (routing, invoke, the JSON answer) vs
    ``APIGatewayHttpResolver().resolve`` with the same route answering the same dict.
Logging is as deployed by default (the root handler Lambda installs, writing to /dev/null here).
"""

from __future__ import annotations

import copy
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from portside import App

ROOT = Path(__file__).resolve().parents[1]
QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:shop-dev-orders"
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-dev-orders"
TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:shop-dev-orders"

# The functions the round trips deploy: a consumer and a route that do nothing.
app = App("bench-noop")
orders = app.queue("orders")
api = app.api("api")
app.function("bench.aws:consume", trigger=orders.on_message(), name="consume")
app.function("bench.aws:answer", trigger=api.route("POST /my/path"), name="answer")


def consume(event: Any) -> None:
    """Does nothing: the round trip measures what portside adds around a handler."""


def answer(request: Any) -> dict[str, bool]:
    return {"ok": True}


def body(i: int) -> str:
    return json.dumps({"order_id": f"o-{1000 + i}", "customer": {"id": f"c-{i}", "email": f"user{i}@example.com"},
                       "items": [{"sku": "SKU-1", "qty": 2, "price": 9.99}, {"sku": "SKU-7", "qty": 1, "price": 24.5}],
                       "total": 44.48, "currency": "EUR", "placed_at": "2026-11-22T20:01:02.123Z"})


def sqs_record(i: int, text: str) -> dict[str, Any]:
    return {
        "messageId": str(uuid.UUID(int=i + 1)),
        "receiptHandle": "AQEB" + "x7Kp9Qm2" * 40,
        "body": text,
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
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "eu-west-1",
    }


def sqs_event(n: int = 10) -> str:
    """The text Lambda's runtime receives for a batch of ``n`` portside-sent JSON messages."""
    return json.dumps({"Records": [sqs_record(i, body(i)) for i in range(n)]})


def sns_event(n: int = 10) -> dict[str, Any]:
    template = json.loads((ROOT / "tests/aws/events/sns.json").read_text())["Records"][0]
    records = []
    for i in range(n):
        rec = copy.deepcopy(template)
        rec["Sns"].update(MessageId=str(uuid.UUID(int=i + 1)), Message=body(i), TopicArn=TOPIC_ARN)
        records.append(rec)
    return {"Records": records}


def s3_records(n: int = 10) -> list[dict[str, Any]]:
    template = json.loads((ROOT / "tests/aws/events/powertools/s3Event.json").read_text())["Records"][0]
    records = []
    for i in range(n):
        rec = copy.deepcopy(template)
        rec["s3"]["object"].update(key=f"uploads/photo+{i}.jpg", sequencer=f"0C0F6F405D6ED209E{i}")
        records.append(rec)
    return records


def http_event() -> dict[str, Any]:
    return json.loads((ROOT / "tests/aws/events/powertools/apiGatewayProxyV2Event.json").read_text())


class Context:
    """The part of Lambda's context object both sides read."""

    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    function_name = "bench"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def normalize() -> dict[str, Any]:
    from bench.timing import figure
    from portside.aws import Names, to_events

    names = Names({"orders": QUEUE_URL})
    loads = json.loads
    sqs = json.loads(sqs_event())
    bodies = [r["body"] for r in sqs["Records"]]
    sns = sns_event()
    messages = [r["Sns"]["Message"] for r in sns["Records"]]
    s3_direct = {"Records": s3_records()}
    s3_texts = [json.dumps(r) for r in s3_direct["Records"]]
    s3_sqs = {"Records": [sqs_record(i, json.dumps({"Records": [r]})) for i, r in enumerate(s3_records())]}
    s3_bodies = [r["body"] for r in s3_sqs["Records"]]
    http = http_event()
    http_text = json.dumps(http)
    assert len(to_events(sqs, names=names)) == 10 and len(to_events(s3_sqs, names=names)) == 10

    def with_json() -> None:
        for m in to_events(sqs, names=names):
            m.json()

    def every_field() -> None:
        for m in to_events(sqs, names=names):
            m.source, m.attributes, m.time  # noqa: B018 - read on first use (portside.events.deferred_message)

    from portside.events import _loads

    cases = {
        "SQS batch of 10 JSON messages: to_events": figure(lambda: [loads(b) for b in bodies],
                                                           lambda: to_events(sqs, names=names), 1.3),
        "  the same, every field read (source, attributes and time are read on first use)": figure(
            lambda: [loads(b) for b in bodies], every_field),
        "  the same, + .json() of each message": figure(lambda: [loads(b) for b in bodies], with_json),
        "SNS, 10 records: to_events": figure(lambda: [loads(m) for m in messages], lambda: to_events(sns, names=names), 1.3),
        "S3 via SQS, 10 notifications: to_events": figure(lambda: [loads(b) for b in s3_bodies],
                                                          lambda: to_events(s3_sqs, names=names), 1.3),
        "  of which parsing the 10 bodies (the JSON scanner to_events reads them with)": figure(
            lambda: [loads(b) for b in s3_bodies], lambda: [_loads(b) for b in s3_bodies]),
        "S3, 10 records delivered directly: to_events": figure(lambda: [loads(t) for t in s3_texts],
                                                               lambda: to_events(s3_direct, names=names), 1.3),
        "HTTP API 2.0 request: to_events": figure(lambda: loads(http_text),
                                                  lambda: to_events(http, names=names, request_id="r-1"), 2.0),
    }
    _print("normalization against json.loads of the same bodies", cases)
    return cases


def roundtrip() -> dict[str, Any]:
    import logging
    import os

    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from bench.timing import figure
    from portside import HttpResponse
    from portside import deployment as env
    from portside.aws import Runtime

    logging.getLogger().addHandler(logging.StreamHandler(open(os.devnull, "w")))  # Lambda's runtime has one
    environ = {env.APP: "bench.aws:app", env.RESOURCES: json.dumps({"orders": QUEUE_URL})}
    consumer = Runtime.from_env({**environ, env.FUNCTION: "consume"})
    route = Runtime.from_env({**environ, env.FUNCTION: "answer"})
    from portside.telemetry import setup_logging

    setup_logging()  # what the Lambda entry does once per process
    ctx = Context()
    sqs = json.loads(sqs_event())
    http = http_event()

    from portside.aws import to_events
    from portside.delivery import invoke

    messages = to_events(sqs, names=consumer.names)
    processor = BatchProcessor(event_type=EventType.SQS)
    resolver = APIGatewayHttpResolver()
    resolver.post("/my/path")(lambda: {"ok": True})

    def nothing(record: Any) -> None:
        pass

    assert consumer(sqs, ctx) == {"batchItemFailures": []}
    assert process_partial_response(event=sqs, record_handler=nothing, processor=processor, context=ctx) == \
        {"batchItemFailures": []}
    ours, theirs = route(http, ctx), resolver.resolve(http, ctx)
    assert ours["statusCode"] == theirs["statusCode"] == 200 and json.loads(ours["body"]) == json.loads(theirs["body"])

    def powertools_batch() -> object:
        return process_partial_response(event=sqs, record_handler=nothing, processor=processor, context=ctx)

    cases = {
        "SQS batch of 10 through handler(event, context), handler does nothing": figure(
            powertools_batch, lambda: consumer(sqs, ctx), 2.0, number=100),
        "  of which the Lambda entry without invoke() (to_events, bookkeeping, settling)": _without_invoke(
            powertools_batch, lambda: consumer(sqs, ctx)),
        "  of which invoke() x10 alone (the invocation's context, the handler, the outcome)": figure(
            powertools_batch, lambda: [invoke(consumer.function, consumer.target, m) for m in messages], number=100),
        "HTTP API 2.0 request through handler(event, context)": figure(
            lambda: resolver.resolve(http, ctx), lambda: route(http, ctx), 1.5, number=100),
        "  of which the Lambda entry without invoke() (to_events, routing, the answer)": _without_invoke(
            lambda: resolver.resolve(http, ctx), lambda: route(http, ctx), HttpResponse.json_body({"ok": True})),
    }
    _print("round trips against aws-lambda-powertools 3.37", cases)
    return cases


def _without_invoke(baseline: Any, candidate: Any, result: Any = None) -> dict[str, Any]:
    """``candidate`` with the core's ``invoke()`` replaced by one that only returns a success (with
    ``result``; one outcome per event id, made on the first round, so the stand-in costs a dict
    look-up): what the adapter itself costs; the rest of the round trip is the core's invocation
    (the "invoke() alone" row, and bench/invoke.py)."""
    from bench.timing import figure
    from portside.aws import entry
    from portside.delivery import Outcome

    made: dict[str, Outcome] = {}

    def succeeded(function: Any, target: Any, event: Any, attempt: int | None = None) -> Outcome:
        out = made.get(event.id)
        if out is None:
            out = made[event.id] = Outcome(event, attempt or 1, result, None)
        return out

    real = entry.invoke
    entry.invoke = succeeded
    try:
        return figure(baseline, candidate, number=100)
    finally:
        entry.invoke = real


def _print(title: str, cases: dict[str, Any]) -> None:
    print(f"{title} (median µs per call; ratio = median of per-round ratios, quartiles in brackets)")
    for name, f in cases.items():
        budget = f" (budget {f['budget']}x)" if "budget" in f else ""
        print(f"  {name:<70} {f['us']:8.1f} µs vs {f['baseline_us']:8.1f} µs  {f['ratio']:5.2f}x "
              f"[{f['spread'][0]:.2f}-{f['spread'][1]:.2f}]{budget}")


def coldstart() -> None:
    """Cold start from the built archive under Python 3.12 (bench/startup.py); it also checks that
    ``import portside.aws`` imports no boto3."""
    from bench.startup import measure

    measure("aws")


def main(which: list[str]) -> None:
    from bench.results import record

    figures: dict[str, Any] = {}
    for name in which:
        if name == "coldstart":
            coldstart()
            continue
        figures.update({"normalize": normalize, "roundtrip": roundtrip}[name]())
    if figures:
        record("aws-overhead", ".venv/bin/python -m bench.aws", figures,
               notes="Python 3.12, portside installed from the checkout, aws-lambda-powertools 3.37 beside it "
                     "(bench/venv.py). normalize: to_events against json.loads of the same bodies; roundtrip: "
                     "handler(event, context) against aws-lambda-powertools on the same event.")


if __name__ == "__main__":
    from bench.venv import ensure

    which = sys.argv[1:] or ["normalize", "roundtrip"]
    if set(which) - {"coldstart"}:
        ensure("bench.aws")
    main(which)
