"""The delivery rules (docs/architecture.md, "Delivery"), in one place every target calls.

An adapter turns raw input into events, then asks this module to run the handler
(``invoke`` / ``invoke_batch``) and what to do with each outcome (``decide``):
acknowledge, retry after a backoff, or dead-letter with the error recorded.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from time import perf_counter

from portside.declarations import Function
from portside.errors import InProgress, PermanentError, PermissionDenied, UnsupportedEvent
from portside.events import AnyEvent, HttpRequest, HttpResponse, Message
from portside.ports import Target
from portside.record import Record, builder, setfield
from portside.runtime import _current, invocation, load_handler
from portside.telemetry import Logger, record_error, span, success_lines, tracing
from portside.trace import trace_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

    from portside.runtime import Invocation
    from portside.trace import TraceContext

log = Logger("portside")
INFO, WARNING, ERROR = 20, 30, 40  # logging's levels, without importing logging


class Outcome(Record):
    """How one event's invocation ended."""

    __slots__ = ("event", "attempt", "result", "error", "seconds", "trace", "_invocation")
    event: AnyEvent
    attempt: int
    result: Any
    error: BaseException | None
    seconds: float
    trace: TraceContext | None  # the invocation's span: what it published carries it on (the console's traces)

    def __init__(self, event: AnyEvent, attempt: int, result: Any = None, error: BaseException | None = None,
                 seconds: float = 0.0, trace: TraceContext | None = None) -> None:
        setfield(self, "event", event)
        setfield(self, "attempt", attempt)
        setfield(self, "result", result)
        setfield(self, "error", error)
        setfield(self, "seconds", seconds)
        setfield(self, "trace", trace)

    def __getattr__(self, name: str) -> Any:
        """The ``trace`` of an outcome ``invoke`` made: its invocation's, which is read from the event
        when first asked for (``portside.runtime.Invocation``), here or by the handler."""
        if name == "trace":
            trace = self._invocation.trace
            setfield(self, "trace", trace)
            return trace
        raise AttributeError(f"'Outcome' object has no attribute {name!r}", name=name, obj=self)

    def __getstate__(self) -> dict[str, Any]:  # the fields only (the trace is read first)
        return {name: getattr(self, name) for name in self._fields}

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def permanent(self) -> bool:
        """Retrying cannot help (``PermanentError``, ``UnsupportedEvent``, bad declarations)."""
        return isinstance(self.error, PermanentError)


class Action(enum.Enum):
    ACK = "ack"
    RETRY = "retry"
    DEAD_LETTER = "dead-letter"
    DROP = "drop"  # failed for good with dead_letter=False: logged as an error, never silent


class Decision(Record):
    __slots__ = ("action", "delay")
    action: Action
    delay: float  # seconds before the retry

    def __init__(self, action: Action, delay: float = 0.0) -> None:
        setfield(self, "action", action)
        setfield(self, "delay", delay)


_OutcomeBuilder = builder(Outcome)


def _outcome(event: AnyEvent, attempt: int, result: Any, error: BaseException | None, seconds: float,
             inv: Invocation) -> Outcome:
    """``Outcome(...)`` of ``inv`` at the cost of plain attribute sets (one per event:
    ``portside.record.builder``); its ``trace`` is the invocation's, read when asked for."""
    out = _OutcomeBuilder()
    out.event, out.attempt, out.result, out.error, out.seconds = event, attempt, result, error, seconds
    out._invocation = inv
    out.__class__ = Outcome
    return out


_ACK = Decision(Action.ACK)  # decisions are frozen: the common one is made once


def attempt_of(event: AnyEvent, default: int = 1) -> int:
    return event.attempt if isinstance(event, Message) else default


def invoke(function: Function, target: Target, event: AnyEvent, attempt: int | None = None,
           trace: TraceContext | None = None) -> Outcome:
    """Run ``function``'s handler on one event with its invocation context, trace it, and log a failure
    (a success only as ``PORTSIDE_LOG_SUCCESS`` asks: ``portside.telemetry.SuccessLines``).

    The trace context and correlation id are read from the event when something first asks for them
    (``portside.runtime.Invocation``); ``trace`` is the span's when OpenTelemetry records one. Every
    event comes here, so the path of a success is written out in line."""
    if not attempt:
        attempt = attempt_of(event)
    if trace is None and tracing():
        return _in_span(function, target, event, attempt)
    inv = invocation(function, target, event, attempt)
    if trace is not None:
        inv.trace = trace
    token = _current.set(inv)
    started = perf_counter()
    try:
        result = load_handler(function)(event)
        if isinstance(event, HttpRequest):
            result = to_response(result)
    except Exception as error:  # noqa: BLE001 - classified in _failed, never lost
        return _failed(function, event, attempt, error, perf_counter() - started, inv)
    else:
        out = _OutcomeBuilder()  # _outcome(...) in line
        out.event, out.attempt, out.result, out.error, out.seconds = event, attempt, result, None, perf_counter() - started
        out._invocation = inv
        out.__class__ = Outcome
        if success_lines.every and success_lines.take() and log.isEnabledFor(INFO):
            log.info("%s handled %s", function.name, type(event).__name__,
                     extra={"outcome": "ok", "attempt": attempt, "duration_ms": round(out.seconds * 1000, 3)})
        return out
    finally:
        _current.reset(token)


def _in_span(function: Function, target: Target, event: AnyEvent, attempt: int) -> Outcome:
    """``invoke`` inside an OpenTelemetry span continuing the event's trace."""
    with span(function.name, trace_of(event), {"faas.trigger": function.trigger.kind,
                                               "messaging.message.id": event.id}) as trace:
        return invoke(function, target, event, attempt, trace)


def _failed(function: Function, event: AnyEvent, attempt: int, error: Exception, seconds: float,
            inv: Invocation) -> Outcome:
    """The outcome of a handler that raised ``error`` (called while it is handled), logged with its
    context: a permanent error or an event another delivery holds (InProgress) is expected, one line."""
    record_error(error)
    out = _outcome(event, attempt, None, error, seconds, inv)
    expected = (out.permanent and not isinstance(error, PermissionDenied)) or isinstance(error, InProgress)
    level = WARNING if expected else ERROR
    log.log(level, "%s failed on %s (attempt %d): %s: %s", function.name, type(event).__name__,
            attempt, type(error).__name__, error, exc_info=not (out.permanent or expected),
            extra={"outcome": "error", "attempt": attempt, "error_type": type(error).__name__,
                   "duration_ms": round(out.seconds * 1000, 3)})
    return out


def invoke_batch(function: Function, target: Target, events: Sequence[AnyEvent]) -> list[Outcome]:
    """Each event on its own: one failure never takes down its neighbours."""
    return [invoke(function, target, e) for e in events]


def decide(function: Function, outcome: Outcome) -> Decision:
    """Ack, retry with backoff, or dead-letter, by the function's trigger options."""
    if outcome.error is None:
        return _ACK
    trigger = function.trigger
    if outcome.permanent or outcome.attempt >= trigger.max_attempts:
        if trigger.dead_letter:
            return Decision(Action.DEAD_LETTER)
        log.error("%s: event %s failed for good and its trigger has dead_letter=False: it is dropped",
                  function.name, outcome.event.id, extra={"outcome": "dropped"})
        return Decision(Action.DROP)
    return Decision(Action.RETRY, trigger.backoff.delay(outcome.attempt))


def settle_batch(items: Iterable[T], run: Callable[[T], bool], *, group: Callable[[T], Hashable | None] | None = None,
                 ordered: bool = False) -> tuple[list[T], list[T]]:
    """Run a batch one item at a time, in order; returns ``(failed, held)`` to redeliver.

    ``run(item)`` delivers one item and acts on ``decide`` (ack, dead-letter, drop), returning
    False when the item must come again. A failure never takes its neighbours down, except where
    order is the contract: after an item that must come again, the later items of its FIFO group
    (``group(item)``), or with ``ordered`` (a stream shard) every later item, are held back unrun,
    so none overtakes it: the rule of SQS FIFO event sources (Powertools' SqsFifoPartialProcessor
    with skip_group_on_error). Every target settles its batches here.
    """
    again: list[T] = []
    held: list[T] = []
    blocked: set[Hashable] = set()  # the groups of the items that must come again
    for item in items:  # an item's group is asked only once one has failed
        if (ordered and again) or (blocked and group(item) in blocked):  # type: ignore[misc]
            held.append(item)
            continue
        if not run(item):
            again.append(item)
            key = group(item) if group is not None else None
            if key is not None:
                blocked.add(key)
    return again, held


def failed(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The outcomes a batch must report as item failures (retryable errors only)."""
    return [o for o in outcomes if not o.ok]


def dead_letter_attributes(function: Function, outcome: Outcome) -> dict[str, str]:
    """What travels with a dead-lettered event so the reason is never lost."""
    error = outcome.error
    return {
        "portside-function": function.name,
        "portside-error-type": type(error).__name__ if error else "",
        "portside-error": str(error)[:1024] if error else "",
        "portside-attempts": str(outcome.attempt),
        "portside-event-id": outcome.event.id,
    }


def to_response(result: Any) -> HttpResponse:
    """What an HTTP handler may return: HttpResponse, str, bytes, dict/list (JSON) or None."""
    if isinstance(result, HttpResponse):
        return result
    if result is None:
        return HttpResponse(204)
    if isinstance(result, str):
        return HttpResponse(200, {"content-type": "text/plain; charset=utf-8"}, result.encode())
    if isinstance(result, (bytes, bytearray)):
        return HttpResponse(200, {"content-type": "application/octet-stream"}, bytes(result))
    if isinstance(result, (Mapping, list)):
        return HttpResponse.json_body(result)
    raise TypeError(
        f"HTTP handler returned {type(result).__name__}; return an HttpResponse, str, bytes, dict, list or None"
    )


def http_response(outcome: Outcome) -> HttpResponse:
    """The answer an HTTP caller gets: the handler's, or an error without internals."""
    if outcome.ok:
        return outcome.result
    error = outcome.error
    if isinstance(error, UnsupportedEvent) or (isinstance(error, PermanentError) and not isinstance(error, PermissionDenied)):
        status = getattr(error, "status", 400)
        return HttpResponse(status, {"content-type": "application/json"},
                            json.dumps({"error": str(error), "request_id": outcome.event.id}).encode())
    return HttpResponse(500, {"content-type": "application/json"},
                        json.dumps({"error": "internal error", "request_id": outcome.event.id}).encode())


class DeadLetter(Record):
    """An event that failed for good, intact, with the error that sent it here."""

    __slots__ = ("function", "event", "error_type", "error", "attempts")
    function: str
    event: AnyEvent
    error_type: str
    error: str
    attempts: int

    def __init__(self, function: str, event: AnyEvent, error_type: str, error: str, attempts: int) -> None:
        setfield(self, "function", function)
        setfield(self, "event", event)
        setfield(self, "error_type", error_type)
        setfield(self, "error", error)
        setfield(self, "attempts", attempts)

    @classmethod
    def of(cls, function: Function, outcome: Outcome) -> DeadLetter:
        error = outcome.error
        return cls(function.name, outcome.event, type(error).__name__, str(error), outcome.attempt)
