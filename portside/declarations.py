"""What an app declares, as plain data: resources, triggers, permissions and functions.

Nothing here runs anything. ``portside.infra`` provisions from these objects, the local runtime
and the fake cloud deliver by them, and ``portside.handles`` adds to each resource the calls a
handler makes at run time (``thumbnails.put(key, data)``), checked against these declarations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from portside.errors import DeclarationError
from portside.record import Record, setfield

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

NAME = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")


def check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise DeclarationError(
            f"{kind} name {name!r} is invalid: use 3-40 lowercase letters, digits and '-', "
            "starting with a letter (a name every cloud accepts once prefixed by the stack)"
        )
    return name


class Use(Record):
    """A declared permission: ``access`` on ``resource`` (e.g. ``thumbnails.writer``)."""

    __slots__ = ("resource", "access")
    resource: Resource
    access: str

    def __init__(self, resource: Resource, access: str) -> None:
        setfield(self, "resource", resource)
        setfield(self, "access", access)

    def __repr__(self) -> str:
        return f"{self.resource.name}.{self.access}"


class Resource:
    """Base of every declared resource. Subclasses name their kind and accesses."""

    kind: ClassVar[str]
    accesses: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str) -> None:
        self.name = check_name(self.kind, name)
        self.app: Any = None  # the App that declared it, set by App.add

    def use(self, access: str) -> Use:
        if access not in self.accesses:
            raise DeclarationError(
                f"{self.kind} {self.name!r} has no access {access!r}; choose from {list(self.accesses)}"
            )
        return Use(self, access)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Backoff(Record):
    """Exponential backoff between attempts: initial * 2**(n-1), capped at maximum (seconds)."""

    __slots__ = ("initial", "maximum")
    initial: float
    maximum: float

    def __init__(self, initial: float = 10.0, maximum: float = 600.0) -> None:
        if not (0 < initial <= maximum):
            raise DeclarationError(f"Backoff needs 0 < initial <= maximum, got initial={initial}, maximum={maximum}")
        setfield(self, "initial", initial)
        setfield(self, "maximum", maximum)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        return min(self.maximum, self.initial * 2 ** max(0, attempt - 1))


DEFAULT_BACKOFF = Backoff()
NO_FILTER: Mapping[str, tuple[str, ...]] = MappingProxyType({})


class Trigger(Record):
    """What starts a function, with its delivery options (docs/architecture.md, "Delivery").

    Subclasses with options of their own add their slots and take them, by keyword, after these.
    """

    __slots__ = ("source", "max_attempts", "backoff", "batch_size", "dead_letter")
    source: Resource
    max_attempts: int
    backoff: Backoff
    batch_size: int
    dead_letter: bool

    kind: ClassVar[str] = "trigger"
    source_kind: ClassVar[type[Resource]]
    asynchronous: ClassVar[bool] = True  # retried and dead-lettered (HTTP is not)

    def __init__(self, source: Resource, max_attempts: int = 5, backoff: Backoff = DEFAULT_BACKOFF, batch_size: int = 1,
                 dead_letter: bool = True) -> None:
        setfield(self, "source", source)
        setfield(self, "max_attempts", max_attempts)
        setfield(self, "backoff", backoff)
        setfield(self, "batch_size", batch_size)
        setfield(self, "dead_letter", dead_letter)
        if not isinstance(source, self.source_kind):
            raise DeclarationError(
                f"{type(self).__name__} needs a {self.source_kind.kind}, got {source!r}"
            )
        if type(max_attempts) is not int or max_attempts < 1:
            raise DeclarationError(f"max_attempts must be an int >= 1, got {max_attempts!r} on {self}")
        if type(batch_size) is not int or not 1 <= batch_size <= 10_000:
            raise DeclarationError(f"batch_size must be an int from 1 to 10000, got {batch_size!r} on {self}")
        if not isinstance(self.backoff, Backoff):
            raise DeclarationError(f"backoff must be a Backoff, got {self.backoff!r}")

    def __str__(self) -> str:
        return f"{self.kind} on {self.source.kind} {self.source.name!r}"


class _ObjectTrigger(Trigger):
    __slots__ = ("prefix", "suffix")
    prefix: str
    suffix: str

    def __init__(self, source: Resource, max_attempts: int = 5, backoff: Backoff = DEFAULT_BACKOFF, batch_size: int = 1,
                 dead_letter: bool = True, prefix: str = "", suffix: str = "") -> None:
        setfield(self, "prefix", prefix)
        setfield(self, "suffix", suffix)
        Trigger.__init__(self, source, max_attempts, backoff, batch_size, dead_letter)

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)


class ObjectCreatedTrigger(_ObjectTrigger):
    __slots__ = ()
    kind = "object-created"


class ObjectDeletedTrigger(_ObjectTrigger):
    __slots__ = ()
    kind = "object-deleted"


class QueueTrigger(Trigger):
    __slots__ = ()
    kind = "queue-message"


class TopicTrigger(Trigger):
    """A subscription. ``filter`` maps attribute -> accepted value(s); all must match."""

    __slots__ = ("filter",)
    filter: Mapping[str, tuple[str, ...]]
    kind: ClassVar[str] = "topic-event"

    def __init__(self, source: Resource, max_attempts: int = 5, backoff: Backoff = DEFAULT_BACKOFF, batch_size: int = 1,
                 dead_letter: bool = True, filter: Mapping[str, str | Sequence[str]] = NO_FILTER) -> None:
        setfield(self, "filter", filter)
        Trigger.__init__(self, source, max_attempts, backoff, batch_size, dead_letter)
        clean: dict[str, tuple[str, ...]] = {}
        for k, v in dict(self.filter).items():
            values = (v,) if isinstance(v, str) else tuple(v)
            if not isinstance(k, str) or not values or not all(isinstance(x, str) for x in values):
                raise DeclarationError(
                    f"filter on topic {self.source.name!r} must map attribute names to a str or "
                    f"a non-empty list of str, got {k!r}: {v!r}"
                )
            clean[k] = values
        setfield(self, "filter", clean)

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return all(attributes.get(k) in values for k, values in self.filter.items())


ROUTE_AUTH = ("public", "iam")
"""Who may call a route: anyone, or only callers that sign with a cloud identity allowed to invoke
it (AWS: SigV4 and ``execute-api:Invoke``; GCP: an ID token of a principal holding ``run.invoker``)."""


class HttpTrigger(Trigger):
    __slots__ = ("method", "path", "auth")
    method: str
    path: str
    auth: str
    kind: ClassVar[str] = "http"
    asynchronous: ClassVar[bool] = False

    def __init__(self, source: Resource, max_attempts: int = 5, backoff: Backoff = DEFAULT_BACKOFF, batch_size: int = 1,
                 dead_letter: bool = True, method: str = "GET", path: str = "/", auth: str = "public") -> None:
        setfield(self, "method", method)
        setfield(self, "path", path)
        setfield(self, "auth", auth)
        Trigger.__init__(self, source, max_attempts, backoff, batch_size, dead_letter)
        if not self.path.startswith("/"):
            raise DeclarationError(f"route path must start with '/', got {self.path!r}")
        if self.auth not in ROUTE_AUTH:
            raise DeclarationError(f"route {self.method} {self.path}: auth must be one of {ROUTE_AUTH}, "
                                   f"got {self.auth!r}")

    @property
    def private(self) -> bool:
        return self.auth != "public"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters if this route serves ``method path``, else None."""
        if method.upper() != self.method and self.method != "ANY":
            return None
        want, got = self.path.strip("/").split("/"), path.strip("/").split("/")
        if len(want) != len(got):
            return None
        params = {}
        for w, g in zip(want, got):
            if w.startswith("{") and w.endswith("}"):
                if not g:
                    return None
                params[w[1:-1]] = g
            elif w != g:
                return None
        return params

    def __str__(self) -> str:
        return f"route {self.method} {self.path}"


class ScheduleTrigger(Trigger):
    __slots__ = ()
    kind = "schedule"


class Stored(Resource):
    """A resource handlers read and write (a bucket, a table): ``.reader``, ``.writer``, ``.read_write``."""

    accesses = ("read", "write")

    @property
    def reader(self) -> Use:
        return self.use("read")

    @property
    def writer(self) -> Use:
        return self.use("write")

    @property
    def read_write(self) -> tuple[Use, Use]:
        return (self.use("read"), self.use("write"))


class Bucket(Stored):
    """Object storage: S3, Cloud Storage, a directory, or memory."""

    kind = "bucket"

    def on_created(self, *, prefix: str = "", suffix: str = "", **delivery: Any) -> ObjectCreatedTrigger:
        return ObjectCreatedTrigger(self, prefix=prefix, suffix=suffix, **delivery)

    def on_deleted(self, *, prefix: str = "", suffix: str = "", **delivery: Any) -> ObjectDeletedTrigger:
        return ObjectDeletedTrigger(self, prefix=prefix, suffix=suffix, **delivery)


class Queue(Resource):
    """A work queue with one consumer: SQS, Pub/Sub topic + push subscription, SQLite, memory."""

    kind = "queue"
    accesses = ("send",)

    def __init__(self, name: str, *, fifo: bool = False) -> None:
        super().__init__(name)
        self.fifo = fifo

    @property
    def sender(self) -> Use:
        return self.use("send")

    def on_message(self, **delivery: Any) -> QueueTrigger:
        delivery.setdefault("batch_size", 10)
        return QueueTrigger(self, **delivery)

class Topic(Resource):
    """Fan-out: SNS (+ an SQS queue per subscriber), Pub/Sub, SQLite, memory."""

    kind = "topic"
    accesses = ("publish",)

    @property
    def publisher(self) -> Use:
        return self.use("publish")

    def on_event(self, *, types: Sequence[str] | str | None = None,
                 filter: Mapping[str, str | Sequence[str]] | None = None, **delivery: Any) -> TopicTrigger:
        """Subscribe; ``types`` filters on the CloudEvent type, ``filter`` on attributes."""
        flt = dict(filter or {})
        if types:
            flt["ce-type"] = (types,) if isinstance(types, str) else tuple(types)
        return TopicTrigger(self, filter=flt, **delivery)

class Table(Stored):
    """Key-value items with a partition key and optional sort key: DynamoDB, Firestore, SQLite."""

    kind = "table"

    def __init__(self, name: str, *, key: str = "id", sort_key: str | None = None,
                 ttl: str | None = None) -> None:
        super().__init__(name)
        for what, value in (("key", key), ("sort_key", sort_key), ("ttl", ttl)):
            if value is not None and (not isinstance(value, str) or not value.isidentifier()):
                raise DeclarationError(f"table {name!r}: {what} must be an identifier, got {value!r}")
        self.key, self.sort_key, self.ttl = key, sort_key, ttl

    def key_of(self, key: Any) -> dict[str, Any]:
        """Normalize ``"abc"`` or ``{"id": "abc"}`` (or an item) to the key dict."""
        names = (self.key,) if self.sort_key is None else (self.key, self.sort_key)
        if isinstance(key, Mapping):
            missing = [n for n in names if n not in key]
            if missing:
                raise ValueError(f"table {self.name!r} needs key fields {list(names)}, missing {missing}")
            return {n: key[n] for n in names}
        if self.sort_key is not None:
            raise ValueError(f"table {self.name!r} has a sort key: pass a dict with {list(names)}")
        return {self.key: key}

class Api(Resource):
    """HTTP routes: API Gateway HTTP API, Cloud Functions HTTP, a local server."""

    kind = "api"

    def route(self, route: str, **options: Any) -> HttpTrigger:
        """``api.route("POST /items")``; ``{name}`` segments become path parameters.

        ``auth="iam"`` makes the route private: only signed callers allowed by the cloud's IAM reach it."""
        method, _, path = route.strip().partition(" ")
        method = method.upper()
        if method not in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"} or not path:
            raise DeclarationError(f"route must look like 'POST /items/{{id}}', got {route!r}")
        return HttpTrigger(self, method=method, path=path.strip(), max_attempts=1, dead_letter=False, **options)


_CRON_FIELD = re.compile(r"^[\d*/,\-?LW#A-Z]+$")
_RATE = re.compile(r"^(\d+) (minute|minutes|hour|hours|day|days)$")


class Schedule(Resource):
    """A timer: EventBridge Scheduler, Cloud Scheduler, or the local runtime's clock.

    ``cron`` has five fields (minute hour day month weekday, UTC); ``rate`` is
    "N minutes|hours|days". Exactly one of them.
    """

    kind = "schedule"

    def __init__(self, name: str, *, cron: str | None = None, rate: str | None = None) -> None:
        super().__init__(name)
        if (cron is None) == (rate is None):
            raise DeclarationError(f"schedule {name!r} needs exactly one of cron= or rate=")
        if cron is not None:
            fields = cron.split()
            if len(fields) != 5 or not all(_CRON_FIELD.match(f.upper()) for f in fields):
                raise DeclarationError(
                    f"schedule {name!r}: cron must have 5 fields (minute hour day month weekday), got {cron!r}"
                )
        if rate is not None:
            m = _RATE.match(rate.strip())
            if not m or int(m.group(1)) < 1:
                raise DeclarationError(f"schedule {name!r}: rate must be like '5 minutes' or '1 day', got {rate!r}")
        self.cron, self.rate = cron, rate

    @property
    def every_seconds(self) -> int | None:
        """The rate in seconds, or None for a cron schedule."""
        if self.rate is None:
            return None
        n, unit = self.rate.split()
        return int(n) * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]

    def on_tick(self, **delivery: Any) -> ScheduleTrigger:
        delivery.setdefault("max_attempts", 3)
        return ScheduleTrigger(self, **delivery)


for _t, _r in ((ObjectCreatedTrigger, Bucket), (ObjectDeletedTrigger, Bucket), (QueueTrigger, Queue),
               (TopicTrigger, Topic), (HttpTrigger, Api), (ScheduleTrigger, Schedule)):
    _t.source_kind = _r


class Function(Record):
    """One handler bound to one trigger, with what it may use and how it runs.

    ``handler`` is an import path ("package.module:function"), never a closure: declaring an
    app imports no handler code, and a deployed function imports only its own module.
    """

    __slots__ = ("name", "handler", "trigger", "uses", "timeout", "memory", "concurrency", "_grants", "__dict__",
                 "__weakref__")
    mutable = True
    __eq__ = object.__eq__  # one declared function is one object: compared and hashed by identity
    __hash__ = object.__hash__  # type: ignore[assignment]
    name: str
    handler: str
    trigger: Trigger
    uses: tuple[Use, ...]
    timeout: int  # seconds
    memory: int  # MB
    concurrency: int | None  # max parallel instances; None = the cloud's default

    def __init__(self, name: str, handler: str, trigger: Trigger, uses: tuple[Use, ...] = (), timeout: int = 30,
                 memory: int = 256, concurrency: int | None = None) -> None:
        self.name, self.handler, self.trigger, self.uses = name, handler, trigger, uses
        self.timeout, self.memory, self.concurrency = timeout, memory, concurrency
        self._grants = frozenset((u.resource.name, u.access) for u in uses)

    def allows(self, resource: Resource, access: str) -> bool:
        return (resource.name, access) in self._grants
