"""The normalized events: what every handler receives, on every target (docs/architecture.md, "Events").

Events are frozen records (``portside.record``). Each checks its fields when it is built, so a
wrong type or a missing field fails where the event is made, with the field's name,
not three calls later inside a handler.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from types import MappingProxyType

from portside.errors import PermanentError, UnsupportedEvent
from portside.record import Record, builder, setfield

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal

    ChangeKind = Literal["created", "updated", "deleted"]

UTC = timezone.utc
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_NOW: Any = object()  # the default of ``time``: the moment the event is built


def now() -> datetime:
    """The current time, timezone-aware UTC, as every event carries it."""
    return datetime.now(UTC)


def _fail(obj: object, name: str, expected: str, value: object) -> TypeError:
    return TypeError(
        f"{type(obj).__name__}.{name} must be {expected}, got {type(value).__name__} {value!r:.80}"
    )


def _str(obj: object, name: str, value: object, *, empty: bool = False) -> None:
    if type(value) is not str:
        raise _fail(obj, name, "a str", value)
    if not empty and not value:
        raise ValueError(f"{type(obj).__name__}.{name} must not be empty")


def _opt_str(obj: object, name: str, value: object) -> None:
    if value is not None and type(value) is not str:
        raise _fail(obj, name, "a str or None", value)


def _time(obj: object, value: object) -> None:
    if not isinstance(value, datetime):
        raise _fail(obj, "time", "a datetime", value)
    if value.tzinfo is None:
        raise ValueError(f"{type(obj).__name__}.time must be timezone-aware (UTC), got naive {value}")


def _bytes(obj: object, name: str, value: object) -> bytes:
    """Bodies are bytes; a str is accepted and encoded as UTF-8 for convenience."""
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise _fail(obj, name, "bytes (or str)", value)


def _str_map(obj: object, name: str, value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise _fail(obj, name, "a mapping of str to str", value)
    for k, v in value.items():
        if type(k) is not str or type(v) is not str:
            raise TypeError(
                f"{type(obj).__name__}.{name} must map str to str, got {k!r}: {type(v).__name__}"
            )
    return MappingProxyType(dict(value))


_scan = json.JSONDecoder().scan_once  # the C scanner that json.loads ends up calling


def _loads(text: str) -> Any:
    """``json.loads(text)`` for well-formed JSON text without json.loads's Python layers
    (argument checks, encoding sniffing, two regex scans): about half the cost on a small
    body. Raises ValueError or StopIteration on anything else (then use json.loads, whose
    error names the problem)."""
    value, end = _scan(text, 0)
    if end != len(text) and text[end:].strip(" \t\n\r"):  # JSON's whitespace only
        raise ValueError("extra data after the JSON value")
    return value


def _decode_json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except RecursionError:
        raise PermanentError(f"{what} is JSON nested too deep to decode (beyond Python's recursion limit); "
                             f"body starts {body[:60]!r}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise PermanentError(f"{what} is not valid JSON: {e}; body starts {body[:60]!r}") from None


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only HTTP headers; repeated values are joined with ", "."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        merged: dict[str, str] = {}
        pairs = items.items() if isinstance(items, Mapping) else items
        for k, v in pairs:
            if type(k) is not str or type(v) is not str:
                raise TypeError(f"header {k!r} must be str: str, got {type(v).__name__}")
            k = k.lower()
            merged[k] = f"{merged[k]}, {v}" if k in merged else v
        self._items = merged

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._items == {str(k).lower(): v for k, v in other.items()}
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items.items())))

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class _Body:
    """``.text()`` and ``.json()`` for events that carry a bytes ``body``."""

    __slots__ = ()
    body: bytes
    id: str

    def text(self, encoding: str = "utf-8") -> str:
        try:
            return self.body.decode(encoding)
        except UnicodeDecodeError as e:
            raise PermanentError(f"body of {self.id} is not {encoding} text: {e}") from None

    def json(self) -> Any:
        """The body parsed as JSON; a body that is not JSON is a permanent error."""
        body = self.body
        try:
            # Decode UTF-8 (the norm) and scan it ourselves: the hot path of every queue; the
            # error text is built only on the error path.
            return _loads(body.decode())
        except (ValueError, StopIteration, RecursionError):  # not JSON, a BOM, UTF-16/32, too deep:
            return _decode_json(body, f"body of {type(self).__name__} {self.id}")  # json.loads decides


class HttpRequest(_Body, Record):
    """An HTTP request from API Gateway, a Function URL or Cloud Functions HTTP."""

    __slots__ = ("id", "method", "path", "headers", "query", "body", "path_params", "cookies", "source_ip", "route",
                 "time")
    id: str
    method: str
    path: str
    headers: Headers
    query: Mapping[str, tuple[str, ...]]
    body: bytes
    path_params: Mapping[str, str]
    cookies: Mapping[str, str]
    source_ip: str | None
    route: str | None  # the declared route that matched, e.g. "GET /items/{id}"
    time: datetime

    def __init__(self, id: str, method: str, path: str, headers: Mapping[str, str] = _EMPTY,
                 query: Mapping[str, str | Iterable[str]] = _EMPTY, body: bytes | str = b"",
                 path_params: Mapping[str, str] = _EMPTY, cookies: Mapping[str, str] = _EMPTY,
                 source_ip: str | None = None, route: str | None = None, time: datetime = _NOW) -> None:
        if time is _NOW:
            time = now()
        _str(self, "id", id)
        _str(self, "method", method)
        _str(self, "path", path)
        if not isinstance(headers, Headers):
            if not isinstance(headers, Mapping):
                raise _fail(self, "headers", "a mapping", headers)
            headers = Headers(headers)
        if not isinstance(query, Mapping):
            raise _fail(self, "query", "a mapping of str to a list of str", query)
        clean = {}
        for k, v in query.items():
            values = (v,) if isinstance(v, str) else tuple(v) if isinstance(v, (list, tuple)) else (v,)
            if type(k) is not str or not all(type(x) is str for x in values):
                raise TypeError(f"HttpRequest.query must map str to str values, got {k!r}: {v!r}")
            clean[k] = values
        body = _bytes(self, "body", body)
        path_params = _str_map(self, "path_params", path_params)
        cookies = _str_map(self, "cookies", cookies)
        _opt_str(self, "source_ip", source_ip)
        _opt_str(self, "route", route)
        _time(self, time)
        setfield(self, "id", id)
        setfield(self, "method", method.upper())
        setfield(self, "path", path)
        setfield(self, "headers", headers)
        setfield(self, "query", MappingProxyType(clean))
        setfield(self, "body", body)
        setfield(self, "path_params", path_params)
        setfield(self, "cookies", cookies)
        setfield(self, "source_ip", source_ip)
        setfield(self, "route", route)
        setfield(self, "time", time)

    @property
    def request_id(self) -> str:
        return self.id

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default


class HttpResponse(Record):
    """What an HTTP handler returns; a handler may also return str, bytes, dict/list or None."""

    __slots__ = ("status", "headers", "body", "cookies")
    status: int
    headers: Mapping[str, str]
    body: bytes
    cookies: tuple[str, ...]  # full Set-Cookie values

    def __init__(self, status: int = 200, headers: Mapping[str, str] = _EMPTY, body: bytes | str = b"",
                 cookies: Iterable[str] = ()) -> None:
        if type(status) is not int or not 100 <= status <= 599:
            raise ValueError(f"HttpResponse.status must be an int from 100 to 599, got {status!r}")
        headers = _str_map(self, "headers", headers)
        body = _bytes(self, "body", body)
        if isinstance(cookies, str) or not all(type(c) is str for c in cookies):
            raise _fail(self, "cookies", "a tuple of Set-Cookie strings", cookies)
        setfield(self, "status", status)
        setfield(self, "headers", headers)
        setfield(self, "body", body)
        setfield(self, "cookies", tuple(cookies))

    @classmethod
    def json_body(cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return cls(status, {"content-type": "application/json", **(headers or {})},
                   json.dumps(data, separators=(",", ":"), default=str).encode())

    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_text(self) -> bool:
        """Whether the body is safe to send as text (adapters base64 the rest)."""
        ctype = {k.lower(): v for k, v in self.headers.items()}.get("content-type", "")
        return not self.body or ctype.startswith("text/") or "json" in ctype or "xml" in ctype \
            or "javascript" in ctype or "x-www-form-urlencoded" in ctype


class _ObjectEvent(Record):
    __slots__ = ("id", "bucket", "key", "time", "size", "etag", "content_type", "version")
    id: str
    bucket: str
    key: str
    time: datetime
    size: int | None
    etag: str | None
    content_type: str | None
    version: str | None

    def __init__(self, id: str, bucket: str, key: str, time: datetime = _NOW, size: int | None = None,
                 etag: str | None = None, content_type: str | None = None, version: str | None = None) -> None:
        if time is _NOW:
            time = now()
        _str(self, "id", id)
        _str(self, "bucket", bucket)
        _str(self, "key", key)
        _time(self, time)
        if size is not None and (type(size) is not int or size < 0):
            raise _fail(self, "size", "a non-negative int or None", size)
        _opt_str(self, "etag", etag)
        _opt_str(self, "content_type", content_type)
        _opt_str(self, "version", version)
        setfield(self, "id", id)
        setfield(self, "bucket", bucket)
        setfield(self, "key", key)
        setfield(self, "time", time)
        setfield(self, "size", size)
        setfield(self, "etag", etag)
        setfield(self, "content_type", content_type)
        setfield(self, "version", version)


class ObjectCreated(_ObjectEvent):
    """An object was written to a bucket. ``key`` is already URL-decoded."""

    __slots__ = ()


class ObjectDeleted(_ObjectEvent):
    """An object was removed from a bucket. ``key`` is already URL-decoded."""

    __slots__ = ()


class Message(_Body, Record):
    """A message from a queue or a topic subscription.

    ``attempt`` is the 1-based delivery count; ``source`` the logical queue or topic.
    """

    __slots__ = ("id", "body", "source", "attributes", "attempt", "ordering_key", "time", "_fill")
    id: str
    body: bytes
    source: str
    attributes: Mapping[str, str]
    attempt: int
    ordering_key: str | None
    time: datetime

    def __init__(self, id: str, body: bytes | str, source: str, attributes: Mapping[str, str] = _EMPTY,
                 attempt: int = 1, ordering_key: str | None = None, time: datetime = _NOW) -> None:
        if time is _NOW:
            time = now()
        # the common, well-formed case in one expression (adapters build one Message per
        # delivered message, so this is on every queue's hot path); the checks below name
        # the field when anything is off
        if not (type(id) is str and id and type(body) is bytes and type(source) is str and source
                and type(attributes) is MappingProxyType and type(attempt) is int and attempt >= 1
                and (ordering_key is None or type(ordering_key) is str)
                and type(time) is datetime and time.tzinfo is not None):
            _str(self, "id", id)
            body = _bytes(self, "body", body)
            _str(self, "source", source)
            if type(attributes) is not MappingProxyType:
                attributes = _str_map(self, "attributes", attributes)
            if type(attempt) is not int or attempt < 1:
                raise _fail(self, "attempt", "an int >= 1", attempt)
            _opt_str(self, "ordering_key", ordering_key)
            _time(self, time)
        setfield(self, "id", id)
        setfield(self, "body", body)
        setfield(self, "source", source)
        setfield(self, "attributes", attributes)
        setfield(self, "attempt", attempt)
        setfield(self, "ordering_key", ordering_key)
        setfield(self, "time", time)

    def __getattr__(self, name: str) -> Any:
        """A field of a deferred message (``deferred_message``), read from its raw record on first use."""
        if name in _DEFERRED:
            source, attributes, time = self._fill[0](*self._fill[1:])
            setfield(self, "source", source)
            setfield(self, "attributes", attributes)
            setfield(self, "time", time)
            setfield(self, "_fill", None)  # the raw record is no longer needed
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self)

    def __getstate__(self) -> dict[str, Any]:  # the fields only (a deferred message is read first)
        return {name: getattr(self, name) for name in self._fields}

    def event(self) -> Event:
        """The CloudEvent this message carries (structured JSON body or ``ce-`` attributes)."""
        return Event.from_message(self)


_OBJECT_BUILDERS = {ObjectCreated: builder(ObjectCreated), ObjectDeleted: builder(ObjectDeleted)}


def trusted_object_event(cls: type[ObjectCreated] | type[ObjectDeleted], id: str, bucket: str, key: str,
                         time: datetime, size: int | None, etag: str | None, content_type: str | None,
                         version: str | None) -> ObjectCreated | ObjectDeleted:
    """``cls(...)`` of fields the caller has checked as ``cls`` would (non-empty text, an aware
    datetime, a size >= 0), without checking them again (one per object notification)."""
    e = _OBJECT_BUILDERS[cls]()
    e.id, e.bucket, e.key, e.time, e.size, e.etag, e.content_type, e.version = \
        id, bucket, key, time, size, etag, content_type, version
    e.__class__ = cls
    return e


_DEFERRED = frozenset({"source", "attributes", "time"})
_MessageBuilder = builder(Message)


def trusted_message(id: str, body: bytes, source: str, attributes: Mapping[str, str], attempt: int,
                    ordering_key: str | None, time: datetime) -> Message:
    """``Message(...)`` of fields the caller has already checked as ``Message`` would (exact types,
    ``attributes`` a read-only mapping of str to str), without checking them again: an adapter's or
    a store's hot path, built at the cost of plain attribute sets."""
    m = _MessageBuilder()
    m.id, m.body, m.source, m.attributes, m.attempt, m.ordering_key, m.time = \
        id, body, source, attributes, attempt, ordering_key, time
    m.__class__ = Message
    return m


def deferred_message(id: str, body: bytes, attempt: int, ordering_key: str | None, fill: tuple[Any, ...]) -> Message:
    """A ``Message`` whose ``source``, ``attributes`` and ``time`` are read on first use, by
    ``fill[0](*fill[1:])``, which returns them: most handlers read the body alone, so a queue's
    hot path leaves the rest of its raw record unread. ``fill`` holds the raw values it needs, taken
    out of the record (its maps copied), not the record, which its owner may change; the caller has
    checked that it cannot fail and that the other fields are what ``Message`` would accept."""
    m = _MessageBuilder()
    m.id, m.body, m.attempt, m.ordering_key, m._fill = id, body, attempt, ordering_key, fill
    m.__class__ = Message
    return m


class Event(Record):
    """A CloudEvents 1.0 event: EventBridge events, other CloudEvents, or what a topic carries."""

    __slots__ = ("type", "source", "data", "id", "time", "subject", "dataschema", "datacontenttype", "extensions")
    type: str
    source: str
    data: Any
    id: str
    time: datetime
    subject: str | None
    dataschema: str | None
    datacontenttype: str | None
    extensions: Mapping[str, str]

    def __init__(self, type: str, source: str, data: Any = None, id: str = "", time: datetime = _NOW,
                 subject: str | None = None, dataschema: str | None = None,
                 datacontenttype: str | None = "application/json", extensions: Mapping[str, str] = _EMPTY) -> None:
        if time is _NOW:
            time = now()
        _str(self, "type", type)
        _str(self, "source", source)
        if id == "":
            from uuid import uuid4

            id = str(uuid4())
        _str(self, "id", id)
        _time(self, time)
        _opt_str(self, "subject", subject)
        _opt_str(self, "dataschema", dataschema)
        _opt_str(self, "datacontenttype", datacontenttype)
        extensions = _str_map(self, "extensions", extensions)
        bad = [k for k in extensions if not (k.isascii() and k.isalnum() and k.islower())]
        if bad:
            raise ValueError(f"Event.extensions names must be lowercase letters and digits (CloudEvents), got {bad}")
        setfield(self, "type", type)
        setfield(self, "source", source)
        setfield(self, "data", data)
        setfield(self, "id", id)
        setfield(self, "time", time)
        setfield(self, "subject", subject)
        setfield(self, "dataschema", dataschema)
        setfield(self, "datacontenttype", datacontenttype)
        setfield(self, "extensions", extensions)

    def json(self) -> Any:
        """The event's data, parsed if it arrived as JSON bytes."""
        if isinstance(self.data, (bytes, bytearray)):
            return _decode_json(bytes(self.data), f"data of Event {self.id}")
        return self.data

    def to_dict(self) -> dict[str, Any]:
        """The structured-mode CloudEvent (``application/cloudevents+json``)."""
        out: dict[str, Any] = {"specversion": "1.0", "id": self.id, "source": self.source,
                               "type": self.type, "time": self.time.isoformat()}
        for name in ("subject", "dataschema", "datacontenttype"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        out.update(self.extensions)
        if isinstance(self.data, (bytes, bytearray)):
            import base64

            out["data_base64"] = base64.b64encode(self.data).decode()
        elif self.data is not None:
            out["data"] = self.data
        return out

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), default=str).encode()

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Event:
        """Parse a structured-mode CloudEvent; a malformed one is ``UnsupportedEvent``."""
        if not isinstance(raw, Mapping):
            raise UnsupportedEvent(f"a CloudEvent must be a JSON object, got {type(raw).__name__}")
        missing = [k for k in ("specversion", "id", "source", "type") if not raw.get(k)]
        if missing:
            raise UnsupportedEvent(f"not a CloudEvent: missing {missing}; keys were {sorted(raw)[:12]}")
        known = {"specversion", "id", "source", "type", "time", "subject", "dataschema",
                 "datacontenttype", "data", "data_base64"}
        data = raw.get("data")
        if "data_base64" in raw:
            data = _b64(raw["data_base64"], "CloudEvent data_base64")
        try:
            return cls(type=raw["type"], source=raw["source"], id=str(raw["id"]), data=data,
                       time=parse_time(raw.get("time")), subject=raw.get("subject"),
                       dataschema=raw.get("dataschema"),
                       datacontenttype=raw.get("datacontenttype"),
                       extensions={k: str(v) for k, v in raw.items() if k not in known})
        except (TypeError, ValueError) as e:
            raise UnsupportedEvent(f"malformed CloudEvent {raw.get('id')!r}: {e}") from None

    @classmethod
    def from_message(cls, message: Message) -> Event:
        attrs = message.attributes
        if "ce-type" in attrs and "ce-specversion" in attrs and not message.body.startswith(b'{"specversion'):
            raw: dict[str, Any] = {k[3:]: v for k, v in attrs.items() if k.startswith("ce-")}
            raw["datacontenttype"] = attrs.get("content-type", "application/json")
            ctype = raw["datacontenttype"] or ""
            raw["data"] = message.json() if "json" in ctype else message.body
            event = cls.from_dict(raw)
            return event
        return cls.from_dict(message.json())


class Tick(Record):
    """A schedule fired (EventBridge Scheduler, Cloud Scheduler, or the local timer)."""

    __slots__ = ("id", "schedule", "time")
    id: str
    schedule: str
    time: datetime

    def __init__(self, id: str, schedule: str, time: datetime = _NOW) -> None:
        if time is _NOW:
            time = now()
        _str(self, "id", id)
        _str(self, "schedule", schedule)
        _time(self, time)
        setfield(self, "id", id)
        setfield(self, "schedule", schedule)
        setfield(self, "time", time)


class RecordChanged(Record):
    """A table item changed (DynamoDB Streams, Firestore document events). Plain dicts only."""

    __slots__ = ("id", "table", "key", "kind", "old", "new", "time")
    id: str
    table: str
    key: Mapping[str, Any]
    kind: ChangeKind
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    time: datetime

    def __init__(self, id: str, table: str, key: Mapping[str, Any], kind: ChangeKind,
                 old: Mapping[str, Any] | None = None, new: Mapping[str, Any] | None = None,
                 time: datetime = _NOW) -> None:
        if time is _NOW:
            time = now()
        _str(self, "id", id)
        _str(self, "table", table)
        if not isinstance(key, Mapping) or not key:
            raise _fail(self, "key", "a non-empty mapping", key)
        if kind not in ("created", "updated", "deleted"):
            raise ValueError(f"RecordChanged.kind must be created, updated or deleted, got {kind!r}")
        for name, value in (("old", old), ("new", new)):
            if value is not None and not isinstance(value, Mapping):
                raise _fail(self, name, "a mapping or None", value)
        _time(self, time)
        setfield(self, "id", id)
        setfield(self, "table", table)
        setfield(self, "key", key)
        setfield(self, "kind", kind)
        setfield(self, "old", old)
        setfield(self, "new", new)
        setfield(self, "time", time)


AnyEvent = HttpRequest | ObjectCreated | ObjectDeleted | Message | Event | Tick | RecordChanged
EVENT_TYPES = (HttpRequest, ObjectCreated, ObjectDeleted, Message, Event, Tick, RecordChanged)


def parse_time(value: Any) -> datetime:
    """RFC 3339 / ISO 8601 text or epoch milliseconds -> aware UTC datetime; None -> now."""
    if value is None or value == "":
        return now()
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    if isinstance(value, str):
        if value[-1:] == "Z":  # RFC 3339 in UTC, as the clouds write it: 3.11's fromisoformat reads it as is,
            try:                # any fractional digits, ten times faster than the general path below
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        text = value.replace("Z", "+00:00").replace("z", "+00:00")
        # Python 3.11 accepts up to 6 fractional digits; clouds send up to 9.
        if "." in text:
            head, _, rest = text.partition(".")
            digits = len(rest) - len(rest.lstrip("0123456789"))
            text = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an RFC 3339 time: {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise TypeError(f"time must be RFC 3339 text or epoch milliseconds, got {type(value).__name__}")


def _b64(value: Any, what: str) -> bytes:
    import base64

    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, TypeError) as e:
        raise UnsupportedEvent(f"{what} is not valid base64: {e}") from None
