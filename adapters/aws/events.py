"""Raw Lambda events -> portside's normalized events (docs/architecture.md, "Events"), and HTTP responses back.

Pure functions: no boto3, no I/O, so they can be tested on the payloads AWS really sends.
Physical names (bucket ``shop-dev-uploads-1a2b``, queue ARN, topic ARN, stream ARN) are mapped
back to logical ones through :class:`Names`, read from ``PORTSIDE_RESOURCES``.

The SQS path is the hot one (the budget: overhead close to parsing the event's JSON), so it is
written as a tight loop over plain dict lookups; every other source favours clarity.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from types import MappingProxyType

from portside import deployment as env
from portside.capabilities import ENCODING_ATTRIBUTE  # our ports set it on a body SQS/SNS cannot carry as text
from portside.errors import SLIPS, UnsupportedEvent, guarded
from portside.errors import malformed as _bad
from portside.events import (
    AnyEvent,
    Event,
    Headers,
    HttpRequest,
    HttpResponse,
    Message,
    ObjectCreated,
    ObjectDeleted,
    RecordChanged,
    Tick,
    _loads,
    deferred_message,
    now,
    parse_time,
    trusted_object_event,
)
from portside.telemetry import Logger

TYPE_CHECKING = False  # typing, urllib.parse and base64 load where used, not at a cold start (bench/startup.py)
if TYPE_CHECKING:
    from typing import Any

    Matched = tuple[Mapping[str, str], str]  # a route the entry matched: (path params, route name)

log = Logger("portside.aws")
UTC = timezone.utc
EMPTY: Mapping[str, str] = MappingProxyType({})
_fromtimestamp = datetime.fromtimestamp
_fromisoformat = datetime.fromisoformat


# --------------------------------------------------------------------------- names


def _short(ident: str) -> tuple[str | None, str] | None:
    """(service, resource name) inside an ARN or an SQS queue URL; None for a bare name."""
    if ident.startswith("arn:"):
        parts = ident.split(":", 5)
        if len(parts) < 6:
            return None
        service, resource = parts[2], parts[5]
        if service == "dynamodb":  # table/NAME[/stream/LABEL]
            return (service, resource.split("/")[1]) if resource.startswith("table/") else None
        if service == "scheduler" or service == "events":
            service = "schedule"
        return service, resource.rsplit("/", 1)[-1] if "/" in resource else resource
    if ident.startswith(("https://", "http://")):
        return "sqs", ident.rstrip("/").rsplit("/", 1)[-1]
    return None


_SERVICE = {"bucket": "s3", "queue": "sqs", "topic": "sns", "table": "dynamodb", "schedule": "schedule",
            "stream": "kinesis"}


class Names:
    """Physical AWS identifiers -> logical resource names, and back.

    ``resources`` is the parsed ``PORTSIDE_RESOURCES``: logical -> str or {kind, name, url, arn}.
    ``default_source`` is the logical name to use for a source that is not in the map: on AWS a
    topic or bucket reaches its subscriber through a per-subscriber SQS queue that only infra knows.
    """

    __slots__ = ("resources", "default_source", "_by_id", "_cache")

    def __init__(self, resources: Mapping[str, Any] | None = None, default_source: str | None = None) -> None:
        self.resources: dict[str, Any] = dict(resources or {})
        self.default_source = default_source
        self._by_id: dict[Any, str] = {}
        self._cache: dict[str | None, str] = {}
        for logical, value in self.resources.items():
            if isinstance(value, str):
                idents = [value]
            elif isinstance(value, Mapping):
                idents = [value.get(k) for k in ("name", "url", "arn", "stream_arn")]
            else:
                raise UnsupportedEvent(
                    f"{env.RESOURCES}[{logical!r}] must be a string or an object, got {type(value).__name__}")
            kind = value.get("kind") if isinstance(value, Mapping) else None
            for ident in idents:
                if isinstance(ident, str) and ident:
                    self._by_id[ident] = logical
                    short = _short(ident)
                    if short:
                        self._by_id.setdefault(short, logical)  # type: ignore[call-overload]
                    else:  # a bare name: matches an ARN or URL of its kind's service (or any, kind unknown)
                        self._by_id.setdefault((_SERVICE.get(kind), ident), logical)  # type: ignore[call-overload]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, default_source: str | None = None) -> Names:
        text = (environ if environ is not None else os.environ).get(env.RESOURCES) or "{}"
        try:
            resources = json.loads(text)
        except ValueError as e:
            raise UnsupportedEvent(f"{env.RESOURCES} is not JSON: {e}: {text[:80]!r}") from None
        if not isinstance(resources, dict):
            raise UnsupportedEvent(f"{env.RESOURCES} must be a JSON object, got {type(resources).__name__}")
        return cls(resources, default_source)

    def logical(self, ident: str | None) -> str:
        """The logical name of a physical identifier (ARN, URL or name).

        Unknown identifiers fall back to ``default_source``, then to the physical name itself,
        so ``to_events`` still works on a payload from outside the app (e.g. in a test).
        """
        if ident.__class__ is not str:
            ident = None  # a mistyped field in the event: the fallback names it
        hit = self._cache.get(ident)
        if hit is not None:
            return hit
        found = None
        if ident:
            found = self._by_id.get(ident)
            if found is None:
                short = _short(ident)
                if short is None:
                    found = self._by_id.get((None, ident))  # type: ignore[call-overload]
                else:
                    found = self._by_id.get(short) or self._by_id.get((None, short[1]))  # type: ignore[call-overload]
                    if found is None and short[0] == "sqs":  # an SQS ARN vs a registered URL, or back
                        found = self._by_id.get(("sqs", short[1]))  # type: ignore[call-overload]
        if found is None:
            short = _short(ident) if ident else None
            found = self.default_source or (short[1] if short else ident) or "unknown"
        self._cache[ident] = found
        return found


_default_names: Names | None = None


def default_names() -> Names:
    """Names from the environment, read once per process."""
    global _default_names
    if _default_names is None:
        _default_names = Names.from_env()
    return _default_names


def set_default_names(names: Names | None) -> None:
    """Replace the process-wide names (the runtime sets them once it knows its function)."""
    global _default_names
    _default_names = names


# --------------------------------------------------------------------------- helpers


def _b64(text: Any, what: str) -> bytes:
    import base64
    import binascii

    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as e:
        raise UnsupportedEvent(f"{what} is not valid base64: {e}") from None


def _epoch(value: Any, scale: float) -> datetime:
    """Epoch seconds (scale 1) or milliseconds (scale 1000), as number or text -> aware UTC."""
    if value is None or value == "":
        return now()
    try:
        return _fromtimestamp(float(value) / scale, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise UnsupportedEvent(f"bad epoch timestamp {value!r}") from None


def _time(value: Any) -> datetime:
    try:
        return parse_time(value)
    except (TypeError, ValueError, OverflowError, OSError) as e:
        raise UnsupportedEvent(f"bad time {value!r:.40}: {e}") from None


def _epoch_any(value: Any) -> datetime:
    """Epoch seconds, milliseconds or microseconds, told apart by magnitude: DynamoDB Streams send
    seconds; through Kinesis Data Streams for DynamoDB ``ApproximateCreationDateTime`` has the
    table's ApproximateCreationDateTimePrecision, MILLISECOND or MICROSECOND (DynamoDB API Reference,
    EnableKinesisStreamingConfiguration). 1e11 s is the year 5138: nothing real is that far."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _epoch(value, 1)  # names the bad value
    return _epoch(value, 1 if abs(number) < 1e11 else 1000 if abs(number) < 1e14 else 1_000_000)


def _text(value: Any, what: str) -> str:
    if type(value) is not str or not value:
        raise UnsupportedEvent(f"{what} must be a non-empty string, got {value!r:.60}")
    return value


# --------------------------------------------------------------------------- SQS (hot path)


def _sqs_attributes(raw: Mapping[str, Any]) -> Mapping[str, str]:
    """SQS message attributes -> str: String/Number as text, Binary as its base64 text."""
    out: dict[str, str] = {}
    for name, value in raw.items():
        if value.__class__ is dict:
            kind = value.get("dataType")
            text = value.get("binaryValue" if kind.__class__ is str and kind[:6] == "Binary" else "stringValue")
            if text.__class__ is str:
                out[name] = text
    return MappingProxyType(out)


def _sns_attributes(raw: Mapping[str, Any]) -> Mapping[str, str]:
    """SNS MessageAttributes ({Type, Value}) -> str; Binary stays base64 text, String.Array JSON text."""
    out = {}
    for name, value in raw.items():
        text = value.get("Value") if value.__class__ is dict else None
        if text.__class__ is str:
            out[name] = text
    return MappingProxyType(out)


def _decoded(body: bytes, attributes: Mapping[str, str]) -> tuple[bytes, Mapping[str, str]]:
    """Undo our ports' base64 wrapping of a binary body (SQS and SNS carry text only)."""
    if attributes.get(ENCODING_ATTRIBUTE) != "base64":
        return body, attributes
    rest = MappingProxyType({k: v for k, v in attributes.items() if k != ENCODING_ATTRIBUTE})
    return _b64(body, "message body marked portside-encoding=base64"), rest


def sqs_record(rec: Mapping[str, Any], names: Names) -> list[AnyEvent]:
    """One SQS record: a plain message, an S3 notification, an S3 test event (no event), or an
    SNS envelope (unwrapped; the SNS message id, topic, attributes and time are kept).

    The hot path of every queue: plain dict lookups and exact type tests, one try block (free in
    Python 3.11+) that turns any slip into the UnsupportedEvent ``guarded`` would make."""
    try:
        mid = rec["messageId"]
        body = rec["body"]
        attrs = rec["attributes"]
        if mid.__class__ is not str or body.__class__ is not str or \
                (attrs.__class__ is not dict and not isinstance(attrs, Mapping)):
            raise TypeError("messageId and body must be strings, attributes an object")
        count = attrs.get("ApproximateReceiveCount")
        attempt = 1 if count == "1" else int(count) if count.__class__ is str and count.isdigit() and \
            count.isascii() and len(count) < 10 and count != "0" else receive_count(count)
        if body[:1] == "{":
            # An S3 notification, an S3 test event or an SNS envelope? Cheap substring checks only (the
            # body is parsed once, by whoever needs it); key order is not relied on: AWS writes ``Type``
            # first in SNS envelopes, moto and LocalStack do not.
            kind = None
            if '"Records"' in body[:64]:
                kind = "s3" if '"aws:s3"' in body[:400] else None
            elif '"TopicArn"' in body and '"Notification"' in body:
                kind = "sns"
            elif '"s3:TestEvent"' in body[:200]:
                kind = "s3-test"
            if kind is not None:
                wrapped = _sqs_wrapped(kind, body, mid, attempt, attrs, names)
                if wrapped is not None:
                    return wrapped
        ma = rec.get("messageAttributes")
        sent = attrs.get("SentTimestamp")
        group = attrs.get("MessageGroupId")
        if mid and (not ma or (ma.__class__ is dict and ENCODING_ATTRIBUTE not in ma)) and \
                sent.__class__ is str and 0 < len(sent) < 14 and sent.isdigit() and sent.isascii() and \
                (group is None or group.__class__ is str):
            # the common case, checked so that reading the rest later cannot fail: source, attributes
            # and time are read when the handler first asks (most read the body alone)
            return [deferred_message(mid, body.encode(), attempt, group,
                                     (_sqs_fill, names, rec.get("eventSourceARN"), ma and dict(ma), sent))]
        attributes = _sqs_attributes(ma) if ma else EMPTY
        data = body.encode()
        if ENCODING_ATTRIBUTE in attributes:
            data, attributes = _decoded(data, attributes)
        time = _fromtimestamp(int(sent) / 1000, UTC) if sent else now()
        return [Message(mid, data, names.logical(rec.get("eventSourceARN")), attributes, attempt, group, time)]
    except UnsupportedEvent:
        raise
    except KeyError as e:
        raise _bad("SQS record", rec, f"missing {e}") from None
    except SLIPS as e:
        raise _bad("SQS record", rec, f"{type(e).__name__}: {e}") from None


def _sqs_fill(names: Names, arn: Any, attributes: dict[str, Any] | None, sent: str) -> tuple[str, Mapping[str, str], datetime]:
    """The source, attributes and time of a deferred SQS message (``sqs_record`` checked that they
    cannot fail: a timestamp of at most 13 ASCII digits is before the year 2287)."""
    return (names.logical(arn), _sqs_attributes(attributes) if attributes else EMPTY,
            _fromtimestamp(int(sent) / 1000, UTC))


def receive_count(value: Any) -> int:
    """A delivery count (``ApproximateReceiveCount``, the scheduler's attempt number) as the 1-based
    attempt; anything but up to 9 ASCII digits counts as 1 ('²'.isdigit() is true, int('²') raises,
    and so does int() of 5,000 digits)."""
    if type(value) is str and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value) or 1
    return 1


def _sqs_wrapped(kind: str, body: str, mid: str, attempt: int, attrs: Mapping[str, Any],
                 names: Names) -> list[AnyEvent] | None:
    """The events inside an SQS body that carries another source's payload; None when the body
    only looked like one (a plain message that happens to mention ``TopicArn``)."""
    try:
        try:
            inner = _loads(body)  # json.loads minus its Python layers
        except (ValueError, StopIteration):
            inner = json.loads(body)  # says what is wrong
    except (ValueError, RecursionError) as e:
        if kind != "s3":
            return None
        why = "nested too deep to parse" if isinstance(e, RecursionError) else f"not JSON: {e}"
        raise UnsupportedEvent(f"SQS message {mid} looks like an S3 notification but is {why}") from None
    if not isinstance(inner, dict):
        return None
    if kind == "s3":
        return [s3_record(r, names) for r in _records(inner, "S3 notification in SQS message", mid)]
    if kind == "s3-test":
        return [] if inner.get("Event") == "s3:TestEvent" else None  # S3 checking a new configuration
    if inner.get("Type") != "Notification" or not isinstance(inner.get("TopicArn"), str) or "Message" not in inner:
        return None
    return [sns_message(inner, names, attempt, attrs.get("MessageGroupId"))]


def _records(raw: Any, what: str, mid: str) -> list[Mapping[str, Any]]:
    records = raw.get("Records") if raw.__class__ is dict or isinstance(raw, Mapping) else None
    if records.__class__ is list and records:
        for r in records:
            if r.__class__ is not dict and not isinstance(r, Mapping):
                break
        else:
            return records
    raise _bad(f"{what} {mid}", raw, "'Records' must be a non-empty list of objects")


# --------------------------------------------------------------------------- SNS, S3, streams


def sns_message(sns: Mapping[str, Any], names: Names, attempt: int = 1, group: str | None = None) -> Message:
    """An SNS notification (the ``Sns`` object of a Lambda record, or an envelope in SQS). A hot path
    like ``sqs_record``: one try block turns any slip into the UnsupportedEvent naming it."""
    try:
        if sns.__class__ is not dict and not isinstance(sns, Mapping):
            raise TypeError("not an object")
        kind = sns.get("Type", "Notification")
        if kind != "Notification":
            raise UnsupportedEvent(f"malformed SNS notification: Type is {kind!r:.40}")
        mid = sns.get("MessageId")
        message = sns.get("Message")
        if mid.__class__ is not str or not mid or message.__class__ is not str:
            raise TypeError("MessageId must be a non-empty string and Message a string")
        raw = sns.get("MessageAttributes")
        attributes = _sns_attributes(raw) if raw else EMPTY
        data = message.encode()
        if ENCODING_ATTRIBUTE in attributes:
            data, attributes = _decoded(data, attributes)
        return Message(mid, data, names.logical(sns.get("TopicArn")), attributes, attempt,
                       group or sns.get("MessageGroupId"), parse_time(sns.get("Timestamp")))
    except UnsupportedEvent:
        raise
    except SLIPS as e:
        raise _bad("SNS notification", sns, f"{type(e).__name__}: {e}") from None


def _etag(value: Any) -> str | None:
    return value.strip('"') if isinstance(value, str) and value else None


def _size(value: Any) -> int | None:
    if value.__class__ is int and value >= 0:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _object_event(created: bool, bucket: str, key: str, sequencer: Any, fallback: str, time: datetime,
                  size: Any, etag: Any, version: Any, names: Names) -> ObjectCreated | ObjectDeleted:
    """S3's own stable identity of a change: the object and its sequencer (per-key ordering)."""
    ident = f"{bucket}/{key}@{sequencer or fallback}"
    logical = names.logical(bucket)
    version = version if isinstance(version, str) and version else None
    if logical and key and bucket and time.tzinfo is not None and (version is None or version.__class__ is str):
        # what the class checks (the rest is typed above)
        if not created:
            return trusted_object_event(ObjectDeleted, ident, logical, key, time, None, None, None, version)
        return trusted_object_event(ObjectCreated, ident, logical, key, time,
                                    size if size.__class__ is int and size >= 0 else _size(size),
                                    etag.strip('"') if etag.__class__ is str and etag else _etag(etag), None, version)
    if created:
        return ObjectCreated(ident, logical, key, time, _size(size), _etag(etag), None, version)
    return ObjectDeleted(ident, logical, key, time, None, None, None, version)


def s3_record(rec: Mapping[str, Any], names: Names) -> ObjectCreated | ObjectDeleted:
    """One S3 event notification record; the key arrives form-encoded (``+``, ``%xx``). A hot path (a
    bucket's every object reaches its function so, through SQS): the guard of ``guarded("S3 record")``
    written in, one try block, and exact type tests first."""
    try:
        name = rec.get("eventName")
        name = name.removeprefix("s3:") if name.__class__ is str else ""
        if name[:14] == "ObjectCreated:":
            created = True
        elif name.startswith(("ObjectRemoved:", "LifecycleExpiration:")):
            created = False
        else:
            raise UnsupportedEvent(f"S3 event {name or rec.get('eventName')!r} is neither ObjectCreated:* nor "
                                   "ObjectRemoved:*; portside maps only object created/deleted")
        try:
            s3 = rec["s3"]
            bucket = s3["bucket"]["name"]
            obj = s3["object"]
            key = obj["key"]
        except (KeyError, TypeError) as e:
            raise _bad("S3 record", rec, f"missing {e}") from None
        if bucket.__class__ is not str or not bucket:
            _text(bucket, "S3 bucket name")
        if key.__class__ is not str or not key:
            _text(key, "S3 object key")
        if "%" in key:  # form-encoded ("+" a space, %xx a byte of UTF-8)
            from urllib.parse import unquote_plus

            key = unquote_plus(key)
        elif "+" in key:  # unquote_plus without a %xx in the key
            key = key.replace("+", " ")
        when = rec.get("eventTime")
        sequencer = obj.get("sequencer")
        if not sequencer:  # S3 always sends one; without it, the request id
            sequencer = f"{when}/{(rec.get('responseElements') or {}).get('x-amz-request-id')}"
        try:  # RFC 3339 in UTC, as S3 writes it: parse_time's first step, without its other checks
            time = _fromisoformat(when) if when.__class__ is str and when[-1:] == "Z" else _time(when)
        except ValueError:
            time = _time(when)
        return _object_event(created, bucket, key, sequencer, "", time,
                             obj.get("size"), obj.get("eTag"), obj.get("versionId"), names)
    except UnsupportedEvent:
        raise
    except SLIPS as e:
        raise _bad("S3 record", rec, f"{type(e).__name__}: {e}") from None


def _plain(av: Any) -> Any:
    """A DynamoDB AttributeValue -> a plain JSON value (N -> int or float, B -> base64 text)."""
    if not isinstance(av, Mapping) or len(av) != 1:
        raise UnsupportedEvent(f"not a DynamoDB attribute value: {av!r:.80}")
    (tag, value), = av.items()
    if tag == "S" or tag == "BOOL":
        return value
    if tag == "N":
        return _number(value)
    if tag == "M":
        return {k: _plain(v) for k, v in value.items()}
    if tag == "L":
        return [_plain(v) for v in value]
    if tag == "NULL":
        return None
    if tag == "SS" or tag == "BS" or tag == "B":
        return list(value) if tag != "B" else value
    if tag == "NS":
        return [_number(v) for v in value]
    raise UnsupportedEvent(f"unknown DynamoDB attribute type {tag!r}")


def _number(text: Any) -> int | float:
    text = str(text)
    try:
        if "." in text or "e" in text or "E" in text:
            f = float(text)
            return int(f) if f.is_integer() and abs(f) < 2**53 and "e" not in text.lower() else f
        return int(text)
    except ValueError:
        raise UnsupportedEvent(f"DynamoDB number {text!r} is not a number") from None


def plain_item(image: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A DynamoDB item (name -> AttributeValue) as a plain dict; None stays None."""
    if image is None:
        return None
    if not isinstance(image, Mapping):
        raise UnsupportedEvent(f"a DynamoDB image must be an object, got {type(image).__name__}")
    return {k: _plain(v) for k, v in image.items()}


_CHANGE = {"INSERT": "created", "MODIFY": "updated", "REMOVE": "deleted"}


@guarded("DynamoDB stream record")
def dynamodb_record(rec: Mapping[str, Any], names: Names) -> RecordChanged:
    kind = _CHANGE.get(rec.get("eventName"))  # type: ignore[arg-type]
    if kind is None:
        raise _bad("DynamoDB stream record", rec, f"eventName {rec.get('eventName')!r}")
    d = rec.get("dynamodb")
    if not isinstance(d, Mapping) or not d.get("Keys"):
        raise _bad("DynamoDB stream record", rec, "no dynamodb.Keys")
    return RecordChanged(_text(rec.get("eventID"), "DynamoDB eventID"), names.logical(rec.get("eventSourceARN")),
                         plain_item(d["Keys"]), kind, plain_item(d.get("OldImage")),  # type: ignore[arg-type]
                         plain_item(d.get("NewImage")), _epoch_any(d.get("ApproximateCreationDateTime")))


@guarded("Kinesis record")
def kinesis_record(rec: Mapping[str, Any], names: Names) -> Message:
    k = rec.get("kinesis")
    if not isinstance(k, Mapping) or "data" not in k:
        raise _bad("Kinesis record", rec, "no kinesis.data")
    ident = rec.get("eventID") or f"{k.get('partitionKey')}:{k.get('sequenceNumber')}"
    return Message(_text(ident, "Kinesis eventID"), _b64(k["data"], "Kinesis data"),
                   names.logical(rec.get("eventSourceARN")), EMPTY, 1, k.get("partitionKey") or None,
                   _epoch(k.get("approximateArrivalTimestamp"), 1))


# --------------------------------------------------------------------------- EventBridge, schedules


@guarded("EventBridge event")
def eventbridge(raw: Mapping[str, Any], names: Names) -> AnyEvent:
    """EventBridge: S3 object events, scheduled events (-> Tick), anything else (-> Event)."""
    ident = _text(raw.get("id"), "EventBridge id")
    kind, source, detail = raw.get("detail-type"), raw.get("source"), raw.get("detail")
    time = _time(raw.get("time"))
    if source == "aws.s3" and kind in ("Object Created", "Object Deleted"):
        from urllib.parse import unquote_plus

        try:
            bucket = _text(detail["bucket"]["name"], "S3 bucket name")
            obj = detail["object"]
            key = unquote_plus(_text(obj["key"], "S3 object key"))
        except (KeyError, TypeError) as e:
            raise _bad("S3 EventBridge event", raw, f"missing detail {e}") from None
        return _object_event(kind == "Object Created", bucket, key, obj.get("sequencer"), ident, time,
                             obj.get("size"), obj.get("etag"), obj.get("version-id"), names)
    if source == "aws.events" and kind == "Scheduled Event":
        resources = raw.get("resources") or []
        rule = resources[0] if resources and isinstance(resources[0], str) else None
        return Tick(ident, names.logical(rule), time)
    try:
        return Event(type=_text(kind, "EventBridge detail-type"), source=_text(source, "EventBridge source"),
                     data=detail, id=ident, time=time, subject=None, datacontenttype="application/json")
    except (TypeError, ValueError) as e:
        raise _bad("EventBridge event", raw, str(e)) from None


@guarded("EventBridge Scheduler input")
def scheduler_input(raw: Mapping[str, Any], names: Names, request_id: str | None) -> Tick:
    """Our EventBridge Scheduler input (``env.SCHEDULER_INPUT``), context attributes filled in."""
    schedule = _text(raw.get("schedule"), "scheduler input 'schedule'")
    when = raw.get("time")
    filled = isinstance(when, str) and when and not when.startswith("<aws.")
    arn = raw.get("arn") if isinstance(raw.get("arn"), str) and not raw["arn"].startswith("<aws.") else schedule
    ident = f"{arn}@{when}" if filled else (request_id or raw.get("execution") or f"{schedule}@{now().isoformat()}")
    return Tick(ident, schedule, _time(when) if filled else now())


def scheduler_attempt(raw: Mapping[str, Any]) -> int:
    return receive_count(raw.get("attempt"))


# --------------------------------------------------------------------------- HTTP


def _cookies(header: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            out.setdefault(name, value)
    return out


def _body(raw: Mapping[str, Any]) -> bytes:
    body = raw.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise _bad("HTTP event", raw, f"body must be a string, got {type(body).__name__}")
    return _b64(body, "HTTP body (isBase64Encoded)") if raw.get("isBase64Encoded") else body.encode()


def _str_values(raw: Any) -> dict[str, str]:
    """The text values of a JSON object (API Gateway sends null for absent maps and values)."""
    if raw.__class__ is not dict:
        return {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, Mapping) else {}
    for v in raw.values():
        if v.__class__ is not str:
            return {k: v for k, v in raw.items() if v.__class__ is str}
    return raw  # all text: no copy (HttpRequest copies what it keeps)


def _query(raw_query: str) -> dict[str, list[str]]:
    """A raw query string as name -> values, as ``parse_qsl(keep_blank_values=True)`` reads it
    ('+' is a space, %xx decoded, "a" alone is a blank value), at a third of its cost: most names
    and values need no unquoting, and parse_qsl's argument checks run per call."""
    query: dict[str, list[str]] = {}
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            from urllib.parse import unquote_plus  # imported once, then a dict lookup

            name, value = unquote_plus(name), unquote_plus(value)
        values = query.get(name)
        if values is None:
            query[name] = [value]
        else:
            values.append(value)
    return query


@guarded("API Gateway REST event")
def http_v1(raw: Mapping[str, Any], request_id: str | None = None, matched: Matched | None = None) -> HttpRequest:
    """API Gateway REST API (payload 1.0): prefers the multi-value forms when present."""
    rc = raw.get("requestContext") or {}
    method = raw.get("httpMethod") or rc.get("httpMethod")
    mvh = raw.get("multiValueHeaders")
    if isinstance(mvh, Mapping) and mvh:
        headers = [(k, v) for k, vs in mvh.items() for v in (vs or ()) if isinstance(v, str)]
    else:
        headers = list(_str_values(raw.get("headers")).items())
    mvq = raw.get("multiValueQueryStringParameters")
    if isinstance(mvq, Mapping) and mvq:
        query = {k: tuple(v for v in vs if isinstance(v, str)) for k, vs in mvq.items() if vs}
    else:
        query = {k: (v,) for k, v in _str_values(raw.get("queryStringParameters")).items()}
    resource = raw.get("resource")
    cookie = next((v for k, v in headers if k.lower() == "cookie"), None)
    ident = rc.get("requestId") or request_id
    try:
        params, route = matched or (_str_values(raw.get("pathParameters")),
                                    f"{method.upper()} {resource}" if isinstance(resource, str) and resource else None)
        return HttpRequest(_text(ident, "requestContext.requestId"), _text(method, "httpMethod"),
                           raw.get("path") or rc.get("path") or "/", Headers(headers), query, _body(raw),
                           params, _cookies(cookie), (rc.get("identity") or {}).get("sourceIp"), route,
                           _epoch(rc.get("requestTimeEpoch"), 1000))
    except (TypeError, ValueError) as e:
        raise _bad("API Gateway REST event", raw, str(e)) from None


@guarded("HTTP API / Function URL event")
def http_v2(raw: Mapping[str, Any], request_id: str | None = None, matched: Matched | None = None) -> HttpRequest:
    """HTTP API (payload 2.0) and Lambda Function URLs (same shape, routeKey ``$default``)."""
    rc = raw.get("requestContext") or {}
    http = rc.get("http") or {}
    raw_query = raw.get("rawQueryString")
    query = _query(raw_query) if raw_query else {}
    if not query and isinstance(raw.get("queryStringParameters"), Mapping):
        query = {k: [v] for k, v in _str_values(raw["queryStringParameters"]).items()}
    cookies: dict[str, str] = {}
    for c in raw.get("cookies") or ():
        name, sep, value = c.partition("=")
        if sep:
            cookies.setdefault(name.strip(), value)
    route = raw.get("routeKey")
    params, route = matched or (_str_values(raw.get("pathParameters")), route if route and route != "$default" else None)
    try:
        return HttpRequest(_text(rc.get("requestId") or request_id, "requestContext.requestId"),
                           _text(http.get("method"), "requestContext.http.method"),
                           raw.get("rawPath") or http.get("path") or "/", _str_values(raw.get("headers")),
                           query, _body(raw), params, cookies, http.get("sourceIp"), route,
                           _epoch(rc.get("timeEpoch"), 1000))
    except (TypeError, ValueError) as e:
        raise _bad("HTTP API event", raw, str(e)) from None


@guarded("Application Load Balancer event")
def http_alb(raw: Mapping[str, Any], request_id: str | None = None, matched: Matched | None = None) -> HttpRequest:
    """An Application Load Balancer request (a target group of type ``lambda``).

    Unlike API Gateway, "if the query parameters are URL-encoded, the load balancer does not decode
    them. You must decode them in your Lambda function" (Elastic Load Balancing user guide, "Lambda
    functions as targets"; seen in apig-wsgi #253 and Powertools' ALBResolver #7940): names and values
    are decoded here as a browser encodes a form (``+`` is a space). With multi-value headers enabled on
    the target group, headers and query arrive only as ``multiValueHeaders`` and
    ``multiValueQueryStringParameters``, never both forms. ALB names no request id and no time: the
    Lambda request id (else the ``X-Amzn-Trace-Id`` it adds) and the time of arrival stand in.
    """
    mvh = raw.get("multiValueHeaders")
    if isinstance(mvh, Mapping):
        headers = Headers([(k, v) for k, vs in mvh.items() if isinstance(vs, list) for v in vs if isinstance(v, str)])
    else:
        headers = Headers(_str_values(raw.get("headers")))
    mvq = raw.get("multiValueQueryStringParameters")
    if isinstance(mvq, Mapping):
        pairs = [(k, v) for k, vs in mvq.items() if isinstance(vs, list) for v in vs]
    else:
        pairs = list(_str_values(raw.get("queryStringParameters")).items())
    from urllib.parse import unquote_plus

    query: dict[str, list[str]] = {}
    for k, v in pairs:
        if isinstance(k, str) and isinstance(v, str):
            query.setdefault(unquote_plus(k), []).append(unquote_plus(v))
    forwarded = headers.get("x-forwarded-for", "")
    ident = request_id or headers.get("x-amzn-trace-id")
    if not ident:
        from uuid import uuid4

        ident = str(uuid4())
    try:
        params, route = matched or ({}, None)
        return HttpRequest(ident, _text(raw.get("httpMethod"), "httpMethod"), raw.get("path") or "/", headers, query,
                           _body(raw), params, _cookies(headers.get("cookie")), forwarded.split(",")[0].strip() or None,
                           route, now())
    except (TypeError, ValueError) as e:
        raise _bad("Application Load Balancer event", raw, str(e)) from None


def http_target(raw: Mapping[str, Any], kind: str) -> tuple[str, str] | None:
    """(method, path) of an HTTP event that names no route of its own, for the entry to route it
    before the request is built (building it twice cost a third of a request); None when API
    Gateway routed it already (a REST resource, an HTTP API route key) or the fields are not text."""
    try:
        if kind == "http-v2":
            http = raw["requestContext"]["http"]
            method, path, routed = http.get("method"), raw.get("rawPath") or http.get("path") or "/", \
                raw.get("routeKey") not in (None, "", "$default")
        else:
            rc = raw.get("requestContext") or {}
            method = raw.get("httpMethod") or rc.get("httpMethod")
            path = raw.get("path") or rc.get("path") or "/"
            routed = kind == "http-v1" and bool(raw.get("resource"))
    except SLIPS:
        return None
    if routed or method.__class__ is not str or path.__class__ is not str:
        return None
    return method.upper(), path


def http_flavour(raw: Mapping[str, Any]) -> str:
    """Which response shape the caller expects: "v1" (REST API), "v2" (HTTP API, Function URL),
    "alb" or "alb-multi" (a load balancer, with multi-value headers enabled on its target group)."""
    rc = raw.get("requestContext")
    if isinstance(rc, Mapping) and "elb" in rc:
        return "alb-multi" if "multiValueHeaders" in raw else "alb"
    return "v1" if "httpMethod" in raw else "v2"


def http_result(response: HttpResponse, flavour: str = "v2") -> dict[str, Any]:
    """An HttpResponse in the shape API Gateway, Function URLs or ALB expect; binary bodies base64."""
    text = response.is_text
    try:
        body = response.body.decode() if text else ""
    except UnicodeDecodeError:
        text = False
    if not text:
        import base64

        body = base64.b64encode(response.body).decode()
    if flavour[:3] == "alb":
        return _alb_result(response, body, text, flavour == "alb-multi")
    out: dict[str, Any] = {"statusCode": response.status, "headers": dict(response.headers),
                           "body": body, "isBase64Encoded": not text}
    if response.cookies:
        if flavour == "v1":
            out["multiValueHeaders"] = {"Set-Cookie": list(response.cookies)}
        else:
            out["cookies"] = list(response.cookies)
    return out


def _alb_result(response: HttpResponse, body: str, text: bool, multi: bool) -> dict[str, Any]:
    """ALB's response: ``statusDescription`` ("200 OK") and, when the target group has multi-value
    headers enabled, ``multiValueHeaders`` only (ALB then ignores ``headers``). Without them a header
    appears once, so only the last cookie can be set: said in the log, never dropped silently."""
    from http import HTTPStatus  # only load balancer functions pay for the enum

    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = "Unknown"
    out: dict[str, Any] = {"statusCode": response.status, "statusDescription": f"{response.status} {phrase}",
                           "body": body, "isBase64Encoded": not text}
    if multi:
        headers: dict[str, list[str]] = {k: [v] for k, v in response.headers.items()}
        if response.cookies:
            headers["Set-Cookie"] = list(response.cookies)
        out["multiValueHeaders"] = headers
    else:
        single = dict(response.headers)
        if response.cookies:
            if len(response.cookies) > 1:
                log.warning("the load balancer's target group has multi-value headers disabled: of %d cookies only "
                            "the last is set; enable lambda.multi_value_headers.enabled", len(response.cookies))
            single["Set-Cookie"] = response.cookies[-1]
        out["headers"] = single
    return out


def batch_result(failed: list[str]) -> dict[str, Any]:
    """``ReportBatchItemFailures``: only the items to retry."""
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}


# --------------------------------------------------------------------------- dispatch

RecordMapper = Callable[[Mapping[str, object], Names], object]
_RECORD_SOURCES: dict[str, tuple[str, RecordMapper]] = {
    "aws:sqs": ("sqs", sqs_record),
    "aws:s3": ("s3", lambda r, n: [s3_record(r, n)]),
    "aws:sns": ("sns", lambda r, n: [sns_message(r.get("Sns"), n)]),
    "aws:dynamodb": ("dynamodb", lambda r, n: [dynamodb_record(r, n)]),
    "aws:kinesis": ("kinesis", lambda r, n: [kinesis_record(r, n)]),
}
_MAPPERS: dict[str, RecordMapper] = dict(_RECORD_SOURCES.values())
BATCH_SOURCES = frozenset({"sqs", "dynamodb", "kinesis"})  # ReportBatchItemFailures


def _record_kind(rec: Any) -> str | None:
    """The source a record names (sqs, s3, ...), None if it names none portside knows."""
    if rec.__class__ is not dict and not isinstance(rec, Mapping):
        return None
    source = rec.get("eventSource") or rec.get("EventSource")
    hit = _RECORD_SOURCES.get(source) if type(source) is str else None
    return hit[0] if hit else None


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        source = value.get("eventSource") or value.get("EventSource")
        return f"an object with keys {sorted(map(str, value))[:12]}" + (f" and eventSource {source!r:.40}" if source else "")
    return f"{type(value).__name__} {value!r:.60}"


def refused(raw: Any) -> str | None:
    """Why ``raw`` is a Lambda event portside recognises but will not serve, or None.

    Both are synchronous calls whose caller expects an answer portside does not give: an API
    Gateway Lambda authorizer must answer an IAM policy (REST, HTTP API payload 1.0) or
    ``isAuthorized`` (payload 2.0), not an HTTP response; a WebSocket API route is called per
    connection and message, with a ``connectionId``. Taking them for an HttpRequest would answer
    them wrongly, so they are refused by name (the entry raises, nothing is dead-lettered: an
    authorizer event carries the caller's credentials)."""
    if not isinstance(raw, Mapping):
        return None
    kind = raw.get("type")
    if kind in ("TOKEN", "REQUEST") and ("methodArn" in raw or "routeArn" in raw):
        arn = raw.get("methodArn") or raw.get("routeArn")
        return (f"an API Gateway Lambda authorizer event (type {kind}, for {arn!r:.100}): portside functions serve "
                "requests but are not authorizers, which must answer an IAM policy or isAuthorized; declare the "
                "route on an api and authorize it with a plain Lambda authorizer or IAM/JWT auth")
    rc = raw.get("requestContext")
    if isinstance(rc, Mapping) and "connectionId" in rc and rc.get("eventType") in ("CONNECT", "MESSAGE", "DISCONNECT"):
        return (f"an API Gateway WebSocket event ({rc.get('eventType')} on route {rc.get('routeKey')!r:.40}, "
                f"connection {rc.get('connectionId')!r:.40}): portside has no WebSocket trigger; use an HTTP route, "
                "or a queue or topic for messages")
    return None


def classify(raw: Any) -> str:
    """Which Lambda source sent ``raw``: sqs, s3, sns, dynamodb, kinesis, http-v1, http-v2, http-alb,
    eventbridge, scheduler or cloudevent. Anything else is ``UnsupportedEvent`` naming what it saw.

    A batch is of the kind most of its records name: a malformed record (even the first) does not
    decide it; ``items`` then refuses that record alone."""
    if not isinstance(raw, Mapping):
        raise UnsupportedEvent(f"a Lambda event must be a JSON object, got {type(raw).__name__} {raw!r:.60}")
    records = raw.get("Records")
    if records is not None:
        if type(records) is not list or not records:
            raise _bad("Lambda event", raw, "'Records' must be a non-empty list of objects")
        first = records[0]
        source = first.get("eventSource") if first.__class__ is dict else None
        hit = _RECORD_SOURCES.get(source) if source.__class__ is str else None
        if hit is not None:  # the common case: every record an object naming the first's source
            for rec in records:
                if rec.__class__ is not dict or rec.get("eventSource") != source:
                    break
            else:
                return hit[0]
        kinds = [_record_kind(rec) for rec in records]
        kind = kinds[0]
        if kind is None or kinds.count(kind) != len(kinds):  # Lambda sends one source: the odd ones are malformed
            votes: dict[str, int] = {}
            for k in kinds:
                if k:
                    votes[k] = votes.get(k, 0) + 1
            if not votes:
                raise UnsupportedEvent(f"unsupported Lambda event: no record names a known eventSource "
                                       f"(Records[0] is {_describe(records[0])})")
            kind = max(votes, key=votes.__getitem__)  # the most records; on a tie, the first seen
        return kind
    why = refused(raw)
    if why:
        raise UnsupportedEvent(f"unsupported Lambda event: {why}")
    if "requestContext" in raw:
        rc = raw["requestContext"]
        if isinstance(rc, Mapping) and "elb" in rc:
            return "http-alb"
        if "httpMethod" in raw:
            return "http-v1"
        if raw.get("version") == "2.0" or "rawPath" in raw:
            return "http-v2"
    if "detail-type" in raw and "source" in raw:
        return "eventbridge"  # "version" is optional: events put by some tools lack it
    if "specversion" in raw:
        return "cloudevent"
    if isinstance(raw.get("schedule"), str):
        return "scheduler"
    raise UnsupportedEvent(f"unsupported Lambda event with top-level keys {sorted(map(str, raw))[:12]}"
                           f"{' and eventSource ' + repr(raw.get('eventSource')) if 'eventSource' in raw else ''}")


def items(raw: Mapping[str, Any], kind: str, names: Names) -> Iterator[tuple[Any, RecordMapper]]:
    """(record, mapper) pairs of a ``Records`` event, for per-record delivery: each record is
    classified on its own, so one that is not an object or names another source fails alone."""
    for rec in raw["Records"]:
        yield rec, record_mapper(rec, kind)


def record_mapper(rec: Any, kind: str) -> RecordMapper:
    """How to map one record of a ``kind`` batch: by its source's mapper, or (a record that is not an
    object or names another source) by one that refuses it alone."""
    return _MAPPERS[kind] if _record_kind(rec) == kind else _refuse_record(kind, rec)


def _refuse_record(kind: str, rec: Any) -> RecordMapper:
    def refuse(_rec: Any, _names: Names) -> Any:
        raise UnsupportedEvent(f"malformed record in a {kind} batch: {_describe(rec)}")

    return refuse


def to_events(raw: Any, *, names: Names | None = None, request_id: str | None = None) -> list[AnyEvent]:
    """The normalized events in a raw Lambda event (docs/architecture.md, "Events").

    ``names`` maps physical to logical names (default: ``PORTSIDE_RESOURCES``); ``request_id``
    (Lambda's ``context.aws_request_id``) is the id of events that carry none of their own.
    Anything malformed raises ``UnsupportedEvent`` naming what it saw, never another error.
    """
    names = names or default_names()
    kind = classify(raw)
    if kind == "sqs":  # the hot path: no per-record generator
        out: list[AnyEvent] = []
        for rec in raw["Records"]:
            if type(rec) is not dict or rec.get("eventSource") != "aws:sqs":
                raise UnsupportedEvent(f"malformed record in a sqs batch: {_describe(rec)}")
            out += sqs_record(rec, names)
        return out
    if kind in BATCH_SOURCES or kind in ("s3", "sns"):
        return [e for rec, mapper in items(raw, kind, names) for e in mapper(rec, names)]
    return [single(raw, kind, names, request_id)]


def single(raw: Mapping[str, Any], kind: str, names: Names, request_id: str | None = None,
           matched: Matched | None = None) -> AnyEvent:
    """The one event of a non-batch source; ``matched`` is the route the entry found for it."""
    if kind == "http-v2":
        return http_v2(raw, request_id, matched)
    if kind == "http-v1":
        return http_v1(raw, request_id, matched)
    if kind == "http-alb":
        return http_alb(raw, request_id, matched)
    if kind == "eventbridge":
        return eventbridge(raw, names)
    if kind == "scheduler":
        return scheduler_input(raw, names, request_id)
    if kind == "cloudevent":
        return cloudevent(raw)
    raise UnsupportedEvent(f"{kind} events come in Records")


@guarded("CloudEvent")
def cloudevent(raw: Mapping[str, Any]) -> Event:
    return Event.from_dict(raw)
