"""FakeCloud: the app's declarations run in memory, on a virtual clock, deterministically.

It behaves like the real clouds where handlers can tell the difference: writes fire
object triggers, topics fan out to every matching subscription, queues deliver in
batches with retries, backoff and dead letters (by ``portside.delivery``, the same
rules every target uses), and permissions are enforced. It can also misbehave on
purpose: duplicate deliveries, reorder them, or fail a function's next invocations.
"""

from __future__ import annotations

import heapq
import itertools
import json as jsonlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from portside.app import App, load_app
from portside.declarations import (
    Bucket,
    Function,
    ObjectCreatedTrigger,
    ObjectDeletedTrigger,
    Queue,
    QueueTrigger,
    Resource,
    Schedule,
    Table,
    Topic,
    TopicTrigger,
)
from portside.delivery import Action, DeadLetter, Outcome, decide, http_response, invoke
from portside.events import (
    AnyEvent,
    Event,
    HttpRequest,
    HttpResponse,
    Message,
    ObjectCreated,
    ObjectDeleted,
    Tick,
)
from portside.fake.ports import FakeBucket, FakeQueue, FakeTable, FakeTopic, StoredObject
from portside.handles import encode_body, event_attributes
from portside.ports import PortCache
from portside.record import replace
from portside.routing import Router

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass(order=True)
class _Pending:
    due: float
    seq: int
    function: Function = field(compare=False)
    event: AnyEvent = field(compare=False)
    attempt: int = field(compare=False)


class FakeCloud(PortCache):
    """An in-memory target built from an ``App`` (or an ``"module:app"`` path)."""

    name = "fake"
    port_types = {Bucket: FakeBucket, Queue: FakeQueue, Topic: FakeTopic, Table: FakeTable}

    def __init__(self, app: App | str | None = None, *, seed: int = 0) -> None:
        super().__init__()
        self.app = app if isinstance(app, App) else load_app(app)
        self.clock = 0.0  # virtual seconds since EPOCH; retries advance it, nothing sleeps
        self.history: list[tuple[str, Outcome]] = []
        self.dead: list[DeadLetter] = []
        self.dropped: list[tuple[str, Outcome]] = []
        self._pending: list[_Pending] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._rng = random.Random(seed)
        self._published: dict[str, list[Message]] = defaultdict(list)
        self._sent: dict[str, list[Message]] = defaultdict(list)
        self._duplicates = 0
        self._reorder = False
        self._failures: dict[str, list[BaseException]] = defaultdict(list)
        self._router = Router(self.app.functions.values())

    # -- the Target protocol (port() comes from PortCache) --
    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.clock)

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):06d}"

    # -- acting on the cloud from a test --
    def bucket(self, name: str) -> FakeBucket:
        return self.port(self._typed(name, Bucket))

    def table(self, name: str) -> FakeTable:
        return self.port(self._typed(name, Table))

    def upload(self, bucket: str, key: str, data: bytes | str, content_type: str | None = None) -> None:
        """Write an object as a user would; fires the bucket's object-created triggers."""
        self.bucket(bucket).put(key, data.encode() if isinstance(data, str) else data, content_type, {})

    def send(self, queue: str, body: Any, attributes: dict[str, str] | None = None, delay: int = 0,
             ordering_key: str | None = None) -> str:
        """Send to a queue: bytes, str, a dict/list (JSON) or an Event."""
        return self._enqueue(self._typed(queue, Queue), encode_body(body),
                             event_attributes(body, attributes), delay, ordering_key)

    def publish(self, topic: str, message: Any, attributes: dict[str, str] | None = None,
                ordering_key: str | None = None) -> str:
        """Publish to a topic: bytes, str, a dict/list (JSON) or an Event."""
        return self._fan_out(self._typed(topic, Topic), encode_body(message),
                             event_attributes(message, attributes), ordering_key)

    def tick(self, schedule: str) -> None:
        """Fire a schedule now (schedules never fire by themselves here)."""
        resource = self._typed(schedule, Schedule)
        for fn in self.app.consumers(resource):
            self._schedule(fn, Tick(self._id("tick"), resource.name, self.now()), 1, 0)

    def emit(self, function: str, event: AnyEvent) -> None:
        """Deliver any normalized event (e.g. a ``RecordChanged``) to a function's trigger."""
        self._schedule(self.app.get_function(function), event, 1, 0)

    def http(self, method: str, path: str, *, body: bytes | str = b"", json: Any = None,
             headers: dict[str, str] | None = None, query: dict[str, Any] | None = None,
             cookies: dict[str, str] | None = None) -> HttpResponse:
        """Call the app's HTTP routes synchronously, as API Gateway or Cloud Functions would."""
        hdrs = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json).encode()
            hdrs.setdefault("content-type", "application/json")
        route = self._router.match(method, path)
        if isinstance(route, HttpResponse):
            return route
        request = HttpRequest(self._id("req"), method, path, hdrs, dict(query or {}), body, route.params,
                              dict(cookies or {}), "127.0.0.1", route.name, self.now())
        outcome = invoke(route.function, self, request)
        self.history.append((route.function.name, outcome))
        return http_response(outcome)

    # -- misbehaving on purpose --
    def inject(self, *, duplicates: int = 0, reorder: bool = False) -> None:
        """Deliver every new event ``duplicates`` extra times; deliver due events in random order."""
        self._duplicates, self._reorder = duplicates, reorder

    def fail_next(self, function: str, times: int = 1, error: BaseException | None = None) -> None:
        """Make the next ``times`` invocations of ``function`` fail before the handler runs."""
        self.app.get_function(function)
        self._failures[function].extend([error or RuntimeError(f"injected failure in {function}")] * times)

    # -- running --
    def run_until_idle(self, max_deliveries: int = 10_000) -> list[Outcome]:
        """Deliver everything pending, retries included, advancing the virtual clock."""
        outcomes: list[Outcome] = []
        while self._pending:
            first = self._next()
            self.clock = max(self.clock, first.due)
            batch = [first]
            trigger = first.function.trigger
            if isinstance(trigger, QueueTrigger) and trigger.batch_size > 1:
                batch += self._take_due(first.function, trigger.batch_size - 1)
            outcomes += self._deliver(first.function, batch)
            if len(outcomes) > max_deliveries:
                raise RuntimeError(f"not idle after {max_deliveries} deliveries: do handlers trigger each other "
                                   "in a loop?")
        return outcomes

    def _next(self) -> _Pending:
        if self._reorder:
            horizon = self._pending[0].due
            due = [p for p in self._pending if p.due <= horizon]
            pick = self._rng.choice(due)
            self._pending.remove(pick)
            heapq.heapify(self._pending)
            return pick
        return heapq.heappop(self._pending)

    def _take_due(self, function: Function, n: int) -> list[_Pending]:
        taken = [p for p in sorted(self._pending) if p.function is function and p.due <= self.clock][:n]
        for p in taken:
            self._pending.remove(p)
        heapq.heapify(self._pending)
        return taken

    def _deliver(self, function: Function, batch: list[_Pending]) -> list[Outcome]:
        outcomes = []
        for item in batch:
            event = item.event
            if isinstance(event, Message) and event.attempt != item.attempt:
                event = replace(event, attempt=item.attempt)
            injected = self._failures.get(function.name)
            if injected:
                outcome = Outcome(event, item.attempt, None, injected.pop(0))
            else:
                outcome = invoke(function, self, event, item.attempt)
            self.history.append((function.name, outcome))
            outcomes.append(outcome)
            decision = decide(function, outcome)
            if decision.action is Action.RETRY:
                self._schedule(function, item.event, item.attempt + 1, decision.delay, copies=False)
            elif decision.action is Action.DEAD_LETTER:
                self.dead.append(DeadLetter.of(function, outcome))
            elif decision.action is Action.DROP:
                self.dropped.append((function.name, outcome))
        return outcomes

    def _schedule(self, function: Function, event: AnyEvent, attempt: int, delay: float,
                  copies: bool = True) -> None:
        for _ in range(1 + (self._duplicates if copies else 0)):
            heapq.heappush(self._pending, _Pending(self.clock + delay, next(self._seq), function, event, attempt))

    # -- what the ports call --
    def _object_changed(self, bucket: Bucket, key: str, stored: StoredObject | None) -> None:
        for fn in self.app.consumers(bucket):
            t = fn.trigger
            if stored is not None and isinstance(t, ObjectCreatedTrigger) and t.matches(key):
                event: AnyEvent = ObjectCreated(self._id("obj"), bucket.name, key, self.now(), len(stored.data),
                                                stored.etag, stored.content_type)
            elif stored is None and isinstance(t, ObjectDeletedTrigger) and t.matches(key):
                event = ObjectDeleted(self._id("obj"), bucket.name, key, self.now())
            else:
                continue
            self._schedule(fn, event, 1, 0)

    def _enqueue(self, queue: Queue, body: bytes, attributes: dict[str, str], delay: int,
                 ordering_key: str | None) -> str:
        message = Message(self._id("msg"), body, queue.name, attributes, 1, ordering_key, self.now())
        self._sent[queue.name].append(message)
        for fn in self.app.consumers(queue):
            self._schedule(fn, message, 1, delay)
        return message.id

    def _fan_out(self, topic: Topic, body: bytes, attributes: dict[str, str], ordering_key: str | None) -> str:
        message = Message(self._id("msg"), body, topic.name, attributes, 1, ordering_key, self.now())
        self._published[topic.name].append(message)
        for fn in self.app.consumers(topic):
            trigger = fn.trigger
            if isinstance(trigger, TopicTrigger) and trigger.matches(attributes):
                self._schedule(fn, message, 1, 0)
        return message.id

    def _typed(self, name: str, kind: type[Resource]) -> Any:
        resource = self.app.resource(name)
        if not isinstance(resource, kind):
            raise TypeError(f"{name!r} is a {resource.kind}, not a {kind.kind}")
        return resource

    # -- assertions --
    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object in ``bucket``: key -> bytes."""
        return {k: v.data for k, v in sorted(self.bucket(bucket).objects.items())}

    def items(self, table: str) -> list[dict[str, Any]]:
        """Every item in ``table``, as plain dicts."""
        return [dict(v) for v in self.table(table).items.values()]

    def dead_letters(self, function: str | None = None) -> list[DeadLetter]:
        """Dead-lettered events, of one function or all."""
        return [d for d in self.dead if function is None or d.function == function]

    def published(self, topic: str) -> list[Message]:
        """Everything published to ``topic``, in order."""
        return list(self._published[topic])

    def events_published(self, topic: str) -> list[Event]:
        return [m.event() for m in self.published(topic)]

    def sent(self, queue: str) -> list[Message]:
        """Everything sent to ``queue``, in order."""
        return list(self._sent[queue])

    def invocations(self, function: str) -> list[Outcome]:
        return [o for name, o in self.history if name == function]
