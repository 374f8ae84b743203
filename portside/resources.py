"""Resources, triggers and permissions: what an app declares (DESIGN §3).

A resource is a logical name plus options. Its handle is also how a handler reaches it:
``thumbnails.put(key, data)`` checks that the running function declared
``thumbnails.writer`` and forwards to the port of whichever target is running it
(fake, local, AWS, GCP). That is the one way a handler touches the outside world.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, ClassVar

from portside.errors import DeclarationError
from portside.events import Event

NAME = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
MAX_PAYLOAD = 256 * 1024  # SNS's limit, the smallest of the clouds' (DESIGN §6)


def check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise DeclarationError(
            f"{kind} name {name!r} is invalid: use 3-40 lowercase letters, digits and '-', "
            "starting with a letter (a name every cloud accepts once prefixed by the stack)"
        )
    return name


@dataclass(frozen=True, slots=True)
class Use:
    """A declared permission: ``access`` on ``resource`` (e.g. ``thumbnails.writer``)."""

    resource: Resource
    access: str

    def __repr__(self) -> str:
        return f"{self.resource.name}.{self.access}"


class Resource:
    """Base of every declared resource. Subclasses name their kind and accesses."""

    kind: ClassVar[str]
    accesses: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str) -> None:
        self.name = check_name(self.kind, name)
        self.app: Any = None  # set by App.add

    def use(self, access: str) -> Use:
        if access not in self.accesses:
            raise DeclarationError(
                f"{self.kind} {self.name!r} has no access {access!r}; choose from {list(self.accesses)}"
            )
        return Use(self, access)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def _port_for(self, access: str) -> Any:
        from portside.runtime import port_for  # late: runtime imports this module

        return port_for(self, access)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff between attempts: initial * 2**(n-1), capped at maximum (seconds)."""

    initial: float = 10.0
    maximum: float = 600.0

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.maximum):
            raise DeclarationError(
                f"Backoff needs 0 < initial <= maximum, got initial={self.initial}, maximum={self.maximum}"
            )

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        return min(self.maximum, self.initial * 2 ** max(0, attempt - 1))


@dataclass(frozen=True, slots=True)
class Trigger:
    """What starts a function, with its delivery options (DESIGN §3, §6)."""

    source: Resource
    max_attempts: int = 5
    backoff: Backoff = field(default_factory=Backoff)
    batch_size: int = 1
    dead_letter: bool = True

    kind: ClassVar[str] = "trigger"
    source_kind: ClassVar[type[Resource]]
    asynchronous: ClassVar[bool] = True  # retried and dead-lettered (HTTP is not)

    def __post_init__(self) -> None:
        if not isinstance(self.source, self.source_kind):
            raise DeclarationError(
                f"{type(self).__name__} needs a {self.source_kind.kind}, got {self.source!r}"
            )
        if type(self.max_attempts) is not int or self.max_attempts < 1:
            raise DeclarationError(f"max_attempts must be an int >= 1, got {self.max_attempts!r} on {self}")
        if type(self.batch_size) is not int or not 1 <= self.batch_size <= 10_000:
            raise DeclarationError(f"batch_size must be an int from 1 to 10000, got {self.batch_size!r} on {self}")
        if not isinstance(self.backoff, Backoff):
            raise DeclarationError(f"backoff must be a Backoff, got {self.backoff!r}")

    def __str__(self) -> str:
        return f"{self.kind} on {self.source.kind} {self.source.name!r}"


@dataclass(frozen=True, slots=True)
class _ObjectTrigger(Trigger):
    prefix: str = ""
    suffix: str = ""

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


@dataclass(frozen=True, slots=True)
class TopicTrigger(Trigger):
    """A subscription. ``filter`` maps attribute -> accepted value(s); all must match."""

    filter: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    kind: ClassVar[str] = "topic-event"

    def __post_init__(self) -> None:
        Trigger.__post_init__(self)
        clean: dict[str, tuple[str, ...]] = {}
        for k, v in dict(self.filter).items():
            values = (v,) if isinstance(v, str) else tuple(v)
            if not isinstance(k, str) or not values or not all(isinstance(x, str) for x in values):
                raise DeclarationError(
                    f"filter on topic {self.source.name!r} must map attribute names to a str or "
                    f"a non-empty list of str, got {k!r}: {v!r}"
                )
            clean[k] = values
        object.__setattr__(self, "filter", clean)

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return all(attributes.get(k) in values for k, values in self.filter.items())


@dataclass(frozen=True, slots=True)
class HttpTrigger(Trigger):
    method: str = "GET"
    path: str = "/"
    kind: ClassVar[str] = "http"
    asynchronous: ClassVar[bool] = False

    def __post_init__(self) -> None:
        Trigger.__post_init__(self)
        if not self.path.startswith("/"):
            raise DeclarationError(f"route path must start with '/', got {self.path!r}")

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


class Bucket(Resource):
    """Object storage: S3, Cloud Storage, a directory, or memory."""

    kind = "bucket"
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

    def on_created(self, *, prefix: str = "", suffix: str = "", **delivery: Any) -> ObjectCreatedTrigger:
        return ObjectCreatedTrigger(self, prefix=prefix, suffix=suffix, **delivery)

    def on_deleted(self, *, prefix: str = "", suffix: str = "", **delivery: Any) -> ObjectDeletedTrigger:
        return ObjectDeletedTrigger(self, prefix=prefix, suffix=suffix, **delivery)

    # -- what a handler may do (BucketPort, permission-checked) --
    def get(self, key: str) -> bytes:
        return self._port_for("read").get(key)

    def exists(self, key: str) -> bool:
        return self._port_for("read").exists(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        return self._port_for("read").list(prefix)

    def signed_url(self, key: str, expires: int = 3600) -> str:
        return self._port_for("read").signed_url(key, expires)

    def put(self, key: str, data: bytes | str | BinaryIO, content_type: str | None = None,
            metadata: Mapping[str, str] | None = None) -> None:
        if isinstance(data, str):
            data = data.encode()
            content_type = content_type or "text/plain; charset=utf-8"
        self._port_for("write").put(key, data, content_type, dict(metadata or {}))

    def delete(self, key: str) -> None:
        self._port_for("write").delete(key)


def encode_body(body: bytes | str | Mapping[str, Any] | Sequence[Any] | Event) -> bytes:
    """Message bodies are bytes: str is UTF-8, dict/list are JSON, an Event is a CloudEvent."""
    if isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
    elif isinstance(body, Event):
        data = body.to_bytes()
    elif isinstance(body, (Mapping, list, tuple)):
        data = json.dumps(body, separators=(",", ":"), default=str).encode()
    else:
        raise TypeError(f"a message body must be bytes, str, a dict/list or an Event, got {type(body).__name__}")
    if len(data) > MAX_PAYLOAD:
        from portside.errors import PayloadTooLarge

        raise PayloadTooLarge(
            f"message of {len(data)} bytes is over the {MAX_PAYLOAD}-byte limit every cloud accepts "
            "(SNS: 256 KB); store the payload in a bucket and send its key instead"
        )
    return data


def event_attributes(body: object, attributes: Mapping[str, str] | None) -> dict[str, str]:
    """Attributes to send: the caller's, plus ``ce-type``/``ce-source`` for an Event so that
    subscriptions can filter on the event type (SNS filter policy, Pub/Sub filter)."""
    attrs = dict(attributes or {})
    for k, v in attrs.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"message attributes must map str to str, got {k!r}: {type(v).__name__}")
    if isinstance(body, Event):
        attrs.setdefault("ce-type", body.type)
        attrs.setdefault("ce-source", body.source)
        for name in ("traceparent", "correlationid"):  # so consumers continue the event's trace
            if name in body.extensions:
                attrs.setdefault(name, body.extensions[name])
    return attrs


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

    def send(self, body: bytes | str | Mapping[str, Any] | Event, attributes: Mapping[str, str] | None = None,
             delay: int = 0, ordering_key: str | None = None) -> str:
        from portside.telemetry import outgoing_attributes

        if type(delay) is not int or not 0 <= delay <= 900:
            raise ValueError(f"delay must be whole seconds from 0 to 900 (SQS's limit), got {delay!r}")
        data, attrs = encode_body(body), outgoing_attributes(event_attributes(body, attributes))
        return self._port_for("send").send(data, attrs, delay, ordering_key)

    def send_batch(self, bodies: Iterable[bytes | str | Mapping[str, Any] | Event]) -> list[str]:
        return [self.send(b) for b in bodies]


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

    def publish(self, message: bytes | str | Mapping[str, Any] | Event,
                attributes: Mapping[str, str] | None = None, ordering_key: str | None = None) -> str:
        """Publish; an ``Event`` travels as a structured CloudEvent with trace context."""
        from portside.telemetry import outgoing_attributes, stamp_event

        if isinstance(message, Event):
            message = stamp_event(message)
        data, attrs = encode_body(message), outgoing_attributes(event_attributes(message, attributes))
        return self._port_for("publish").publish(data, attrs, ordering_key)


class Table(Resource):
    """Key-value items with a partition key and optional sort key: DynamoDB, Firestore, SQLite."""

    kind = "table"
    accesses = ("read", "write")

    def __init__(self, name: str, *, key: str = "id", sort_key: str | None = None,
                 ttl: str | None = None) -> None:
        super().__init__(name)
        for what, value in (("key", key), ("sort_key", sort_key), ("ttl", ttl)):
            if value is not None and (not isinstance(value, str) or not value.isidentifier()):
                raise DeclarationError(f"table {name!r}: {what} must be an identifier, got {value!r}")
        self.key, self.sort_key, self.ttl = key, sort_key, ttl

    @property
    def reader(self) -> Use:
        return self.use("read")

    @property
    def writer(self) -> Use:
        return self.use("write")

    @property
    def read_write(self) -> tuple[Use, Use]:
        return (self.use("read"), self.use("write"))

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

    def get(self, key: Any) -> dict[str, Any] | None:
        return self._port_for("read").get(self.key_of(key))

    def query(self, partition: Any, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Items whose partition key is ``partition``, in sort key order."""
        return self._port_for("read").query(partition, limit)

    def put(self, item: Mapping[str, Any]) -> None:
        self.key_of(item)
        self._port_for("write").put(dict(item))

    def put_if_absent(self, item: Mapping[str, Any]) -> bool:
        """Create the item unless one with its key exists; True if it was created."""
        self.key_of(item)
        return self._port_for("write").put_if_absent(dict(item))

    def update(self, key: Any, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Set fields on an existing item and return the item after the change."""
        return self._port_for("write").update(self.key_of(key), dict(changes))

    def delete(self, key: Any) -> None:
        self._port_for("write").delete(self.key_of(key))


class Api(Resource):
    """HTTP routes: API Gateway HTTP API, Cloud Functions HTTP, a local server."""

    kind = "api"

    def route(self, route: str, **options: Any) -> HttpTrigger:
        """``api.route("POST /orders")``; ``{name}`` segments become path parameters."""
        method, _, path = route.strip().partition(" ")
        method = method.upper()
        if method not in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"} or not path:
            raise DeclarationError(f"route must look like 'POST /orders/{{id}}', got {route!r}")
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
