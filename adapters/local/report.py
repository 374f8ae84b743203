"""What the runtime says about each finished invocation (``portside dev``'s live line, the console)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from portside.delivery import Decision, Outcome
from portside.errors import PortsideError
from portside.events import AnyEvent, Event, HttpRequest, Message, ObjectCreated, ObjectDeleted, Tick


@dataclass(frozen=True, slots=True)
class Report:
    """One finished invocation."""

    source: str
    function: str
    outcome: Outcome
    decision: Decision | None  # None for HTTP (answered, never retried)
    status: int | None = None  # HTTP status


def preview(event: AnyEvent, limit: int = 160) -> str:
    """A short line saying what the event holds (the live line, ``dlq list``, the console)."""
    if isinstance(event, Message) and b'"specversion"' in event.body[:400]:
        try:  # a CloudEvent: its type and data say more than its envelope
            ce = event.event()
            text = f"{ce.type} {json.dumps(ce.data, default=str)}"
        except PortsideError:
            text = event.body.decode("utf-8", "replace")
    elif isinstance(event, (Message, HttpRequest)):
        head = f"{event.method} {event.path} " if isinstance(event, HttpRequest) else ""
        text = head + event.body.decode("utf-8", "replace")
    elif isinstance(event, (ObjectCreated, ObjectDeleted)):
        text = f"{event.bucket}/{event.key}" + (f" ({event.size} bytes)" if isinstance(event, ObjectCreated) else "")
    elif isinstance(event, Tick):
        text = f"tick of {event.schedule}"
    elif isinstance(event, Event):
        text = f"{event.type} {event.data!r}"
    else:
        text = type(event).__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
