"""Trace context, correlation ids and structured JSON logs (docs/architecture.md, "Observability").

Every invocation continues the W3C trace its event carries (``traceparent`` in message
attributes, CloudEvent extensions or HTTP headers), and everything it publishes carries
the trace and the correlation id on. Log lines are one JSON object each, with the
fields CloudWatch Logs Insights and Cloud Logging read (``severity``, ``level``,
``logging.googleapis.com/trace``). OpenTelemetry is used when it is installed: each
invocation is then a span; it is never imported otherwise.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from portside.events import AnyEvent, Event
from portside.runtime import current
from portside.trace import CORRELATION, CORRELATION_HEADER, TRACEPARENT, TraceContext, parse_traceparent

__all__ = ["JsonFormatter", "TraceContext", "incoming", "outgoing_attributes", "parse_traceparent", "record_error",
           "setup_logging", "span", "stamp_event"]


def incoming(event: AnyEvent) -> tuple[TraceContext, str]:
    """The trace to continue (a new span in it) and the correlation id of ``event``."""
    carrier: Any = getattr(event, "attributes", None) or getattr(event, "extensions", None)
    if carrier is None:
        carrier = getattr(event, "headers", None) or {}
    parent = parse_traceparent(carrier.get(TRACEPARENT))
    correlation = carrier.get(CORRELATION) or carrier.get(CORRELATION_HEADER) or event.id
    return (parent.child() if parent else TraceContext.new()), correlation


def outgoing_attributes(attributes: dict[str, str]) -> dict[str, str]:
    """Add the running invocation's trace and correlation id to message attributes."""
    inv = current()
    if inv is not None:
        attributes.setdefault(TRACEPARENT, inv.trace.traceparent)
        attributes.setdefault(CORRELATION, inv.correlation_id)
    return attributes


def stamp_event(event: Event) -> Event:
    """The same CloudEvent with the running trace and correlation id as extensions."""
    inv = current()
    if inv is None or (TRACEPARENT in event.extensions and CORRELATION in event.extensions):
        return event
    ext = {TRACEPARENT: inv.trace.traceparent, CORRELATION: inv.correlation_id, **event.extensions}
    return replace(event, extensions=ext)


_GCP_PROJECT = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCP_PROJECT")
_SEVERITY = {"WARNING": "WARNING", "CRITICAL": "CRITICAL", "ERROR": "ERROR", "INFO": "INFO", "DEBUG": "DEBUG"}
_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, carrying the running invocation's ids."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "severity": _SEVERITY.get(record.levelname, "DEFAULT"),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        inv = current()
        if inv is not None:
            out["function"] = inv.function.name
            out["event_id"] = inv.event.id
            out["correlation_id"] = inv.correlation_id
            out["traceparent"] = inv.trace.traceparent
            out["trace_id"] = inv.trace.trace_id
            out["span_id"] = inv.trace.span_id
            if _GCP_PROJECT:
                out["logging.googleapis.com/trace"] = f"projects/{_GCP_PROJECT}/traces/{inv.trace.trace_id}"
                out["logging.googleapis.com/spanId"] = inv.trace.span_id
                out["logging.googleapis.com/trace_sampled"] = inv.trace.sampled
        for k, v in record.__dict__.items():
            if k not in _STD and not k.startswith("_"):
                out[k] = v
        if record.exc_info:
            out["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(out, default=str, ensure_ascii=False)


def setup_logging(level: str | None = None, stream: Any = None) -> None:
    """Make the root logger write JSON lines (idempotent; the Lambda runtime's handler is reused)."""
    root = logging.getLogger()
    root.setLevel(level or os.environ.get("PORTSIDE_LOG_LEVEL", "INFO"))
    if not root.handlers:
        root.addHandler(logging.StreamHandler(stream or sys.stdout))
    for handler in root.handlers:
        if not isinstance(handler.formatter, JsonFormatter):
            handler.setFormatter(JsonFormatter())


_otel: Any = None  # None = not looked for yet; False = absent


def _tracer() -> Any:
    global _otel
    if _otel is None:
        _otel = False
        if os.environ.get("PORTSIDE_OTEL", "1") != "0":
            try:
                from opentelemetry import trace
                from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

                _otel = (trace.get_tracer("portside"), TraceContextTextMapPropagator(), trace)
            except ImportError:
                pass
    return _otel


@contextmanager
def span(name: str, trace: TraceContext, attributes: dict[str, Any]) -> Iterator[TraceContext]:
    """An OpenTelemetry span continuing ``trace`` when OpenTelemetry is installed.

    Yields the trace context the invocation should propagate: the span's own ids when a
    recording tracer is configured, else ``trace`` unchanged.
    """
    otel = _tracer()
    if not otel:
        yield trace
        return
    tracer, propagator, api = otel
    carrier = {TRACEPARENT: f"00-{trace.trace_id}-{trace.parent_span_id}-01"} if trace.parent_span_id else {}
    parent = propagator.extract(carrier)
    with tracer.start_as_current_span(name, context=parent, attributes=attributes) as s:
        ctx = s.get_span_context()
        if s.is_recording() and ctx.is_valid:  # without an SDK the span just echoes its parent
            yield TraceContext(format(ctx.trace_id, "032x"), format(ctx.span_id, "016x"), ctx.trace_flags.sampled)
        else:
            yield trace


def record_error(error: BaseException) -> None:
    """Mark the current OpenTelemetry span failed (no-op without OpenTelemetry)."""
    otel = _tracer()
    if otel:
        s = otel[2].get_current_span()
        s.record_exception(error)
        s.set_status(otel[2].Status(otel[2].StatusCode.ERROR, str(error)[:200]))
