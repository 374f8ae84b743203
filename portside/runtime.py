"""The invocation in progress, and the one place a resource handle finds its port."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextvars import ContextVar

from portside.declarations import Function, Resource
from portside.errors import DeclarationError, NoInvocation, PermissionDenied
from portside.events import AnyEvent
from portside.ports import Target
from portside.record import Record, builder
from portside.trace import TraceContext, correlation_of, trace_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_ACCESS_ATTR = {"read": "reader", "write": "writer", "send": "sender", "publish": "publisher"}


class Invocation(Record):
    """What a handler can ask about its own run (``portside.context()``)."""

    __slots__ = ("function", "target", "event", "attempt", "trace", "correlation_id")
    mutable = True
    function: Function
    target: Target
    event: AnyEvent
    attempt: int
    trace: TraceContext
    correlation_id: str

    def __init__(self, function: Function, target: Target, event: AnyEvent, attempt: int,
                 trace: TraceContext | None = None, correlation_id: str | None = None) -> None:
        self.function, self.target, self.event, self.attempt = function, target, event, attempt
        if trace is not None:
            self.trace = trace
        if correlation_id is not None:
            self.correlation_id = correlation_id

    def __getattr__(self, name: str) -> Any:
        """``trace`` and ``correlation_id`` not given are read from the event when first asked for (a
        log line, a publish, ``context()``): most runs never propagate them, and a new span id costs
        a system call."""
        if name == "trace":
            value: Any = trace_of(self.event)
        elif name == "correlation_id":
            value = correlation_of(self.event)
        else:
            raise AttributeError(f"'Invocation' object has no attribute {name!r}", name=name, obj=self)
        try:  # another thread of the same run may have asked first: one span id per run
            return object.__getattribute__(self, name)
        except AttributeError:
            object.__setattr__(self, name, value)
        return value


_InvocationBuilder = builder(Invocation)


def invocation(function: Function, target: Target, event: AnyEvent, attempt: int) -> Invocation:
    """``Invocation(function, target, event, attempt)`` without a Python ``__init__``: one per event."""
    inv = _InvocationBuilder()
    inv.function, inv.target, inv.event, inv.attempt = function, target, event, attempt
    inv.__class__ = Invocation
    return inv


_current: ContextVar[Invocation | None] = ContextVar("portside_invocation", default=None)


def context() -> Invocation:
    """The running invocation; only valid inside a handler."""
    inv = _current.get()
    if inv is None:
        raise NoInvocation("no handler is running: portside.context() works only inside a handler")
    return inv


def current() -> Invocation | None:
    return _current.get()


def target_time() -> float:
    """Epoch seconds by the running target's clock (the fake cloud's is virtual), else the system's."""
    inv = _current.get()
    clock = getattr(inv.target, "now", None) if inv else None
    return clock().timestamp() if clock else time.time()


def port_for(resource: Resource, access: str) -> Any:
    """Check the running function declared ``access`` on ``resource``; return the target's port."""
    inv = _current.get()
    if inv is None:
        raise NoInvocation(
            f"{resource.kind} {resource.name!r} was used outside a handler: resource handles work "
            "inside an invocation; in tests, act through the test client (cloud.upload(...), cloud.send(...))"
        )
    if not inv.function.allows(resource, access):
        raise PermissionDenied(
            f"function {inv.function.name!r} may not {access} {resource.kind} {resource.name!r}: "
            f"add {resource.name}.{_ACCESS_ATTR.get(access, access)} to its uses= in the app declaration"
        )
    return inv.target.port(resource)


_loaded: dict[Function, tuple[str, str, Any, str, Any]] = {}  # function -> (handler, module name, module, attribute, handler)


def load_handler(function: Function) -> Callable[..., Any]:
    """Import the function's handler (``sys.modules`` keeps it); a module that fails to import says
    which and why, and a module without the callable says that. Every invocation asks, so a handler
    found and checked is remembered for its function, and given again while it is still what the
    function names: the same handler spec, the module ``sys.modules`` holds (a reload replaces it),
    the same object under its name (a test may patch it). Its needs were checked then, against the
    function's grants, which are fixed when the function is made."""
    known = _loaded.get(function)
    if known is not None:
        spec, module_name, module, attr, target = known
        if spec is function.handler and sys.modules.get(module_name) is module and getattr(module, attr, None) is target:
            return target
    spec = function.handler
    module_name, _, attr = spec.partition(":")
    module = sys.modules.get(module_name)
    if module is None or getattr(module.__spec__, "_initializing", False):  # not yet, or another thread's import
        from importlib import import_module

        try:
            module = import_module(module_name)
        except Exception as e:
            raise DeclarationError(f"function {function.name!r}: cannot import handler module {module_name!r}: "
                                   f"{type(e).__name__}: {e}") from e
    target = getattr(module, attr, None)
    if not callable(target):
        raise DeclarationError(f"function {function.name!r}: {module_name!r} has no callable {attr!r}")
    needs = getattr(target, "__portside_needs__", None)
    if needs:
        check_needs(function, needs)
    _loaded[function] = (spec, module_name, module, attr, target)
    return target


def check_needs(function: Function, needs: Any) -> None:
    """The permissions a helper on the handler needs (``@idempotent`` reads and writes its table),
    checked when the handler is loaded: the fake cloud and ``portside dev`` load every handler up
    front, a deployed function at its first event."""
    missing: dict[str, list[str]] = {}
    for resource, access, helper in needs:
        if not function.allows(resource, access):
            missing.setdefault(helper, []).append(f"{resource.name}.{_ACCESS_ATTR.get(access, access)}")
    if missing:
        raise DeclarationError("; ".join(
            f"function {function.name!r}: {helper} needs {' and '.join(uses)} in its uses= (it keeps a record of "
            "each event there; without them the first duplicate fails)" for helper, uses in missing.items()))
