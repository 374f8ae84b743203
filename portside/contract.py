"""The port contract: every port call, on every target, passes the same checks first.

``PortCache.port`` wraps each target's port (fake, local, AWS, GCP) in one of the classes below,
so a request a targeted cloud would refuse (docs/architecture.md, "Capabilities") is refused
everywhere with the same ``InvalidRequest`` and the same message, before any cloud is called,
and the rules portside adds for portability hold on every target:

- object keys: at most 1024 bytes of UTF-8, no CR, LF or NUL, no leading or trailing ``/``, no
  empty, ``.`` or ``..`` segment (Cloud Storage refuses ``.`` and ``..``; S3 tools and browsers
  resolve such segments as paths; the local target stores keys as files);
- messages: a non-empty body, attributes within the targeted clouds' count, name and size limits
  (empty values are dropped: SQS refuses them, and an absent attribute reads the same);
  ``ordering_key`` only on FIFO queues (whose messages without one share the group ``"default"``),
  no delay on a FIFO queue when AWS is targeted, and a warning when a targeted cloud cannot delay;
- tables: key values are non-empty strings within the key size limits (DynamoDB keys are strings
  as portside provisions them, and one type gives one order: code point order, which is the
  UTF-8 byte order DynamoDB and Firestore sort by); items are JSON types within the item size,
  integer range and field name rules.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping

from portside.capabilities import ENCODING_ATTRIBUTE, Cloud, clouds_of, reserved, sqs_text, strictest
from portside.declarations import Bucket, Queue, Resource, Table, Topic
from portside.errors import InvalidRequest, PayloadTooLarge

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_GROUP = "default"  # the FIFO message group of a message sent without an ordering key
MAX_DELAY = 900  # seconds: SQS's DelaySeconds range, the one portside accepts everywhere
_AWS_ATTRIBUTE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")


def targeted(resource: Resource) -> tuple[Cloud, ...]:
    """The clouds the resource's app targets (both for a resource outside an app)."""
    app = resource.app
    return clouds_of(getattr(app, "clouds", None) if app is not None else None)


def checked(resource: Resource, port: Any) -> Any:
    """``port`` behind the contract checks for ``resource``'s kind."""
    for kind, wrapper in _WRAPPERS:
        if isinstance(resource, kind):
            return wrapper(resource, port)
    return port


class _Checked:
    """A port held to the contract: the port operations are checked; anything else a target's
    port offers (the fake bucket's ``objects``, the local table's ``scan``) passes through."""

    __slots__ = ("raw", "resource", "clouds")

    def __init__(self, resource: Resource, raw: Any) -> None:
        self.raw, self.resource, self.clouds = raw, resource, targeted(resource)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)

    def __repr__(self) -> str:
        return f"<checked {self.raw!r}>"


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:
        raise InvalidRequest(f"{what} {text!r} is not valid Unicode text (a lone surrogate)") from None


# -- buckets ------------------------------------------------------------------------------------

def check_key(key: object, clouds: tuple[Cloud, ...] = ()) -> str:
    """An object key every target stores under the same name, or ``InvalidRequest``."""
    if not isinstance(key, str) or not key:
        raise InvalidRequest(f"object key must be a non-empty str, got {key!r}")
    size = len(_utf8(key, "object key"))
    limit = strictest(clouds, "object_key_bytes")
    if limit and size > limit[0]:
        raise InvalidRequest(f"object key of {size} bytes is over the {limit[0]}-byte limit of {limit[1].name}: "
                             f"{key[:60]!r}...")
    if "\r" in key or "\n" in key or "\0" in key:
        raise InvalidRequest(f"object key {key!r} holds a CR, LF or NUL character, which Cloud Storage and "
                             "files refuse")
    if key.startswith("/") or key.endswith("/") or any(p in ("", ".", "..") for p in key.split("/")):
        raise InvalidRequest(f"object key {key!r} is not portable: no leading or trailing '/', and no empty, "
                             "'.' or '..' segment (Cloud Storage refuses '.' and '..', tools and browsers "
                             "resolve them as paths, the local target stores keys as files)")
    return key


class CheckedBucket(_Checked):
    """A ``BucketPort`` held to the contract."""

    __slots__ = ()

    def get(self, key: str) -> bytes:
        return self.raw.get(check_key(key, self.clouds))

    def exists(self, key: str) -> bool:
        return self.raw.exists(check_key(key, self.clouds))

    def list(self, prefix: str = "") -> Iterator[str]:
        if not isinstance(prefix, str):
            raise InvalidRequest(f"list prefix must be a str, got {prefix!r}")
        return iter(self.raw.list(prefix))

    def signed_url(self, key: str, expires: int = 3600) -> str:
        limit = strictest(self.clouds, "signed_url_seconds")
        longest = limit[0] if limit else 7 * 24 * 3600
        if type(expires) is not int or not 1 <= expires <= longest:
            raise InvalidRequest(f"signed URL lifetime must be whole seconds from 1 to {longest} "
                                 f"(7 days, the longest {'S3 and Cloud Storage' if limit else 'portside'} "
                                 f"sign for), got {expires!r}")
        return self.raw.signed_url(check_key(key, self.clouds), expires)

    def put(self, key: str, data: Any, content_type: str | None = None,
            metadata: Mapping[str, str] | None = None) -> None:
        check_key(key, self.clouds)
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        elif not isinstance(data, bytes) and not callable(getattr(data, "read", None)):
            raise InvalidRequest(f"object data must be bytes or a binary file, got {type(data).__name__}")
        if content_type is not None and not isinstance(content_type, str):
            raise InvalidRequest(f"content_type must be a str, got {content_type!r}")
        meta = dict(metadata or {})
        for k, v in meta.items():
            if not isinstance(k, str) or not k or not isinstance(v, str):
                raise InvalidRequest(f"object metadata must map non-empty str to str, got {k!r}: {v!r}")
        self.raw.put(key, data, content_type, meta)

    def delete(self, key: str) -> None:
        self.raw.delete(check_key(key, self.clouds))


# -- queues and topics ---------------------------------------------------------------------------

def _attribute_problem(name: object, value: object, clouds: tuple[Cloud, ...]) -> str | None:
    if not isinstance(name, str) or not name or not isinstance(value, str):
        return f"attributes must map non-empty str to str, got {name!r}: {value!r}"
    raw_name, raw_value = _utf8(name, "attribute name"), _utf8(value, f"attribute {name!r} value")
    for c in clouds:
        if len(raw_name) > c.attribute_name_bytes:
            return f"attribute name {name[:40]!r}... is over {c.attribute_name_bytes} bytes, the limit on {c.name}"
        if c.attribute_value_bytes is not None and len(raw_value) > c.attribute_value_bytes:
            return (f"attribute {name!r} has a value of {len(raw_value)} bytes, over the "
                    f"{c.attribute_value_bytes}-byte limit on {c.name}")
        if c.name == "aws" and (not set(name) <= _AWS_ATTRIBUTE or name.startswith(".") or name.endswith(".")
                                or ".." in name or name.lower().startswith(("aws.", "amazon."))):
            return (f"attribute name {name!r} is refused on aws: SQS names use A-Z a-z 0-9 _ - . only, "
                    "with no leading, trailing or repeated '.', and do not start with 'AWS.' or 'Amazon.'")
    return None


def check_message(kind: str, name: str, body: object, attributes: Mapping[str, str] | None,
                  clouds: tuple[Cloud, ...]) -> dict[str, str]:
    """The attributes to send (empty values dropped) if every targeted cloud takes the message."""
    if not isinstance(body, (bytes, bytearray)):
        raise InvalidRequest(f"{kind} {name!r}: a message body reaches the port as bytes, got {type(body).__name__}")
    if not body:
        raise InvalidRequest(f"{kind} {name!r}: the message body is empty, which SQS and Pub/Sub refuse; "
                             "send at least one byte (e.g. '{}')")
    attrs: dict[str, str] = {}
    for k, v in (attributes or {}).items():
        problem = _attribute_problem(k, v, clouds)
        if problem:
            raise InvalidRequest(f"{kind} {name!r}: {problem}")
        if v != "":
            attrs[k] = v
    for c in clouds:
        base64 = c.name == "aws" and sqs_text(bytes(body)) is None  # SQS and SNS carry text only
        count = len(attrs) + (1 if base64 and ENCODING_ATTRIBUTE not in attrs else 0)
        if count > c.message_attributes:
            why = " (a body that is not text takes one for its base64 marker)" if count > len(attrs) else ""
            raise InvalidRequest(f"{kind} {name!r}: {count} message attributes{why} are over the limit of "
                                 f"{c.message_attributes} on {c.name}, portside's own (ce-type, ce-source, "
                                 f"traceparent, correlationid) included: {sorted(attrs)}")
        size = (4 * math.ceil(len(body) / 3) if base64 else len(body)) + \
            sum(len(k.encode()) + len(v.encode()) for k, v in attrs.items())
        limit = c.queue_message_bytes if kind == "queue" else c.topic_message_bytes
        if size > limit:
            raise PayloadTooLarge(f"{kind} {name!r}: a message of {size} bytes (body and attributes"
                                  f"{', base64' if base64 else ''}) is over the {limit}-byte limit on "
                                  f"{c.name}; store the payload in a bucket and send its key instead")
    return attrs


class CheckedQueue(_Checked):
    """A ``QueuePort`` held to the contract."""

    __slots__ = ("delays",)

    def __init__(self, resource: Queue, raw: Any) -> None:
        super().__init__(resource, raw)
        self.delays = any(c.delays for c in self.clouds) or not self.clouds

    def send(self, body: bytes, attributes: dict[str, str], delay: int = 0, ordering_key: str | None = None) -> str:
        q = self.resource
        attrs = check_message("queue", q.name, body, attributes, self.clouds)
        if type(delay) is not int or not 0 <= delay <= MAX_DELAY:
            raise InvalidRequest(f"queue {q.name!r}: delay must be whole seconds from 0 to {MAX_DELAY} "
                                 f"(SQS's range), got {delay!r}")
        if q.fifo:
            if ordering_key is None:
                ordering_key = DEFAULT_GROUP
            if delay and any(c.delays and not c.fifo_delay for c in self.clouds):
                raise InvalidRequest(f"queue {q.name!r} is FIFO: SQS takes no per-message delay on FIFO queues "
                                     f"(it would break the order); send with delay=0")
        elif ordering_key is not None:
            raise InvalidRequest(f"queue {q.name!r}: ordering_key needs a FIFO queue (app.queue({q.name!r}, "
                                 "fifo=True)); a standard queue delivers in no particular order on every cloud")
        check_group(q.name, ordering_key, self.clouds)
        if delay:
            ignored = [c.name for c in self.clouds if not c.delays]
            if ignored:
                import logging  # here: a cold start that sends no delayed message never loads logging

                logging.getLogger("portside").warning("queue %r: delay=%ss: %s has no per-message delivery delay, so there the message "
                            "is delivered at once", q.name, delay, " and ".join(ignored),
                            extra={"queue": q.name, "delay": delay})
            if not self.delays:
                delay = 0  # no targeted cloud delays: deliver at once, as they would
        return self.raw.send(bytes(body), attrs, delay, ordering_key)


def check_group(queue: str, ordering_key: str | None, clouds: tuple[Cloud, ...]) -> None:
    """SQS MessageGroupId: "The length of MessageGroupId is 128 characters. Valid values: alphanumeric
    characters and punctuation" (docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html)."""
    if ordering_key is None:
        return
    if not isinstance(ordering_key, str) or not ordering_key:
        raise InvalidRequest(f"queue {queue!r}: ordering_key must be a non-empty str, got {ordering_key!r}")
    if any(c.name == "aws" for c in clouds) and (len(ordering_key) > 128 or not ordering_key.isascii()
                                                 or not all(33 <= ord(ch) <= 126 for ch in ordering_key)):
        raise InvalidRequest(f"queue {queue!r}: ordering_key {ordering_key[:40]!r} is refused on aws: an SQS "
                             "message group id is 1-128 ASCII letters, digits or punctuation, without spaces")


class CheckedTopic(_Checked):
    """A ``TopicPort`` held to the contract."""

    __slots__ = ()

    def publish(self, body: bytes, attributes: dict[str, str], ordering_key: str | None = None) -> str:
        t = self.resource
        attrs = check_message("topic", t.name, body, attributes, self.clouds)
        if ordering_key is not None:
            raise InvalidRequest(f"topic {t.name!r}: topics fan out in no particular order (SNS standard "
                                 "topics have no message groups); to keep order, send to a FIFO queue with "
                                 "an ordering_key")
        return self.raw.publish(bytes(body), attrs, None)


# -- tables -------------------------------------------------------------------------------------

class CheckedTable(_Checked):
    """A ``TablePort`` held to the contract. A port that stores items as JSON text says so with
    ``takes_item_text = True``: its ``put`` and ``put_if_absent`` then also get the text the size
    check encoded (``check_item``), so an item is encoded once."""

    __slots__ = ("fields", "_limits", "_text")

    def __init__(self, resource: Table, raw: Any) -> None:
        super().__init__(resource, raw)
        self.fields = (resource.key,) if resource.sort_key is None else (resource.key, resource.sort_key)
        self._limits = {field: strictest(self.clouds, "partition_key_bytes" if field == resource.key else "sort_key_bytes")
                        for field in self.fields}  # per key field: every write asks
        self._text = getattr(raw, "takes_item_text", False) is True

    def _value(self, field: str, value: object) -> str:
        t = self.resource
        if not isinstance(value, str) or not value:
            raise InvalidRequest(f"table {t.name!r}: key field {field!r} must be a non-empty str, got {value!r} "
                                 "(table keys are strings on every target: DynamoDB keys as provisioned, and "
                                 "one type sorts one way)")
        size = len(_utf8(value, f"table {t.name!r} key field {field!r}"))
        limit = self._limits[field]
        if limit and size > limit[0]:
            raise InvalidRequest(f"table {t.name!r}: key field {field!r} of {size} bytes is over the "
                                 f"{limit[0]}-byte limit on {limit[1].name}")
        return value

    def _key(self, key: object) -> dict[str, str]:
        t = self.resource
        if key.__class__ is not dict and not isinstance(key, Mapping):
            raise InvalidRequest(f"table {t.name!r}: a key reaches the port as a dict of {list(self.fields)}, "
                                 f"got {key!r}")
        missing = [f for f in self.fields if f not in key]
        if missing:
            raise InvalidRequest(f"table {t.name!r} needs key fields {list(self.fields)}, missing {missing}")
        return {f: self._value(f, key[f]) for f in self.fields}

    def _item(self, item: object) -> tuple[dict[str, Any], str]:
        """The item to store (a copy) and its JSON text, if every targeted cloud takes it."""
        t = self.resource
        if item.__class__ is not dict and not isinstance(item, Mapping):
            raise InvalidRequest(f"table {t.name!r}: an item must be a dict, got {type(item).__name__}")
        self._key(item)
        text = check_item(t.name, item, self.clouds)
        return dict(item), text

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        return self.raw.get(self._key(key))

    def put(self, item: dict[str, Any]) -> None:
        item, text = self._item(item)
        if self._text:
            self.raw.put(item, text)
        else:
            self.raw.put(item)

    def put_if_absent(self, item: dict[str, Any]) -> bool:
        item, text = self._item(item)
        return bool(self.raw.put_if_absent(item, text) if self._text else self.raw.put_if_absent(item))

    def update(self, key: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        k = self._key(key)
        if not isinstance(changes, Mapping):
            raise InvalidRequest(f"table {self.resource.name!r}: changes must be a dict, got {changes!r}")
        fields = {f: v for f, v in changes.items() if f not in k}  # a key never changes (DynamoDB refuses it)
        check_item(self.resource.name, fields, self.clouds)
        return self.raw.update(k, fields)

    def delete(self, key: dict[str, Any]) -> None:
        self.raw.delete(self._key(key))

    def query(self, partition: Any, limit: int | None = None) -> list[dict[str, Any]]:
        self._value(self.resource.key, partition)
        if limit is not None and (type(limit) is not int or limit < 1):
            raise InvalidRequest(f"table {self.resource.name!r}: query limit must be an int >= 1 or None, "
                                 f"got {limit!r}")
        return self.raw.query(partition, limit)


_ITEM_ENCODERS = {ascii: json.JSONEncoder(allow_nan=False, separators=(",", ":"), ensure_ascii=ascii).encode
                  for ascii in (True, False)}  # made once: json.dumps with options makes an encoder a call


def item_json(item: Mapping[str, Any], table: str, ascii: bool = True) -> str:
    """A table item as compact JSON text, refusing what no cloud's table stores (sets, bytes,
    NaN, objects) with an error naming the table: every target stores items through here."""
    try:
        return _ITEM_ENCODERS[ascii](item)
    except (TypeError, ValueError) as e:
        raise InvalidRequest(f"table {table!r} items must hold only JSON types (str, number, bool, None, "
                             f"list, dict): {e}") from None


def check_item(table: str, item: Mapping[str, Any], clouds: tuple[Cloud, ...]) -> str:
    """Refuse what a targeted cloud's table would not store: non-JSON values, names it reserves,
    integers it cannot hold, items over its size (measured as the JSON text, a close proxy).
    Returns that text (UTF-8 as is, not ``\\u`` escaped)."""
    text = item_json(item, table, ascii=False)
    _walk(table, item, clouds)
    size = len(_utf8(text, f"table {table!r} item"))
    for c in clouds:
        if size > c.item_bytes:
            raise PayloadTooLarge(f"table {table!r}: an item of {size} bytes (as JSON) is over the "
                                  f"{c.item_bytes}-byte item limit on {c.name}; store the data in a bucket "
                                  "and keep its key in the item")
    return text


def _walk(table: str, item: Mapping[str, Any], clouds: tuple[Cloud, ...]) -> None:
    """Field names (non-empty text, none a targeted cloud reserves) and integers (within every targeted
    cloud's range) at any depth of an item the JSON encoder took, naming the path of the first wrong one."""
    reserving = max_int = None  # the first cloud reserving names (as the error names it), the smallest range
    for c in clouds:
        if reserving is None and c.reserved_field is not None:
            reserving = c
        if max_int is None or c.max_int < max_int:
            max_int = c.max_int
    _walk_value(table, item, clouds, reserving, max_int, "")


_LEAVES = frozenset({str, float, bool, type(None)})  # JSON values with nothing to check


def _walk_value(table: str, value: Any, clouds: tuple[Cloud, ...], reserving: Cloud | None, max_int: int | None,
                path: str) -> None:
    if value.__class__ is dict or (value.__class__ not in _LEAVES and isinstance(value, Mapping)):
        for k, v in value.items():
            if not isinstance(k, str) or not k:
                raise InvalidRequest(f"table {table!r}: field names must be non-empty str, got {k!r} at {path or 'top'}")
            if reserving is not None and len(k) >= 4 and k[:2] == "__" and k[-2:] == "__" and reserved(reserving, k):
                where = f"{path}.{k}" if path else k
                raise InvalidRequest(f"table {table!r}: field name {where!r} is reserved on {reserving.name} "
                                     "(names matching __.*__)")
            if v.__class__ not in _LEAVES and (v.__class__ is not int or (max_int is not None and abs(v) > max_int)):
                _walk_value(table, v, clouds, reserving, max_int, f"{path}.{k}" if path else k)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            if v.__class__ not in _LEAVES:
                _walk_value(table, v, clouds, reserving, max_int, f"{path}[{i}]")
    elif isinstance(value, int) and not isinstance(value, bool) and max_int is not None and abs(value) > max_int:
        c = next(c for c in clouds if abs(value) > c.max_int)
        raise InvalidRequest(f"table {table!r}: the integer at {path!r} is too large for {c.name} "
                             f"(at most {c.max_int})")


_WRAPPERS: tuple[tuple[type, type], ...] = (
    (Bucket, CheckedBucket), (Queue, CheckedQueue), (Topic, CheckedTopic), (Table, CheckedTable))
