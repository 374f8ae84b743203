"""Structured logs carry the invocation's ids; traces continue across publishes; OpenTelemetry spans."""

from __future__ import annotations

import io
import json
import logging

import pytest

from portside import App, Event, Message, PermanentError, telemetry
from portside.delivery import invoke
from portside.fake import FakeCloud
from portside.telemetry import JsonFormatter, parse_traceparent
from portside.trace import continued

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


# -- what is logged: every failure in full, a success only when asked -----------------------------------
logs = App("telemetry-logs", clouds="aws")  # max_attempts=3 below is outside Pub/Sub's 5-100
inbox = logs.queue("inbox")
worker = logs.function("tests.core.test_telemetry:work", trigger=inbox.on_message(max_attempts=3))


def work(message: Message) -> None:
    log.info("working", extra={"step": 1})
    if message.text() == "boom":
        raise RuntimeError("transient")
    if message.text() == "poison":
        raise PermanentError("never works")


class NoPorts:
    name = "none"

    def port(self, resource):  # type: ignore[no-untyped-def]
        raise AssertionError("no port expected")


@pytest.fixture
def deployed_logging(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """``setup_logging`` as a deployed entry calls it, writing to a buffer; everything restored after."""
    for name in ("PORTSIDE_LOG_SUCCESS", "PORTSIDE_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(telemetry.success_lines, "every", telemetry.success_lines.every)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    root.handlers[:] = [logging.StreamHandler(stream)]

    def lines(**setup: str) -> list[dict[str, object]]:
        telemetry.setup_logging(**setup)
        for body, attempt in (("fine", 1), ("boom", 2), ("poison", 1), ("fine", 1)):
            invoke(worker, NoPorts(), Message(f"m-{body}", body, "inbox", {"traceparent": PARENT,
                                                                          "correlationid": "corr-9"}, attempt))
        out = [json.loads(line) for line in stream.getvalue().splitlines()]
        stream.seek(0)
        stream.truncate()
        return out

    yield lines
    root.handlers[:], root.level = saved


def test_deployed_default_logs_failures_in_full_and_no_success(deployed_logging) -> None:  # type: ignore[no-untyped-def]
    records = deployed_logging()
    assert [r for r in records if r.get("outcome") == "ok"] == []
    boom, poison = (r for r in records if r.get("outcome") == "error")
    assert boom["severity"] == "ERROR" and boom["error_type"] == "RuntimeError" and boom["attempt"] == 2
    assert "Traceback" in boom["exception"] and "transient" in boom["message"]
    assert poison["severity"] == "WARNING" and poison["error_type"] == "PermanentError" and "exception" not in poison
    for r in (boom, poison):  # the invocation's context travels with the failure
        assert r["function"] == "work" and r["correlation_id"] == "corr-9" and "duration_ms" in r
        assert r["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736" and r["event_id"] in ("m-boom", "m-poison")
    working = [r for r in records if r["message"] == "working"]  # the handler's own lines are untouched
    assert len(working) == 4 and all(r["step"] == 1 and r["correlation_id"] == "corr-9" for r in working)


@pytest.mark.parametrize("setup, ok_lines", [
    ({"success": "all"}, 2), ({"success": "0.5"}, 1), ({"success": "none"}, 0), ({"level": "DEBUG"}, 2),
    ({"level": "WARNING", "success": "all"}, 0),  # asked for, but below the level: still none
])
def test_success_lines_when_asked(deployed_logging, setup, ok_lines) -> None:  # type: ignore[no-untyped-def]
    records = deployed_logging(**setup)
    ok = [r for r in records if r.get("outcome") == "ok"]
    assert len(ok) == ok_lines
    assert all(r["function"] == "work" and r["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736" for r in ok)
    assert len([r for r in records if r.get("outcome") == "error"]) == 2  # failures whatever the setting


def test_success_lines_read_the_environment(deployed_logging, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PORTSIDE_LOG_SUCCESS", "all")
    assert len([r for r in deployed_logging() if r.get("outcome") == "ok"]) == 2


@pytest.mark.parametrize("value", ["some", "2", "-0.1", "nan"])
def test_a_bad_success_setting_is_named(value: str) -> None:
    with pytest.raises(ValueError, match="PORTSIDE_LOG_SUCCESS must be none, all or a sample rate"):
        telemetry.SuccessLines().configure(value)


def test_sampling_counts_successes() -> None:
    lines = telemetry.SuccessLines()
    lines.configure("0.25")
    assert [lines.take() for _ in range(8)] == [False, False, False, True] * 2


def test_the_lazy_logger_is_the_named_logger() -> None:
    lazy = telemetry.Logger("tests.telemetry.lazy")
    assert lazy.isEnabledFor(logging.CRITICAL) and lazy.name == "tests.telemetry.lazy"
    assert lazy.getChild("x") is logging.getLogger("tests.telemetry.lazy.x")


def test_an_invocation_continues_the_senders_trace_in_a_span_of_its_own() -> None:
    unsampled = PARENT[:-2] + "00"
    mine = continued(unsampled)
    assert (mine.trace_id, mine.parent_span_id, mine.sampled) == ("4bf92f3577b34da6a3ce929d0e0e4736",
                                                                   "00f067aa0ba902b7", False)
    assert len(mine.span_id) == 16 and int(mine.span_id, 16) and mine.span_id != continued(unsampled).span_id
    fresh = continued("garbage")
    assert len(fresh.trace_id) == 32 and len(fresh.span_id) == 16 and fresh.parent_span_id is None and fresh.sampled


reader = logs.function("tests.core.test_telemetry:read_context", trigger=logs.queue("asks").on_message())
ASKED: list[object] = []


def read_context(message: Message) -> None:
    from portside import context

    inv = context()
    ASKED.append((inv.trace, inv.trace, inv.correlation_id))


def test_an_invocation_reads_its_trace_when_first_asked_and_keeps_it() -> None:
    """invoke leaves the trace and correlation id to be read from the event when first asked for
    (portside.runtime.Invocation): what is read is the event's trace continued in a span of its own,
    the same on every read, and the event's correlation id, else its id."""
    ASKED.clear()
    first = invoke(reader, NoPorts(), Message("m1", b"{}", "asks", {"traceparent": PARENT, "correlationid": "corr-2"}))
    second = invoke(reader, NoPorts(), Message("m2", b"{}", "asks"))
    (trace, again, correlation), (fresh, _, own) = ASKED
    assert trace is again and (trace.trace_id, trace.parent_span_id) == (PARENT[3:35], PARENT[36:52])
    assert trace.span_id != PARENT[36:52] and correlation == "corr-2"
    assert fresh.parent_span_id is None and fresh.trace_id != trace.trace_id and own == "m2"
    assert first.trace is trace and second.trace is fresh  # the outcome carries the span the handler ran in
    unasked = invoke(worker, NoPorts(), Message("m3", b"fine", "inbox", {"traceparent": PARENT}))
    assert unasked.trace is unasked.trace and unasked.trace.parent_span_id == PARENT[36:52]  # read when asked


def test_logging_state_puts_back_what_setting_logging_up_changes() -> None:
    import sys

    root, mine = logging.getLogger(), logging.getLogger("portside.telemetry-test")
    before = (root.level, list(root.handlers), [h.formatter for h in root.handlers], mine.level,
              telemetry.success_lines.every)
    with telemetry.LoggingState.save():
        telemetry.setup_logging(level="DEBUG", stream=sys.stderr, success="0.5")  # as a deployed entry does
        logging.getLogger("portside").setLevel(logging.ERROR)  # as `portside dev` does
        mine.setLevel(logging.CRITICAL)
        root.addHandler(logging.NullHandler())
        assert telemetry.success_lines.every == 2 and root.level == logging.DEBUG
    assert (root.level, list(root.handlers), [h.formatter for h in root.handlers], mine.level,
            telemetry.success_lines.every) == before
    assert logging.getLogger("portside").level == logging.NOTSET


def test_log_fields_does_not_depend_on_the_tests_run_before_it() -> None:
    """Run after a test whose GCP entry calls setup_logging and one that runs `portside dev` in process
    (both set logging up for the process), test_log_fields still passes: tests/conftest.py puts logging
    back after each test. In a child pytest: its order is the point."""
    import subprocess
    import sys
    from pathlib import Path

    tests = ["tests/gcp/test_entries.py::test_structured_storage_cloudevent_runs_the_handler",
             "tests/local/test_bad_input.py::test_port_already_in_use", "tests/core/test_telemetry.py::test_log_fields"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                         cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "3 passed" in run.stdout, run.stdout[-3000:]
