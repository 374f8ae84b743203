"""Trace context, correlation ids and structured JSON logs (docs/architecture.md, "Observability").

Every invocation continues the W3C trace its event carries (``traceparent`` in message
attributes, CloudEvent extensions or HTTP headers), and everything it publishes carries
the trace and the correlation id on. Log lines are one JSON object each, with the
fields CloudWatch Logs Insights and Cloud Logging read (``severity``, ``level``,
``logging.googleapis.com/trace``). OpenTelemetry is used when it is installed: each
invocation is then a span; it is never imported otherwise.

Logging costs nothing on success: every failed attempt is logged in full (error, traceback unless
permanent, attempt, duration, and the invocation's ids), and so is what a target retries or
dead-letters, while a successful invocation's line (``outcome: ok``) is written only when asked for
(``PORTSIDE_LOG_SUCCESS``, see :func:`setup_logging`). ``logging`` itself is imported on the first
line logged, so importing an entry does not load it.
"""

from __future__ import annotations

import os

from portside.events import AnyEvent, Event
from portside.record import replace
from portside.runtime import current
from portside.trace import CORRELATION, TRACEPARENT, TraceContext, correlation_of, parse_traceparent, trace_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from logging import Formatter
    from typing import Any

    JsonFormatter: type[Formatter]  # defined on first use, see __getattr__

__all__ = ["JsonFormatter", "Logger", "LoggingState", "SuccessLines", "TraceContext", "incoming", "outgoing_attributes",
           "parse_traceparent", "record_error", "setup_logging", "span", "stamp_event", "success_lines", "tracing"]


def incoming(event: AnyEvent) -> tuple[TraceContext, str]:
    """The trace to continue (a new span in it) and the correlation id of ``event`` (what an
    invocation reads from its event when something first asks: ``portside.runtime.Invocation``)."""
    return trace_of(event), correlation_of(event)


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


class Logger:
    """``logging.getLogger(name)``, looked up on first use (``log = Logger("portside.aws")``), so that
    importing a module that logs only when something goes wrong does not import ``logging``."""

    __slots__ = ("name", "_logger")

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> Any:
        if attr == "_logger":
            import logging

            self._logger = logging.getLogger(self.name)
            return self._logger
        return getattr(self._logger, attr)

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - logging's name; asked per invocation, so not through __getattr__
        return self._logger.isEnabledFor(level)


class SuccessLines:
    """Which successful invocations get their INFO line: one in ``every`` (1: all of them, 0: none).

    Without ``setup_logging`` every one, as far as the ``portside`` logger's level lets it (a library
    logs, the application configures: pytest and the root logger's WARNING keep them out). Deployed
    functions call ``setup_logging``, which writes none unless ``PORTSIDE_LOG_SUCCESS`` asks.
    """

    __slots__ = ("every", "_count")

    def __init__(self, every: int = 1) -> None:
        self.every = every
        self._count = 0

    def take(self) -> bool:
        """Whether this success gets its line (counted per process; a race only shifts the sample)."""
        if self.every <= 1:
            return self.every == 1
        self._count += 1
        if self._count < self.every:
            return False
        self._count = 0
        return True

    def configure(self, value: str) -> None:
        """``none`` (or empty), ``all``, or a sample rate in (0, 1] such as ``0.01`` (one line in 100)."""
        text = value.strip().lower()
        if text in ("", "none", "0"):
            self.every = 0
        elif text == "all":
            self.every = 1
        else:
            try:
                rate = float(text)
            except ValueError:
                rate = -1.0
            if not 0 < rate <= 1:
                raise ValueError(f"{SUCCESS_ENV} must be none, all or a sample rate in (0, 1] such as 0.01, "
                                 f"got {value!r}")
            self.every = round(1 / rate)
        self._count = 0


SUCCESS_ENV = "PORTSIDE_LOG_SUCCESS"
success_lines = SuccessLines()  # what invoke reads; setup_logging configures it


_GCP_PROJECT = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCP_PROJECT")
_SEVERITY = {"WARNING": "WARNING", "CRITICAL": "CRITICAL", "ERROR": "ERROR", "INFO": "INFO", "DEBUG": "DEBUG"}


def _json_formatter() -> type:
    """``JsonFormatter``, a ``logging.Formatter``: defined on first use (module ``__getattr__``)."""
    import json
    import logging
    import traceback
    from datetime import datetime, timezone

    standard = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

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
                if k not in standard and not k.startswith("_"):
                    out[k] = v
            if record.exc_info:
                out["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            return json.dumps(out, default=str, ensure_ascii=False)

    JsonFormatter.__module__, JsonFormatter.__qualname__ = __name__, "JsonFormatter"
    return JsonFormatter


def __getattr__(name: str) -> Any:
    if name == "JsonFormatter":
        globals()[name] = formatter = _json_formatter()
        return formatter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def json_formatter() -> type[Formatter]:
    """The ``JsonFormatter`` class (defined, and ``logging`` imported, on the first call)."""
    return globals().get("JsonFormatter") or __getattr__("JsonFormatter")


def setup_logging(level: str | None = None, stream: Any = None, success: str | None = None) -> None:
    """Make the root logger write JSON lines (idempotent; the Lambda runtime's handler is reused).

    ``level`` (default ``PORTSIDE_LOG_LEVEL``, else INFO) is the root logger's: handlers' own lines.
    ``success`` (default ``PORTSIDE_LOG_SUCCESS``) says which successful invocations get a line:
    ``none`` (the default, DEBUG aside), ``all``, or a sample rate such as ``0.01``.
    """
    import logging
    import sys

    root = logging.getLogger()
    level = level or os.environ.get("PORTSIDE_LOG_LEVEL", "INFO")
    root.setLevel(level)
    choice = success if success is not None else os.environ.get(SUCCESS_ENV)
    if choice is None:
        choice = "all" if root.getEffectiveLevel() <= logging.DEBUG else "none"
    success_lines.configure(choice)
    if not root.handlers:
        root.addHandler(logging.StreamHandler(stream or sys.stdout))
    formatter = json_formatter()
    for handler in root.handlers:
        if not isinstance(handler.formatter, formatter):
            handler.setFormatter(formatter())


class LoggingState:
    """What setting logging up changes in the process, saved to be put back: the root logger's level and
    handlers (with each one's formatter), the level of every ``portside`` logger, and which successes get
    a line. ``setup_logging`` (a deployed entry) and ``portside dev`` change them for the process's
    life; whatever runs them in a process that goes on (a test, an embedding program) restores them::

        with LoggingState.save():
            setup_logging()
            ...
    """

    __slots__ = ("root_level", "handlers", "levels", "success")

    def __init__(self, root_level: int, handlers: list[tuple[Any, Any]], levels: dict[str, int],
                 success: tuple[int, int]) -> None:
        self.root_level, self.handlers, self.levels, self.success = root_level, handlers, levels, success

    @classmethod
    def save(cls) -> LoggingState:
        import logging

        root = logging.getLogger()
        return cls(root.level, [(h, h.formatter) for h in root.handlers], _portside_levels(),
                   (success_lines.every, success_lines._count))

    def restore(self) -> None:
        import logging

        root = logging.getLogger()
        root.setLevel(self.root_level)
        root.handlers[:] = [h for h, _ in self.handlers]
        for handler, formatter in self.handlers:
            handler.setFormatter(formatter)
        for name in _portside_levels():  # a portside logger made since is as it was made (NOTSET)
            logging.getLogger(name).setLevel(self.levels.get(name, logging.NOTSET))
        success_lines.every, success_lines._count = self.success

    def __enter__(self) -> LoggingState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()


def _portside_levels() -> dict[str, int]:
    import logging

    return {name: logger.level for name, logger in list(logging.Logger.manager.loggerDict.items())
            if (name == "portside" or name.startswith("portside.")) and isinstance(logger, logging.Logger)}


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


def tracing() -> bool:
    """Whether OpenTelemetry is installed (and not turned off with ``PORTSIDE_OTEL=0``)."""
    return bool(_otel if _otel is not None else _tracer())  # every invocation asks: the answer, once known


def span(name: str, trace: TraceContext, attributes: dict[str, Any]) -> AbstractContextManager[TraceContext]:
    """An OpenTelemetry span continuing ``trace`` when OpenTelemetry is installed.

    Its ``with`` gives the trace context the invocation should propagate: the span's own ids when a
    recording tracer is configured, else ``trace`` unchanged.
    """
    return _Span(name, trace, attributes)


class _Span:
    __slots__ = ("name", "trace", "attributes", "_open")

    def __init__(self, name: str, trace: TraceContext, attributes: dict[str, Any]) -> None:
        self.name, self.trace, self.attributes, self._open = name, trace, attributes, None

    def __enter__(self) -> TraceContext:
        otel = _tracer()
        if not otel:
            return self.trace
        tracer, propagator, api = otel
        trace = self.trace
        carrier = {TRACEPARENT: f"00-{trace.trace_id}-{trace.parent_span_id}-01"} if trace.parent_span_id else {}
        self._open = tracer.start_as_current_span(self.name, context=propagator.extract(carrier),
                                                  attributes=self.attributes)
        s = self._open.__enter__()
        ctx = s.get_span_context()
        if s.is_recording() and ctx.is_valid:  # without an SDK the span just echoes its parent
            return TraceContext(format(ctx.trace_id, "032x"), format(ctx.span_id, "016x"), ctx.trace_flags.sampled)
        return trace

    def __exit__(self, *error: Any) -> Any:
        return self._open.__exit__(*error) if self._open is not None else None


def record_error(error: BaseException) -> None:
    """Mark the current OpenTelemetry span failed (no-op without OpenTelemetry)."""
    otel = _tracer()
    if otel:
        s = otel[2].get_current_span()
        s.record_exception(error)
        s.set_status(otel[2].Status(otel[2].StatusCode.ERROR, str(error)[:200]))
