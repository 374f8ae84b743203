"""Resource handles: what a handler calls at run time, checked against what its function declared.

``App.bucket("thumbnails")`` returns a :class:`Bucket` handle, which is also the declaration
(a subclass of ``portside.declarations.Bucket``). ``thumbnails.put(key, data)`` checks that the
running function declared ``thumbnails.writer`` and forwards to the port of whichever target runs
it (fake, local, AWS, GCP): the one way a handler touches the outside world.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence

from portside import declarations as d
from portside.events import Event
from portside.runtime import port_for
from portside.telemetry import outgoing_attributes, stamp_event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

Body = bytes | str | Mapping[str, object] | Sequence[object] | Event


def encode_body(body: Body) -> bytes:
    """Message bodies are bytes: str is UTF-8, dict/list are JSON, an Event is a CloudEvent.
    (Sizes are the port contract's to check, per cloud: ``portside.contract``.)"""
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


class Bucket(d.Bucket):
    """Object storage: S3, Cloud Storage, a directory, or memory."""

    def get(self, key: str) -> bytes:
        """The object's bytes; ``NotFound`` if there is none."""
        return port_for(self, "read").get(key)

    def exists(self, key: str) -> bool:
        return port_for(self, "read").exists(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix``, in lexicographic order."""
        return port_for(self, "read").list(prefix)

    def signed_url(self, key: str, expires: int = 3600) -> str:
        return port_for(self, "read").signed_url(key, expires)

    def put(self, key: str, data: bytes | str | BinaryIO, content_type: str | None = None,
            metadata: Mapping[str, str] | None = None) -> None:
        if isinstance(data, str):
            data = data.encode()
            content_type = content_type or "text/plain; charset=utf-8"
        port_for(self, "write").put(key, data, content_type, dict(metadata or {}))

    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error (as on S3 and GCS)."""
        port_for(self, "write").delete(key)


class Queue(d.Queue):
    """A work queue with one consumer: SQS, Pub/Sub topic + push subscription, SQLite, memory."""

    def send(self, body: Body, attributes: Mapping[str, str] | None = None, delay: int = 0,
             ordering_key: str | None = None) -> str:
        """Enqueue ``body`` (bytes, str, dict/list as JSON, or an Event); returns the message id.
        ``delay`` (0-900 s) and ``ordering_key`` (FIFO queues) as the port contract allows."""
        data, attrs = encode_body(body), outgoing_attributes(event_attributes(body, attributes))
        return port_for(self, "send").send(data, attrs, delay, ordering_key)

    def send_batch(self, bodies: Iterable[Body]) -> list[str]:
        return [self.send(b) for b in bodies]


class Topic(d.Topic):
    """Fan-out: SNS (+ an SQS queue per subscriber), Pub/Sub, SQLite, memory."""

    def publish(self, message: Body, attributes: Mapping[str, str] | None = None,
                ordering_key: str | None = None) -> str:
        """Publish; an ``Event`` travels as a structured CloudEvent with trace context."""
        if isinstance(message, Event):
            message = stamp_event(message)
        data, attrs = encode_body(message), outgoing_attributes(event_attributes(message, attributes))
        return port_for(self, "publish").publish(data, attrs, ordering_key)


class Table(d.Table):
    """Key-value items with a partition key and optional sort key: DynamoDB, Firestore, SQLite."""

    def get(self, key: Any) -> dict[str, Any] | None:
        return port_for(self, "read").get(self.key_of(key))

    def query(self, partition: Any, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Items whose partition key is ``partition``, in sort key order."""
        return port_for(self, "read").query(partition, limit)

    def put(self, item: Mapping[str, Any]) -> None:
        self.key_of(item)
        port_for(self, "write").put(dict(item))

    def put_if_absent(self, item: Mapping[str, Any]) -> bool:
        """Create the item unless one with its key exists; True if it was created."""
        self.key_of(item)
        return port_for(self, "write").put_if_absent(dict(item))

    def update(self, key: Any, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Set fields on an existing item and return the item after the change."""
        return port_for(self, "write").update(self.key_of(key), dict(changes))

    def delete(self, key: Any) -> None:
        port_for(self, "write").delete(self.key_of(key))
