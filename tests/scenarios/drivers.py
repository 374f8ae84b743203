"""The one interface the scenario suite talks to, and one implementation per target.

A scenario acts like a user or an outside system (upload a file, call the API, publish an
event) and then waits for an observable effect (an object, a table row, a dead letter).
It never reaches inside a target, so the same scenario proves the same behaviour on the
fake cloud, the local runtime (drivers_local.py), AWS through moto (drivers_aws.py) and the
GCP emulators (drivers_gcp.py); README.md ("One scenario suite, every target") shows the matrix.

Adding a target = one class here that implements ``Driver`` and is decorated ``@register``:
- ``unavailable()`` says why it cannot run on this machine (the scenarios are then skipped
  with that reason), or None;
- ``__init__`` starts the target once per test session (servers bind 127.0.0.1 on a free
  port); ``reset()`` empties its state before each scenario; ``close()`` stops it;
- event-driven targets are asynchronous: subclass ``PollingDriver`` and only implement the
  actions and reads; it provides ``wait_until``/``settle`` by polling.
"""

from __future__ import annotations

import json as jsonlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from portside import Event

T = TypeVar("T")


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, whatever served it."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return jsonlib.loads(self.body)


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered event as any target can report it (docs/architecture.md, "Delivery")."""

    function: str
    error_type: str
    error: str
    attempts: int
    event_id: str


@runtime_checkable
class Driver(Protocol):
    """What a scenario may do to a target, and what it may observe."""

    name: ClassVar[str]

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this target cannot run here (a missing tool or package), or None."""

    def reset(self) -> None:
        """Forget all state: empty buckets, tables, queues and dead letters."""

    def close(self) -> None:
        """Stop whatever ``__init__`` started."""

    # -- acting --
    def upload(self, bucket: str, key: str, data: bytes, content_type: str | None = None) -> None: ...

    def http(self, method: str, path: str, *, json: Any = None, body: bytes = b"",
             headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None) -> Reply: ...

    def publish(self, topic: str, event: Event, attributes: Mapping[str, str] | None = None) -> None: ...

    def send(self, queue: str, body: bytes | Mapping[str, Any], attributes: Mapping[str, str] | None = None) -> None:
        """Put a message on a queue as an outside producer would (a dict travels as JSON)."""

    # -- waiting --
    def wait_until(self, predicate: Callable[[], T], *, timeout: float = 30.0, what: str = "") -> T:
        """Return ``predicate()`` once it is truthy; AssertionError naming ``what`` after ``timeout``."""

    def settle(self, *, timeout: float = 30.0) -> None:
        """Let in-flight work finish (before asserting that something did *not* happen)."""

    # -- observing --
    def objects(self, bucket: str) -> dict[str, bytes]: ...

    def items(self, table: str) -> list[dict[str, Any]]: ...

    def dead_letters(self) -> list[DeadLetter]: ...


DRIVERS: list[type] = []


def register(cls: type) -> type:
    """Add a driver class to the suite's parametrization."""
    DRIVERS.append(cls)
    return cls


class PollingDriver:
    """``wait_until`` and ``settle`` for targets that run asynchronously (local, AWS, GCP)."""

    poll_first, poll_max = 0.05, 1.0  # seconds; the interval doubles up to poll_max
    quiet = 2.0  # settle: how long nothing may change before we call it settled

    def wait_until(self, predicate: Callable[[], T], *, timeout: float = 30.0, what: str = "") -> T:
        deadline, interval = time.monotonic() + timeout, self.poll_first
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what or 'condition'} not true after {timeout:.0f}s on {self.name}")  # type: ignore[attr-defined]
            time.sleep(interval)
            interval = min(self.poll_max, interval * 2)

    def snapshot(self) -> Any:
        """Something that changes while work is in flight (override for a cheaper probe)."""
        return None

    def settle(self, *, timeout: float = 30.0) -> None:
        deadline, last, since = time.monotonic() + timeout, self.snapshot(), time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - since < self.quiet:
            time.sleep(self.poll_first)
            now = self.snapshot()
            if now != last:
                last, since = now, time.monotonic()


class EventSource:
    """What a cloud's event delivery does for a driver over emulators: threads that fetch work
    (receive from SQS, pull from Pub/Sub) and deliver it to a function. Idle loops back off to
    0.5 s and wake at once on ``kick()`` (any write or invocation), so the suite is fast without
    hammering the emulators; ``busy`` and ``activity`` let a driver's ``snapshot`` see work in
    flight. Failures on the driver's side go to ``on_error`` (the driver's ``errors``, which
    fail the scenario)."""

    def __init__(self, on_error: Callable[[str], None]) -> None:
        self.on_error = on_error
        self.activity = self.busy = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def kick(self) -> None:
        with self._cond:
            self.activity += 1
            self._cond.notify_all()

    @contextmanager
    def working(self) -> Iterator[None]:
        """Count a delivery as in flight while it runs; others look again when it ends."""
        with self._cond:
            self.busy += 1
        try:
            yield
        finally:
            with self._cond:
                self.busy -= 1
            self.kick()

    def spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=name)
        self._threads.append(thread)
        thread.start()

    def poll(self, name: str, fetch: Callable[[], list[Any]], deliver: Callable[[list[Any]], None]) -> None:
        """Start a loop: ``fetch()`` a batch, ``deliver(batch)`` it, until ``stop()``."""
        self.spawn(f"poll-{name}", self._loop, name, fetch, deliver, self._stop)

    def stop(self) -> None:
        """Stop every loop and wait for deliveries in flight; ``poll`` may start new ones after."""
        self._stop.set()
        self.kick()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads, self._stop = [], threading.Event()

    def _loop(self, name: str, fetch: Callable[[], list[Any]], deliver: Callable[[list[Any]], None],
              stop: threading.Event) -> None:
        interval = 0.02
        while not stop.is_set():
            with self._cond:
                seen = self.activity
            try:
                got = fetch()
            except Exception as e:  # noqa: BLE001 - the emulator going away at close, or a driver bug
                if not stop.is_set():
                    self.on_error(f"{name}: fetching failed: {type(e).__name__}: {e}")
                got = []
            if got:
                interval = 0.02
                try:
                    with self.working():
                        deliver(got)
                except Exception as e:  # noqa: BLE001 - keep polling; the scenario fails on errors
                    if not stop.is_set():
                        self.on_error(f"{name}: delivering failed: {type(e).__name__}: {e}")
                continue
            with self._cond:
                self._cond.wait_for(lambda: self.activity != seen or stop.is_set(), timeout=interval)
            interval = min(0.5, interval * 2)


@register
class FakeDriver:
    """The in-memory FakeCloud: synchronous, so waiting is running until idle."""

    name = "fake"

    def __init__(self, app: str = "handlers.app:app") -> None:
        from portside.fake import FakeCloud

        self._make = lambda: FakeCloud(app)
        self.reset()

    @classmethod
    def unavailable(cls) -> str | None:
        return None

    def reset(self) -> None:
        self.cloud = self._make()

    def close(self) -> None:
        pass

    def upload(self, bucket: str, key: str, data: bytes, content_type: str | None = None) -> None:
        self.cloud.upload(bucket, key, data, content_type)

    def http(self, method: str, path: str, *, json: Any = None, body: bytes = b"",
             headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None) -> Reply:
        r = self.cloud.http(method, path, json=json, body=body, headers=dict(headers or {}), query=dict(query or {}))
        return Reply(r.status, r.body, dict(r.headers))

    def publish(self, topic: str, event: Event, attributes: Mapping[str, str] | None = None) -> None:
        self.cloud.publish(topic, event, dict(attributes or {}))

    def send(self, queue: str, body: bytes | Mapping[str, Any], attributes: Mapping[str, str] | None = None) -> None:
        self.cloud.send(queue, body, dict(attributes or {}))

    def wait_until(self, predicate: Callable[[], T], *, timeout: float = 30.0, what: str = "") -> T:
        self.cloud.run_until_idle()
        value = predicate()
        if not value:
            raise AssertionError(f"{what or 'condition'} not true once the fake cloud was idle")
        return value

    def settle(self, *, timeout: float = 30.0) -> None:
        self.cloud.run_until_idle()

    def objects(self, bucket: str) -> dict[str, bytes]:
        return self.cloud.objects(bucket)

    def items(self, table: str) -> list[dict[str, Any]]:
        return self.cloud.items(table)

    def dead_letters(self) -> list[DeadLetter]:
        return [DeadLetter(d.function, d.error_type, d.error, d.attempts, d.event.id) for d in self.cloud.dead_letters()]


@register
class ChaosFakeDriver(FakeDriver):
    """The fake cloud misbehaving as real ones may: every delivery duplicated, due events reordered.

    The scenarios must hold here too: at-least-once delivery is the contract on every target.
    """

    name = "fake-chaos"

    def reset(self) -> None:
        super().reset()
        self.cloud.inject(duplicates=1, reorder=True)


# Targets with heavier machinery live in their own modules; importing them registers them
# (after the fake ones, so the matrix reads fake, fake-chaos, local, aws, gcp).
from tests.scenarios import drivers_local  # noqa: E402,F401,I001
from tests.scenarios import drivers_aws  # noqa: E402,F401
from tests.scenarios import drivers_gcp  # noqa: E402,F401
