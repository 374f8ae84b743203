"""Raw Google Cloud payloads -> normalized events (docs/architecture.md, "Events"): pure functions, no client library.

Accepted: a ``cloudevents`` CloudEvent object (what functions-framework hands a CloudEvent
function), a structured-mode CloudEvent dict, or a Pub/Sub push body
(``{"message": {...}, "subscription": ..., "deliveryAttempt": n}``), each as a dict or as
JSON bytes. Physical names become logical ones through :class:`Names`, built from the
environment the Pulumi program writes (``adapters/gcp/env.py``). Anything malformed raises
``UnsupportedEvent`` naming what was received, never a ``KeyError``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from datetime import datetime
from datetime import timedelta as _timedelta
from time import gmtime as _gmtime
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

from portside import deployment as env
from portside.errors import SLIPS, UnsupportedEvent, guarded, malformed
from portside.events import (
    AnyEvent,
    Event,
    Headers,
    Message,
    ObjectCreated,
    ObjectDeleted,
    RecordChanged,
    Tick,
    parse_time,
    trusted_message,
)
from portside.events import _loads as _parse  # json.loads minus its Python layers (hot path)

STORAGE_FINALIZED = "google.cloud.storage.object.v1.finalized"
STORAGE_DELETED = "google.cloud.storage.object.v1.deleted"
PUBSUB_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
FIRESTORE_PREFIX = "google.cloud.firestore.document.v1."
FIRESTORE_KINDS = {"created": "created", "updated": "updated", "deleted": "deleted", "written": None}
_CE_REQUIRED = ("specversion", "id", "source", "type")


class Names:
    """What the adapter knows about this deployment: physical -> logical names, and the trigger.

    ``source`` is the logical resource of the function's trigger (a push body does not
    name its topic); ``schedule`` says the trigger is a schedule, so Pub/Sub messages
    are ticks; ``keys`` gives each table's key fields so ``RecordChanged.key`` is right.
    """

    __slots__ = ("logical", "source", "schedule", "keys")

    def __init__(self, logical: Mapping[str, str] | None = None, source: str | None = None, schedule: bool = False,
                 keys: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.logical = logical if logical is not None else {}
        self.source = source
        self.schedule = schedule
        self.keys = keys if keys is not None else {}

    def __repr__(self) -> str:
        return f"Names(source={self.source!r}, schedule={self.schedule}, logical={self.logical!r})"

    @classmethod
    def from_resources(cls, resources: Mapping[str, Any], **kw: Any) -> Names:
        """Index ``{logical: physical}`` by every form a payload may use (full path and last segment)."""
        logical: dict[str, str] = {}
        for name, physical in resources.items():
            if isinstance(physical, Mapping):
                physical = physical.get("database") or physical.get("name") or ""
            text = str(physical)
            logical[text] = name
            logical.setdefault(text.rsplit("/", 1)[-1], name)
            logical.setdefault(name, name)
        return cls(logical, **kw)

    def name(self, physical: str | None, fallback: str | None = None) -> str | None:
        if physical is None:
            return fallback
        found = self.logical.get(physical) or self.logical.get(physical.rsplit("/", 1)[-1])
        return found or fallback


def resources_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """PORTSIDE_RESOURCES parsed; a malformed value names the variable (a deployment error)."""
    raw = environ.get(env.RESOURCES, "")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise RuntimeError(f"{env.RESOURCES} must be a JSON object of logical -> physical names: {e}") from None
    if not isinstance(value, dict):
        raise RuntimeError(f"{env.RESOURCES} must be a JSON object, got {type(value).__name__}")
    return value


_default_names: Names | None = None


def default_names() -> Names:
    """Names from the environment alone (the entry points pass richer ones from the app)."""
    global _default_names
    if _default_names is None:
        _default_names = Names.from_resources(resources_from_env())
    return _default_names


# -- entry -------------------------------------------------------------------------------------

def to_events(raw: Any, names: Names | None = None) -> list[AnyEvent]:
    """The normalized events in ``raw`` (see module doc); ``UnsupportedEvent`` if it is none of them."""
    names = names or default_names()
    owned = False
    if type(raw) is bytes:  # the HTTP entry's request body, on every push: the fast parse
        try:
            raw, owned = _parse(raw.decode()), True
        except (ValueError, StopIteration, RecursionError):
            pass  # UTF-16/32 JSON, not JSON, too deep: the general path below tells which
    if type(raw) is dict and "message" in raw and "specversion" not in raw:  # the hot path: push
        event = push_to_event(raw, names, owned)
        if event.__class__ is Message and "objectId" not in event.attributes:
            return [event]  # no Cloud Storage notification (storage_notification would say so)
        return storage_notification(event, names)
    if isinstance(raw, (bytes, bytearray, memoryview, str)):
        try:
            raw = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            why = "nested too deep to parse" if isinstance(e, RecursionError) else f"not JSON: {e}"
            start = bytes(raw[:60]) if not isinstance(raw, str) else raw[:60]
            raise UnsupportedEvent(f"payload is {why}; it starts {start!r}") from None
    if isinstance(raw, Mapping):
        if "message" in raw and "specversion" not in raw:
            return storage_notification(push_to_event(raw, names), names)
        if "specversion" in raw or "type" in raw:
            return [cloudevent_to_event(dict(raw), names)]
        raise UnsupportedEvent(f"not a CloudEvent or a Pub/Sub push body: keys were {sorted(map(str, raw))[:12]}")
    attributes = getattr(raw, "get_attributes", None)
    if callable(attributes):  # cloudevents.http.CloudEvent (functions-framework's argument)
        ce = dict(attributes())
        ce["data"] = getattr(raw, "data", None)
        return [cloudevent_to_event(ce, names)]
    raise UnsupportedEvent(f"cannot read a {type(raw).__name__} as a Google Cloud event: "
                           "expected a CloudEvent, a structured CloudEvent dict or a Pub/Sub push body")


# -- Pub/Sub -----------------------------------------------------------------------------------

def _b64(value: Any, what: str) -> bytes:
    if value is None or value == "":
        return b""
    if not isinstance(value, str):
        raise UnsupportedEvent(f"{what} must be base64 text, got {type(value).__name__}")
    try:
        return binascii.a2b_base64(value, strict_mode=True)  # validates, as b64decode(validate=True)
    except (binascii.Error, ValueError) as e:
        raise UnsupportedEvent(f"{what} is not valid base64: {e}") from None


def _attempt(*values: Any) -> int:
    for v in values:
        if type(v) is int and v >= 1:
            return v
        if isinstance(v, str) and v.isdigit() and int(v) >= 1:
            return int(v)
    return 1


def message_of(msg: Any, where: str, source: str | None, attempt: int, names: Names, owned: bool = False
               ) -> Message | Tick:
    """A PubsubMessage JSON object -> Message (or Tick when the trigger is a schedule). ``owned``: the
    object was parsed here for this call alone, so its attributes are wrapped rather than copied.

    On every push, so exact type tests come first and the general checks only run when they fail."""
    if type(msg) is not dict and not isinstance(msg, Mapping):
        raise UnsupportedEvent(f"{where}: 'message' must be an object, got {type(msg).__name__}")
    get = msg.get
    mid = get("messageId") or get("message_id")
    if type(mid) is not str or not mid:
        raise UnsupportedEvent(f"{where}: message has no messageId; its keys were {sorted(map(str, msg))[:12]}")
    attrs = get("attributes")
    if attrs:
        if type(attrs) is not dict and not isinstance(attrs, Mapping):
            raise UnsupportedEvent(f"{where}: message {mid} attributes must be an object, got {attrs!r:.80}")
        for k, v in attrs.items():
            if type(v) is not str or type(k) is not str:
                raise UnsupportedEvent(f"{where}: message {mid} attributes must map str to str, got {k!r}: {v!r:.60}")
        # checked: a read-only view (of a copy, unless the object is ours) spares Message a second pass
        attrs = MappingProxyType(attrs if owned and type(attrs) is dict else dict(attrs))
    else:
        attrs = _NO_ATTRIBUTES
    published = get("publishTime") or get("publish_time")
    try:
        # RFC 3339 UTC ("...Z", up to 9 fractional digits, as Pub/Sub sends it): Python 3.11's
        # fromisoformat reads it ten times faster than the general parse_time
        time = _fromisoformat(published) if type(published) is str and published[-1:] == "Z" \
            else parse_time(published)
    except (TypeError, ValueError, OverflowError, OSError):
        try:
            time = parse_time(published)
        except (TypeError, ValueError, OverflowError, OSError) as e:
            raise UnsupportedEvent(f"{where}: message {mid} publishTime {published!r:.40}: {e}") from None
    if names.schedule:
        return Tick(mid, names.source or source or "schedule", time)
    key = get("orderingKey") or get("ordering_key") or None
    if key is not None and type(key) is not str:
        raise UnsupportedEvent(f"{where}: message {mid} orderingKey must be a str, got {key!r:.40}")
    if not source:
        raise UnsupportedEvent(f"{where}: message {mid} does not say which topic it came from")
    data = get("data")
    if data and type(data) is str:
        try:
            body = _a2b(data, strict_mode=True)  # validates, as b64decode(validate=True)
        except (binascii.Error, ValueError) as e:
            raise UnsupportedEvent(f"{where}: message {mid} data is not valid base64: {e}") from None
    else:
        body = _b64(data, f"{where}: message {mid} data")
    if time.tzinfo is not None and type(attempt) is int and attempt >= 1 and type(source) is str:  # the rest: above
        return trusted_message(mid, body, source, attrs, attempt, key, time)
    return Message(mid, body, source, attrs, attempt, key, time)  # names what is wrong


_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})
_a2b = binascii.a2b_base64
_EPOCH = datetime(1970, 1, 1)  # naive: isoformat without an offset
_fromisoformat = datetime.fromisoformat



def push_to_event(raw: Mapping[str, Any], names: Names, owned: bool = False) -> Message | Tick:
    """A Pub/Sub push body (``{"message", "subscription", "deliveryAttempt"}``; ``owned``: parsed for
    this call, see ``message_of``). On every push: the guard of ``guarded("Pub/Sub push body")``
    written in, one try block."""
    try:
        sub = raw.get("subscription")
        if sub is not None and type(sub) is not str:
            raise UnsupportedEvent(f"Pub/Sub push body: 'subscription' must be a str, got {sub!r:.60}")
        msg = raw.get("message")
        source = names.source or names.name(sub, sub.rsplit("/", 1)[-1] if sub else None)
        attempt = raw.get("deliveryAttempt")
        if type(attempt) is not int or attempt < 1:
            attempt = _attempt(attempt, msg.get("deliveryAttempt") if isinstance(msg, Mapping) else None)
        return message_of(msg, f"Pub/Sub push body from {sub or 'an unnamed subscription'}", source, attempt, names,
                          owned)
    except UnsupportedEvent:
        raise
    except SLIPS as e:
        raise malformed("Pub/Sub push body", raw, f"{type(e).__name__}: {e}") from None


# -- Cloud Storage notifications over Pub/Sub ---------------------------------------------------
# A bucket's deletions reach their function as Cloud Storage Pub/Sub notifications (infra/gcp/storage.py).
# Cloud Storage sends OBJECT_DELETE also for the generation an upload replaces, and that one carries the
# attribute ``overwrittenByGeneration`` (https://cloud.google.com/storage/docs/pubsub-notifications,
# "Attributes"). S3 sends no deletion on an overwrite, so neither does this adapter: handlers never know.

NOTIFIED = {"OBJECT_FINALIZE": ObjectCreated, "OBJECT_DELETE": ObjectDeleted}


@guarded("Cloud Storage notification")
def storage_notification(event: Message | Tick, names: Names) -> list[AnyEvent]:
    """A pushed Cloud Storage notification on the trigger's own bucket -> ObjectCreated/ObjectDeleted, or
    nothing for the deletion half of an overwrite; any other message unchanged."""
    attrs = getattr(event, "attributes", None)
    if not attrs or "objectId" not in attrs or attrs.get("eventType") not in NOTIFIED:
        return [event]
    bucket = attrs.get("bucketId") or ""
    if names.source and names.name(bucket) != names.source:
        return [event]  # a message that only looks like a notification of some other bucket
    if attrs.get("overwrittenByGeneration"):
        return []
    what = f"Cloud Storage notification {event.id}"
    data = {"bucket": bucket, "name": attrs["objectId"]}
    if event.body:
        data = {**data, **_data({"data": event.body}, what)}
    time = _time(attrs["eventTime"], f"{what}: eventTime") if attrs.get("eventTime") else event.time
    ce = {"data": data, "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}"}
    return [_storage(ce, event.id, time, what, names, NOTIFIED[attrs["eventType"]])]


# -- CloudEvents -------------------------------------------------------------------------------

def _data(ce: dict[str, Any], what: str) -> Any:
    """The event's data as JSON (a dict), whether it came as an object, JSON bytes or base64."""
    if "data_base64" in ce:
        data: Any = _b64(ce["data_base64"], f"{what} data_base64")
    else:
        data = ce.get("data")
    if isinstance(data, (bytes, bytearray, str)):
        try:
            data = json.loads(data) if data else None
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            why = "nested too deep to parse" if isinstance(e, RecursionError) else f"not JSON: {e}"
            raise UnsupportedEvent(f"{what}: data is {why}") from None
    if not isinstance(data, Mapping):
        raise UnsupportedEvent(f"{what}: data must be a JSON object, got {type(data).__name__}")
    return data


@guarded("CloudEvent")
def cloudevent_to_event(ce: dict[str, Any], names: Names) -> AnyEvent:
    missing = [k for k in _CE_REQUIRED if not ce.get(k)]
    if missing:
        raise UnsupportedEvent(f"not a CloudEvent: missing {missing}; attributes were {sorted(map(str, ce))[:12]}")
    ctype, cid = ce["type"], str(ce["id"])
    what = f"CloudEvent {ctype} {cid}"
    time = _time(ce.get("time"), what)
    if ctype in (STORAGE_FINALIZED, STORAGE_DELETED):
        return _storage(ce, cid, time, what, names, ObjectCreated if ctype == STORAGE_FINALIZED else ObjectDeleted)
    if ctype == PUBSUB_PUBLISHED:
        data = _data(ce, what)
        topic = str(ce["source"]).split("//pubsub.googleapis.com/", 1)[-1]
        source = names.name(topic, names.source or topic.rsplit("/", 1)[-1])
        attempt = _attempt(data.get("deliveryAttempt"), ce.get("deliveryattempt"))
        return message_of(data.get("message"), what, source, attempt, names)
    if ctype.startswith(FIRESTORE_PREFIX) and ctype[len(FIRESTORE_PREFIX):].split(".")[0] in FIRESTORE_KINDS:
        return _firestore(ce, cid, time, what, names)
    if isinstance(ce.get("data"), memoryview):
        ce["data"] = bytes(ce["data"])
    return Event.from_dict(ce)


def _time(value: Any, what: str) -> datetime:
    try:
        return parse_time(value)
    except (TypeError, ValueError, OverflowError, OSError) as e:
        raise UnsupportedEvent(f"{what}: time {value!r:.40}: {e}") from None


def _storage(ce: dict[str, Any], cid: str, time: Any, what: str, names: Names, cls: type) -> AnyEvent:
    data = _data(ce, what)
    bucket, key = data.get("bucket"), data.get("name")
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        subject = ce.get("subject") or ""
        if not isinstance(key, str) or not key:
            key = subject[len("objects/"):] if subject.startswith("objects/") else None
        if not isinstance(bucket, str) or not bucket:
            src = str(ce["source"])
            bucket = str(ce.get("bucket") or (src.rsplit("/buckets/", 1)[-1] if "/buckets/" in src else ""))
        if not key or not bucket:
            raise UnsupportedEvent(f"{what}: the object's bucket and name are missing; data keys were {sorted(data)[:12]}")
    size = data.get("size")
    try:
        size = int(size) if size not in (None, "") else None
    except (TypeError, ValueError):
        raise UnsupportedEvent(f"{what}: size must be a number, got {size!r:.40}") from None
    if size is not None and size < 0:
        raise UnsupportedEvent(f"{what}: size must not be negative, got {size}")
    gen = data.get("generation")
    try:
        return cls(cid, names.name(bucket, bucket), key, time, size, _opt(data.get("etag")),
                   _opt(data.get("contentType")), None if gen in (None, "") else str(gen))
    except (TypeError, ValueError) as e:
        raise UnsupportedEvent(f"{what}: {e}") from None


def _opt(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


# -- Firestore ---------------------------------------------------------------------------------

def firestore_documents(data: Any, what: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str]:
    """DocumentEventData -> (old fields, new fields, the document's full name), as plain values.

    Production sends ``application/protobuf``: it is parsed by protobuf's own message class and its
    Values read directly, about ten times cheaper than google-events' proto-plus wrapper followed
    by MessageToDict and a walk of the JSON that makes; the JSON form (conformance samples,
    structured mode) is read as JSON."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if raw[:1] != b"{":
            return _protobuf_documents(raw, what)
        data = _data({"data": raw}, what)
    if not isinstance(data, Mapping):
        raise UnsupportedEvent(f"{what}: data must be DocumentEventData (JSON or protobuf), got {type(data).__name__}")
    try:
        old, new = _document(data.get("oldValue")), _document(data.get("value"))
    except (TypeError, ValueError, AttributeError) as e:
        raise UnsupportedEvent(f"{what}: malformed document fields: {e}") from None
    doc = data.get("value") or data.get("oldValue") or {}
    return old, new, doc.get("name", "") if isinstance(doc, Mapping) else ""


_document_event_data: Any = None  # protobuf's DocumentEventData class, loaded on the first Firestore event


def _protobuf_documents(raw: bytes, what: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str]:
    global _document_event_data
    try:
        if _document_event_data is None:  # lazy: only Firestore-triggered functions load protobuf
            from google.events.cloud.firestore_v1.types import DocumentEventData

            _document_event_data = DocumentEventData.pb()
        message = _document_event_data.FromString(raw)
    except Exception as e:  # noqa: BLE001 - DecodeError and friends, named below
        raise UnsupportedEvent(f"{what}: data is not a Firestore DocumentEventData protobuf: "
                               f"{type(e).__name__}: {e}") from None
    old = _pb_fields(message.old_value.fields) if message.old_value.name else None
    new = _pb_fields(message.value.fields) if message.value.name else None
    return old, new, message.value.name or message.old_value.name


_PB_SCALARS = frozenset({"string_value", "integer_value", "double_value", "boolean_value", "reference_value"})


def _pb_fields(fields: Any) -> dict[str, Any]:
    """A protobuf map of Values -> plain values; scalars read in line (most fields are)."""
    out = {}
    for name in fields:  # keys, then lookups: the map's items() goes through Python's Mapping mixin
        value = fields[name]
        text = value.string_value  # non-empty only when the Value is a string: no WhichOneof then
        if text:
            out[name] = text
            continue
        kind = value.WhichOneof("value_type")
        out[name] = getattr(value, kind) if kind in _PB_SCALARS else _pb_value(value, kind)
    return out


def _pb_value(value: Any, kind: str | None = None) -> Any:
    """One protobuf ``Value`` -> the plain value ``firestore_value`` gives for its JSON form."""
    kind = kind or value.WhichOneof("value_type")
    if kind in _PB_SCALARS:  # _pb_fields reads these itself: here for a Value in an array
        return getattr(value, kind)
    if kind == "map_value":
        return _pb_fields(value.map_value.fields)
    if kind == "array_value":
        return [x.string_value or _pb_value(x) for x in value.array_value.values]  # "" is also string_value's default
    if kind == "timestamp_value":  # as firestore_value writes the JSON form's: microseconds, "Z"
        ts = value.timestamp_value
        seconds, micros = ts.seconds, ts.nanos // 1000
        try:  # isoformat writes the fraction only when there is one, as below
            return (_EPOCH + _timedelta(0, seconds, micros)).isoformat() + "Z"
        except OverflowError:  # beyond the years 1-9999 a Timestamp may hold
            year, month, day, hour, minute, second = _gmtime(seconds)[:6]
            return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}" + \
                (f".{micros:06d}Z" if micros else "Z")
    if kind == "bytes_value":
        return binascii.b2a_base64(value.bytes_value, newline=False).decode()  # base64.b64encode's text
    if kind == "geo_point_value":
        point = value.geo_point_value
        return {"latitude": point.latitude, "longitude": point.longitude}
    return None  # null_value, or no value set


def firestore_value(value: Mapping[str, Any]) -> Any:
    """One Firestore ``Value`` (JSON mapping) -> a plain JSON type."""
    if not isinstance(value, Mapping) or len(value) != 1:
        raise UnsupportedEvent(f"a Firestore Value has exactly one type key, got {value!r:.80}")
    (kind, v), = value.items()
    if kind == "stringValue" or kind == "referenceValue":
        return v
    if kind == "integerValue":
        return int(v)
    if kind == "doubleValue":
        return float(v)
    if kind == "booleanValue":
        return bool(v)
    if kind == "nullValue":
        return None
    if kind == "timestampValue":
        return parse_time(v).isoformat().replace("+00:00", "Z")
    if kind == "bytesValue":
        return v if isinstance(v, str) else base64.b64encode(v).decode()
    if kind == "geoPointValue":
        return {"latitude": float(v.get("latitude", 0.0)), "longitude": float(v.get("longitude", 0.0))}
    if kind == "arrayValue":
        return [firestore_value(x) for x in (v or {}).get("values", [])]
    if kind == "mapValue":
        return firestore_fields((v or {}).get("fields", {}))
    raise UnsupportedEvent(f"unknown Firestore Value type {kind!r}")


def firestore_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: firestore_value(v) for k, v in fields.items()}


def _document(doc: Any) -> dict[str, Any] | None:
    if not doc or not isinstance(doc, Mapping) or not doc.get("name"):
        return None
    return firestore_fields(doc.get("fields") or {})


def _firestore(ce: dict[str, Any], cid: str, time: Any, what: str, names: Names) -> RecordChanged:
    old, new, full = firestore_documents(ce.get("data"), what)
    path = ce.get("document") or ""
    if not path:
        path = full.split("/documents/", 1)[1] if "/documents/" in full else str(ce.get("subject", "")).removeprefix("documents/")
    collection, _, doc_id = path.rpartition("/")
    if not collection or not doc_id:
        raise UnsupportedEvent(f"{what}: cannot tell which document changed (document={path!r})")
    top = collection.split("/", 1)[0]
    table = names.logical.get(top) or names.name(str(ce.get("database") or ""), top) or top
    kind = FIRESTORE_KINDS[str(ce["type"])[len(FIRESTORE_PREFIX):].split(".")[0]]
    if kind is None:  # "written": tell which from the snapshots
        kind = "created" if old is None else "deleted" if new is None else "updated"
    fields = names.keys.get(table)
    item = new if new is not None else old or {}
    if fields and all(f in item for f in fields):
        key = {f: item[f] for f in fields}
    else:
        key = {(fields or ("id",))[0]: unquote(doc_id)}
    return RecordChanged(cid, table, key, kind, old, new, time)


# -- Cloud Scheduler over HTTP -----------------------------------------------------------------

def is_scheduler(headers: Mapping[str, str]) -> bool:
    return str(Headers(headers).get("x-cloudscheduler", "")).lower() == "true"


def tick_of(headers: Mapping[str, str], body: bytes, names: Names) -> Tick:
    """A Cloud Scheduler HTTP call -> Tick; its id is stable across the job's retries of one run."""
    h = headers if isinstance(headers, Headers) else Headers(headers)
    job = h.get("x-cloudscheduler-jobname", "")
    when = h.get("x-cloudscheduler-scheduletime", "")
    schedule = None
    if body[:1] == b"{":
        try:
            payload = json.loads(body)
            schedule = payload.get("schedule") if isinstance(payload, dict) else None
        except ValueError:
            pass
    schedule = schedule if isinstance(schedule, str) and schedule else names.source or names.name(job, job or None)
    if not schedule:
        raise UnsupportedEvent("Cloud Scheduler request names no schedule: no 'schedule' in its JSON body, "
                               "no X-CloudScheduler-JobName header and no schedule trigger configured")
    try:
        time = parse_time(when or None)
    except (TypeError, ValueError, OverflowError, OSError) as e:
        raise UnsupportedEvent(f"X-CloudScheduler-ScheduleTime {when!r:.40}: {e}") from None
    ident = f"{job or schedule}@{when}" if when else h.get("function-execution-id") or \
        h.get("x-cloud-trace-context", "").split("/")[0] or f"{schedule}@{time.isoformat()}"
    return Tick(ident, schedule, time)
