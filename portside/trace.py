"""W3C trace context: the ids an invocation continues and passes on to what it publishes."""

from __future__ import annotations

import os

from portside.record import Record, setfield

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

TRACEPARENT = "traceparent"
CORRELATION = "correlationid"  # a valid CloudEvents extension and message attribute name
CORRELATION_HEADER = "x-correlation-id"


class TraceContext(Record):
    __slots__ = ("trace_id", "span_id", "sampled", "parent_span_id")
    trace_id: str  # 32 hex
    span_id: str  # 16 hex: this invocation's span
    sampled: bool
    parent_span_id: str | None  # the span of whoever sent the event

    def __init__(self, trace_id: str, span_id: str, sampled: bool = True, parent_span_id: str | None = None) -> None:
        setfield(self, "trace_id", trace_id)
        setfield(self, "span_id", span_id)
        setfield(self, "sampled", sampled)
        setfield(self, "parent_span_id", parent_span_id)

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"

    @classmethod
    def new(cls) -> TraceContext:
        ids = os.urandom(24).hex()  # one system call for both ids
        return cls(ids[:32], ids[32:])

    def child(self) -> TraceContext:
        return TraceContext(self.trace_id, os.urandom(8).hex(), self.sampled, self.span_id)


def _parse(value: str | None) -> tuple[str, str, bool] | None:
    """(trace id, span id, sampled) of a W3C ``traceparent`` (version 00), None if absent or malformed."""
    if not value or len(value) < 55:
        return None
    parts = value.strip().split("-")
    if len(parts) < 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    try:
        int(parts[1], 16), int(parts[2], 16)
        flags = int(parts[3][:2], 16)
    except ValueError:
        return None
    if parts[1] == "0" * 32 or parts[2] == "0" * 16:
        return None
    return parts[1], parts[2], bool(flags & 1)


def parse_traceparent(value: str | None) -> TraceContext | None:
    """A W3C ``traceparent`` (version 00) or None if absent or malformed."""
    parsed = _parse(value)
    return TraceContext(*parsed) if parsed else None


def carrier(event: Any) -> Mapping[str, str]:
    """Where an event carries its trace context and correlation id: message attributes, CloudEvent
    extensions or HTTP headers."""
    found = getattr(event, "attributes", None) or getattr(event, "extensions", None)
    if found is None:
        found = getattr(event, "headers", None) or {}
    return found


def trace_of(event: Any) -> TraceContext:
    """The span an invocation of ``event`` runs in: a child of the span the event names, else a new trace."""
    return continued(carrier(event).get(TRACEPARENT))


def correlation_of(event: Any) -> str:
    """The correlation id ``event`` carries, else its own id."""
    found = carrier(event)
    return found.get(CORRELATION) or found.get(CORRELATION_HEADER) or event.id


def continued(traceparent: str | None) -> TraceContext:
    """An invocation's own span: a child of the span ``traceparent`` names, else the root of a new trace
    (what ``parse_traceparent(v).child()`` gives, without the parent's object: every event asks)."""
    parsed = _parse(traceparent)
    if parsed is None:
        return TraceContext.new()
    trace_id, span_id, sampled = parsed
    return TraceContext(trace_id, os.urandom(8).hex(), sampled, span_id)
