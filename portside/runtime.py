"""The invocation in progress, and the one place a resource handle finds its port."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from portside.errors import NoInvocation, PermissionDenied

if TYPE_CHECKING:
    from portside.app import Function
    from portside.events import AnyEvent
    from portside.ports import Target
    from portside.resources import Resource
    from portside.telemetry import TraceContext

_ACCESS_ATTR = {"read": "reader", "write": "writer", "send": "sender", "publish": "publisher"}


@dataclass(slots=True)
class Invocation:
    """What a handler can ask about its own run (``portside.context()``)."""

    function: Function
    target: Target
    event: AnyEvent
    attempt: int
    trace: TraceContext
    correlation_id: str


_current: ContextVar[Invocation | None] = ContextVar("portside_invocation", default=None)


def context() -> Invocation:
    """The running invocation; only valid inside a handler."""
    inv = _current.get()
    if inv is None:
        raise NoInvocation("no handler is running: portside.context() works only inside a handler")
    return inv


def current() -> Invocation | None:
    return _current.get()


def port_for(resource: Resource, access: str) -> Any:
    """Check the running function declared ``access`` on ``resource``; return the target's port."""
    inv = _current.get()
    if inv is None:
        raise NoInvocation(
            f"{resource.kind} {resource.name!r} was used outside a handler: resource handles work "
            "inside an invocation; in tests, act through the FakeCloud (cloud.bucket(...), cloud.emit(...))"
        )
    if not inv.function.allows(resource, access):
        raise PermissionDenied(
            f"function {inv.function.name!r} may not {access} {resource.kind} {resource.name!r}: "
            f"add {resource.name}.{_ACCESS_ATTR.get(access, access)} to its uses= in the app declaration"
        )
    return inv.target.port(resource)
