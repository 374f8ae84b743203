"""portside: write an event-driven serverless app once, run it on AWS, Google Cloud or one laptop.

Handlers receive normalized events and reach buckets, queues, topics and tables through
the resource handles their app declares. Nothing here imports a cloud SDK.
"""

from portside.app import App, load_app
from portside.declarations import Api, Backoff, Function, Resource, Schedule, Use
from portside.errors import (
    DeclarationError,
    HttpError,
    InProgress,
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

__all__ = [
    "Api", "App", "Backoff", "Bucket", "DeclarationError", "Event", "Function", "Headers", "HttpError",
    "HttpRequest", "HttpResponse", "InProgress", "Message", "NoInvocation", "NotFound", "ObjectCreated",
    "ObjectDeleted", "PayloadTooLarge", "PermanentError", "PermissionDenied", "PortsideError", "Queue",
    "RecordChanged", "Resource", "Schedule", "Table", "Tick", "Topic", "UnsupportedEvent", "Use",
    "context", "idempotent", "load_app",
]
