"""portside: write an event-driven serverless app once, run it on AWS, Google Cloud or one laptop.

Handlers receive normalized events and reach buckets, queues, topics and tables through
the resource handles their app declares. Nothing here imports a cloud SDK.

The public names load on first use (``from portside import App`` imports ``portside.app``):
importing ``portside.aws`` in a function loads only what that entry needs, not the whole SDK.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from portside.app import App, load_app
    from portside.declarations import Api, Backoff, Function, Resource, Schedule, Use
    from portside.errors import (
        CloudLimitError,
        DeclarationError,
        HttpError,
        InProgress,
        InvalidRequest,
        NoInvocation,
        NotFound,
        PayloadTooLarge,
        PermanentError,
        PermissionDenied,
        PortsideError,
        UnsupportedEvent,
    )
    from portside.events import (
        Event,
        Headers,
        HttpRequest,
        HttpResponse,
        Message,
        ObjectCreated,
        ObjectDeleted,
        RecordChanged,
        Tick,
    )
    from portside.handles import Bucket, Queue, Table, Topic
    from portside.idempotency import idempotent
    from portside.runtime import context

_HOMES = {
    "portside.app": ("App", "load_app"),
    "portside.declarations": ("Api", "Backoff", "Function", "Resource", "Schedule", "Use"),
    "portside.errors": ("CloudLimitError", "DeclarationError", "HttpError", "InProgress", "InvalidRequest", "NoInvocation",
                        "NotFound", "PayloadTooLarge", "PermanentError", "PermissionDenied", "PortsideError",
                        "UnsupportedEvent"),
    "portside.events": ("Event", "Headers", "HttpRequest", "HttpResponse", "Message", "ObjectCreated", "ObjectDeleted",
                        "RecordChanged", "Tick"),
    "portside.handles": ("Bucket", "Queue", "Table", "Topic"),
    "portside.idempotency": ("idempotent",),
    "portside.runtime": ("context",),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "Api", "App", "Backoff", "Bucket", "CloudLimitError", "DeclarationError", "Event", "Function", "Headers", "HttpError",
    "HttpRequest", "HttpResponse", "InProgress", "InvalidRequest", "Message", "NoInvocation", "NotFound", "ObjectCreated",
    "ObjectDeleted", "PayloadTooLarge", "PermanentError", "PermissionDenied", "PortsideError", "Queue",
    "RecordChanged", "Resource", "Schedule", "Table", "Tick", "Topic", "UnsupportedEvent", "Use",
    "context", "idempotent", "load_app",
]


def __getattr__(name: str) -> object:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'portside' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
