"""The test client: one interface the fake cloud and the local runtime implement (docs/guides/testing.md).

    cloud = FakeCloud(app)                       # or: with LocalCloud(app, tmp_path) as cloud:
    cloud.upload(uploads, "cat.png", png)        # the app's handles, or their names
    cloud.run_until_idle()
    assert "thumbs/cat.png" in cloud.objects(thumbnails)
    assert cloud.dead_letters(make_thumbnail) == []   # the Function app.function(...) returned

A test acts as a user or an outside system would (upload, send, publish, call HTTP, fire a
schedule), runs the target until nothing is pending, misbehaves on purpose (duplicates,
reordering, failures) and asserts on what the app left behind. Acting goes through the target's
ports, so it meets the contract a handler meets (``portside.contract``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from portside.declarations import Bucket, Function, Queue, Resource, Schedule, Table, Topic
from portside.delivery import DeadLetter, Outcome
from portside.errors import DeclarationError
from portside.events import AnyEvent, Event, HttpResponse, Message
from portside.handles import encode_body, event_attributes
from portside.ports import BucketPort, PortCache, TablePort

R = TypeVar("R", bound=Resource)
FunctionRef = Function | str


class TestClient(PortCache):
    """What a test may do to a target and observe of it. Resources and functions are named by
    the app's handles (``uploads``, the ``Function`` from ``app.function``) or by their names."""

    __test__ = False  # not a pytest test class
    app: Any  # the portside.App

    # -- naming --
    def resource(self, ref: Resource | str, kind: type[R] = Resource) -> R:  # type: ignore[assignment]
        """The app's resource named by ``ref`` (a handle or a name), of ``kind``."""
        name = ref if isinstance(ref, str) else getattr(ref, "name", None)
        if not isinstance(name, str):
            raise DeclarationError(f"name a resource by its handle or its name, got {ref!r}")
        found = self.app.resource(name)
        if not isinstance(found, kind):
            raise DeclarationError(f"{name!r} is a {found.kind}, not a {kind.kind}")
        return found  # type: ignore[return-value]

    def function(self, ref: FunctionRef) -> Function:
        """The app's function named by ``ref`` (what ``app.function(...)`` returned, or its name)."""
        return self.app.get_function(ref if isinstance(ref, str) else getattr(ref, "name", ref))

    def bucket(self, ref: Bucket | str) -> BucketPort:
        """The bucket's port, as a handler would reach it (writes fire triggers)."""
        return self.port(self.resource(ref, Bucket))

    def table(self, ref: Table | str) -> TablePort:
        """The table's port, e.g. to seed items before acting."""
        return self.port(self.resource(ref, Table))

    # -- acting --
    def upload(self, bucket: Bucket | str, key: str, data: bytes | str, content_type: str | None = None) -> None:
        """Write an object as a user would; fires the bucket's object-created triggers."""
        self.bucket(bucket).put(key, data.encode() if isinstance(data, str) else data, content_type, {})

    def send(self, queue: Queue | str, body: Any, attributes: Mapping[str, str] | None = None, *, delay: int = 0,
             ordering_key: str | None = None) -> str:
        """Send to a queue as an outside producer would: bytes, str, a dict/list (JSON) or an Event;
        returns the message id."""
        port = self.port(self.resource(queue, Queue))
        return port.send(encode_body(body), event_attributes(body, attributes), delay, ordering_key)

    def publish(self, topic: Topic | str, message: Any, attributes: Mapping[str, str] | None = None) -> str:
        """Publish to a topic: bytes, str, a dict/list (JSON) or an Event; returns the message id."""
        port = self.port(self.resource(topic, Topic))
        return port.publish(encode_body(message), event_attributes(message, attributes), None)

    def tick(self, schedule: Schedule | str) -> int:
        """Fire a schedule now; returns how many functions it reaches."""
        raise NotImplementedError

    def emit(self, function: FunctionRef, event: AnyEvent) -> None:
        """Deliver any normalized event (e.g. a ``RecordChanged``) to a function, by its trigger's rules."""
        raise NotImplementedError

    def http(self, method: str, path: str, *, body: bytes | str = b"", json: Any = None,
             headers: Mapping[str, str] | None = None, query: Mapping[str, Any] | None = None,
             cookies: Mapping[str, str] | None = None) -> HttpResponse:
        """Call the app's HTTP routes as a client would (404 and 405 included)."""
        raise NotImplementedError

    def run_until_idle(self) -> list[Outcome]:
        """Deliver everything pending, retries included; the outcomes of the invocations it ran."""
        raise NotImplementedError

    # -- misbehaving on purpose --
    def inject(self, *, duplicates: int = 0, reorder: bool = False) -> None:
        """From now on, deliver every new event ``duplicates`` extra times, and due events in random
        order (FIFO queues keep their order within a group, as they do on every cloud)."""
        raise NotImplementedError

    def fail_next(self, function: FunctionRef, times: int = 1, error: BaseException | None = None) -> None:
        """Make the next ``times`` invocations of ``function`` fail before its handler runs."""
        raise NotImplementedError

    # -- observing --
    def objects(self, bucket: Bucket | str) -> dict[str, bytes]:
        """Every object in ``bucket``: key -> bytes, in key order."""
        port = self.bucket(bucket)
        return {k: port.get(k) for k in port.list("")}

    def items(self, table: Table | str) -> list[dict[str, Any]]:
        """Every item in ``table``, as plain dicts."""
        raise NotImplementedError

    def published(self, topic: Topic | str) -> list[Message]:
        """Everything published to ``topic`` through this client and the app's handlers, in order."""
        raise NotImplementedError

    def events_published(self, topic: Topic | str) -> list[Event]:
        """The CloudEvents published to ``topic``."""
        return [m.event() for m in self.published(topic)]

    def sent(self, queue: Queue | str) -> list[Message]:
        """Everything sent to ``queue`` through this client and the app's handlers, in order."""
        raise NotImplementedError

    def dead_letters(self, function: FunctionRef | None = None) -> list[DeadLetter]:
        """Dead-lettered events (intact, with the error), of one function or all."""
        raise NotImplementedError

    def invocations(self, function: FunctionRef) -> list[Outcome]:
        """Every invocation of ``function`` so far, in order, retries included."""
        raise NotImplementedError
