"""Structured logs carry the invocation's ids; traces continue across publishes; OpenTelemetry spans."""

from __future__ import annotations

import io
import json
import logging

import pytest

from portside import App, Event, Message, telemetry
from portside.fake import FakeCloud
from portside.telemetry import JsonFormatter, parse_traceparent

app = App("telemetry-test")
first = app.topic("first")
second = app.topic("second")
app.function("tests.core.test_telemetry:relay", trigger=first.on_event(), uses=[second.publisher])
app.function("tests.core.test_telemetry:sink", trigger=second.on_event())

log = logging.getLogger("tests.telemetry")
PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def relay(message: Message) -> None:
    log.info("relaying", extra={"order": "o1"})
    second.publish(Event("Relayed", "/relay", {"from": message.id}))


def sink(message: Message) -> None:
    log.warning("sunk")


def test_trace_and_correlation_follow_the_event_across_functions() -> None:
    cloud = FakeCloud(app)
    cloud.publish("first", Event("Start", "/t", {}, extensions={"traceparent": PARENT, "correlationid": "corr-1"}))
    cloud.run_until_idle()
    [relayed] = cloud.published("second")
    ctx = parse_traceparent(relayed.attributes["traceparent"])
    assert ctx is not None and ctx.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert ctx.span_id != "00f067aa0ba902b7"  # a new span, same trace
    assert relayed.attributes["correlationid"] == "corr-1"
    assert relayed.event().extensions["correlationid"] == "corr-1"
    sink_ctx = cloud.invocations("sink")[0]
    assert sink_ctx.ok


def test_log_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telemetry, "_GCP_PROJECT", "demo-project")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        cloud = FakeCloud(app)
        cloud.publish("first", Event("Start", "/t", {}, extensions={"traceparent": PARENT, "correlationid": "c3"}))
        cloud.run_until_idle()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    relaying = next(r for r in records if r["message"] == "relaying")
    assert relaying["severity"] == "INFO" and relaying["function"] == "relay" and relaying["order"] == "o1"
    assert relaying["correlation_id"] == "c3" and relaying["event_id"] == cloud.published("first")[0].id
    assert relaying["logging.googleapis.com/trace"] == "projects/demo-project/traces/4bf92f3577b34da6a3ce929d0e0e4736"
    sunk = next(r for r in records if r["message"] == "sunk")
    assert sunk["severity"] == "WARNING" and sunk["trace_id"] == relaying["trace_id"]
    done = [r for r in records if r.get("outcome") == "ok"]
    assert {r["function"] for r in done} == {"relay", "sink"} and all("duration_ms" in r for r in done)


@pytest.mark.parametrize("value", [None, "", "garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
                                   "00-4bf92f3577b34da6a3ce929d0e0e4736-zzzzzzzzzzzzzzzz-01"])
def test_malformed_traceparent_starts_a_new_trace(value) -> None:  # type: ignore[no-untyped-def]
    assert parse_traceparent(value) is None


def test_opentelemetry_span_continues_the_event_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    sdk = pytest.importorskip("opentelemetry.sdk.trace", reason="needs the otel extra (opentelemetry-sdk)")
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = sdk.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(telemetry, "_otel", None)
    monkeypatch.setattr(trace, "get_tracer", lambda *a, **k: provider.get_tracer("portside"))
    cloud = FakeCloud(app)
    cloud.publish("first", Event("Start", "/t", {}, extensions={"traceparent": PARENT}))
    cloud.run_until_idle()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"relay", "sink"}
    relay_span = spans["relay"]
    assert format(relay_span.context.trace_id, "032x") == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert format(relay_span.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert spans["sink"].parent.span_id == relay_span.context.span_id  # the publish carried the span on
    monkeypatch.setattr(telemetry, "_otel", None)
