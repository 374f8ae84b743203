"""FakeCloud: the app's declarations run in memory, on a virtual clock, deterministically.

It behaves like the real clouds where handlers can tell the difference: writes fire
object triggers, topics fan out to every matching subscription, queues deliver in
batches with retries, backoff and dead letters (by ``portside.delivery``, the same
rules every target uses), FIFO queues deliver each message group in order, and
permissions are enforced. It can also misbehave on purpose: duplicate deliveries,
reorder them, or fail a function's next invocations. It implements the test client
(``portside.testing.TestClient``), as the local runtime does.

Pending deliveries wait in heaps (one over all, one per function), so a batch costs
O(batch log n): a run over n messages is O(n log n), never quadratic.
"""

from __future__ import annotations

import heapq
import itertools
import json as jsonlib
import random
from collections import defaultdict, deque
from collections.abc import Hashable, Mapping
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
    Schedule,
    Table,
    Topic,
    TopicTrigger,
)
from portside.delivery import Action, DeadLetter, Outcome, decide, http_response, invoke, settle_batch
from portside.events import AnyEvent, HttpRequest, HttpResponse, Message, ObjectCreated, ObjectDeleted, Tick
from portside.fake.ports import FakeBucket, FakeQueue, FakeTable, FakeTopic, StoredObject
from portside.record import replace
from portside.routing import Router
from portside.runtime import load_handler
from portside.testing import FunctionRef, TestClient

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


class _Delivery:
    """One event on its way to one function, due on the virtual clock."""

    __slots__ = ("due", "function", "event", "attempt", "lane", "taken")

    def __init__(self, due: float, function: Function, event: AnyEvent, attempt: int, lane: Hashable | None) -> None:
        self.due, self.function, self.event, self.attempt = due, function, event, attempt
        self.lane = lane  # (function, group) on a FIFO queue: delivered after the lane's earlier ones
        self.taken = False  # lazily deleted from the heap it was not popped from


Entry = tuple[float, float, int, _Delivery]  # (due, rank, tiebreak, delivery): compared in C


class FakeCloud(TestClient):
    """An in-memory target built from an ``App`` (or an ``"module:app"`` path).

    Every handler is loaded at construction, so a handler module that does not import, or a helper
    whose permissions the function lacks (``@idempotent`` needs its table's reader and writer),
    fails here rather than at the first duplicate.
    """

    name = "fake"
    port_types = {Bucket: FakeBucket, Queue: FakeQueue, Topic: FakeTopic, Table: FakeTable}

    def __init__(self, app: App | str | None = None, *, seed: int = 0) -> None:
        super().__init__()
        self.app = app if isinstance(app, App) else load_app(app)
        for fn in self.app.functions.values():
            load_handler(fn)
        self.clock = 0.0  # virtual seconds since EPOCH; retries advance it, nothing sleeps
        self.history: list[tuple[str, Outcome]] = []
        self.dead: list[DeadLetter] = []
        self.dropped: list[tuple[str, Outcome]] = []
        self._heap: list[Entry] = []  # every scheduled delivery (FIFO: each lane's head only)
        self._by_function: dict[str, list[Entry]] = defaultdict(list)  # the same, per function
        self._lanes: dict[Hashable, deque[_Delivery]] = {}  # FIFO lane -> deliveries behind its head
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

    # -- acting (upload, send, publish come from TestClient, through the ports) --
    def tick(self, schedule: Schedule | str) -> int:
        """Fire a schedule now (schedules never fire by themselves here); returns the functions reached."""
        resource = self.resource(schedule, Schedule)
        fns = list(self.app.consumers(resource))
        for fn in fns:
            self._schedule(fn, Tick(self._id("tick"), resource.name, self.now()), 0)
        return len(fns)

    def emit(self, function: FunctionRef, event: AnyEvent) -> None:
        self._schedule(self.function(function), event, 0)

    def http(self, method: str, path: str, *, body: bytes | str = b"", json: Any = None,
             headers: Mapping[str, str] | None = None, query: Mapping[str, Any] | None = None,
             cookies: Mapping[str, str] | None = None) -> HttpResponse:
        """Call the app's HTTP routes synchronously, as API Gateway or Cloud Functions would."""
        hdrs = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json).encode()
            hdrs.setdefault("content-type", "application/json")
        route = self._router.match(method, path)
        if isinstance(route, HttpResponse):
            return route
        request = HttpRequest(self._id("req"), method, path, hdrs, dict(query or {}),
                              body.encode() if isinstance(body, str) else body, route.params,
                              dict(cookies or {}), "127.0.0.1", route.name, self.now())
        outcome = invoke(route.function, self, request)
        self.history.append((route.function.name, outcome))
        return http_response(outcome)

    # -- misbehaving on purpose --
    def inject(self, *, duplicates: int = 0, reorder: bool = False) -> None:
        self._duplicates, self._reorder = duplicates, reorder

    def fail_next(self, function: FunctionRef, times: int = 1, error: BaseException | None = None) -> None:
        name = self.function(function).name
        self._failures[name].extend([error or RuntimeError(f"injected failure in {name}")] * times)

    # -- running --
    def run_until_idle(self, max_deliveries: int = 10_000) -> list[Outcome]:
        """Deliver everything pending, retries included, advancing the virtual clock."""
        outcomes: list[Outcome] = []
        while True:
            first = self._pop(self._heap)
            if first is None:
                return outcomes
            self.clock = max(self.clock, first.due)
            fn = first.function
            trigger = fn.trigger
            batch = self._lane_run(first, self._batch_size(fn))
            while len(batch) < self._batch_size(fn):
                top = self._by_function[fn.name]
                while top and top[0][3].taken:
                    heapq.heappop(top)
                if not top or top[0][0] > self.clock:
                    break
                batch += self._lane_run(heapq.heappop(top)[3], self._batch_size(fn) - len(batch))
            outcomes += self._settle(fn, batch, fifo=isinstance(trigger, QueueTrigger) and trigger.source.fifo)
            if len(outcomes) > max_deliveries:
                raise RuntimeError(f"not idle after {max_deliveries} deliveries: do handlers trigger each other "
                                   "in a loop?")

    @staticmethod
    def _batch_size(fn: Function) -> int:
        return fn.trigger.batch_size if isinstance(fn.trigger, QueueTrigger) else 1

    def _pop(self, heap: list[Entry]) -> _Delivery | None:
        while heap:
            d = heapq.heappop(heap)[3]
            if not d.taken:
                d.taken = True
                return d
        return None

    def _lane_run(self, head: _Delivery, n: int) -> list[_Delivery]:
        """The head, and the due deliveries queued behind it in its FIFO lane (SQS hands a FIFO
        group's messages over in order, several to a batch)."""
        head.taken = True
        run = [head]
        lane = self._lanes.get(head.lane) if head.lane is not None else None
        while lane and len(run) < n and lane[0].due <= self.clock:
            run.append(lane.popleft())
        return run

    def _settle(self, function: Function, batch: list[_Delivery], fifo: bool) -> list[Outcome]:
        outcomes: list[Outcome] = []

        def run(d: _Delivery) -> bool:
            event = d.event
            if isinstance(event, Message) and event.attempt != d.attempt:
                event = replace(event, attempt=d.attempt)
            injected = self._failures.get(function.name)
            outcome = Outcome(event, d.attempt, None, injected.pop(0)) if injected else \
                invoke(function, self, event, d.attempt)
            self.history.append((function.name, outcome))
            outcomes.append(outcome)
            decision = decide(function, outcome)
            if decision.action is Action.RETRY:
                d.attempt += 1
                d.due = self.clock + decision.delay
                return False
            if decision.action is Action.DEAD_LETTER:
                self.dead.append(DeadLetter.of(function, outcome))
            elif decision.action is Action.DROP:
                self.dropped.append((function.name, outcome))
            return True

        again, held = settle_batch(batch, run, group=(lambda d: d.lane) if fifo else None)
        for d in held:
            d.due = self.clock  # held back unrun behind a failure of its group: not an attempt
        back = {id(d) for d in again} | {id(d) for d in held}
        lanes: dict[Hashable, list[_Delivery]] = {}
        for d in batch:  # in batch order, so a lane keeps its order
            if d.lane is not None:
                lanes.setdefault(d.lane, []).extend([d] if id(d) in back else [])
            elif id(d) in back:
                self._push(d)
        for key, requeued in lanes.items():
            self._release(key, requeued)
        return outcomes

    def _release(self, lane_key: Hashable, again: list[_Delivery]) -> None:
        """After a batch: the lane's next head goes back on the heaps (the retried one, or the next)."""
        lane = self._lanes[lane_key]
        lane.extendleft(reversed(again))
        if lane:
            self._push(lane.popleft())
        else:
            del self._lanes[lane_key]

    def _push(self, d: _Delivery) -> None:
        d.taken = False
        seq = next(self._seq)
        entry = (d.due, self._rng.random() if self._reorder else seq, seq, d)
        heapq.heappush(self._heap, entry)
        heapq.heappush(self._by_function[d.function.name], entry)

    def _schedule(self, function: Function, event: AnyEvent, delay: float, group: str | None = None) -> None:
        lane = (function.name, group) if group is not None else None
        for _ in range(1 + self._duplicates):
            d = _Delivery(self.clock + delay, function, event, 1, lane)
            if lane is None:
                self._push(d)
            elif lane in self._lanes:
                self._lanes[lane].append(d)  # behind the lane's head
            else:
                self._lanes[lane] = deque()
                self._push(d)

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
            self._schedule(fn, event, 0)

    def _enqueue(self, queue: Queue, body: bytes, attributes: dict[str, str], delay: int,
                 ordering_key: str | None) -> str:
        message = Message(self._id("msg"), body, queue.name, attributes, 1, ordering_key, self.now())
        self._sent[queue.name].append(message)
        for fn in self.app.consumers(queue):
            self._schedule(fn, message, delay, ordering_key if queue.fifo else None)
        return message.id

    def _fan_out(self, topic: Topic, body: bytes, attributes: dict[str, str]) -> str:
        message = Message(self._id("msg"), body, topic.name, attributes, 1, None, self.now())
        self._published[topic.name].append(message)
        for fn in self.app.consumers(topic):
            trigger = fn.trigger
            if isinstance(trigger, TopicTrigger) and trigger.matches(attributes):
                self._schedule(fn, message, 0)
        return message.id

    # -- observing (objects() comes from TestClient) --
    def items(self, table: Table | str) -> list[dict[str, Any]]:
        return [dict(v) for v in self.port(self.resource(table, Table)).raw.items.values()]

    def dead_letters(self, function: FunctionRef | None = None) -> list[DeadLetter]:
        name = None if function is None else self.function(function).name
        return [d for d in self.dead if name is None or d.function == name]

    def published(self, topic: Topic | str) -> list[Message]:
        return list(self._published[self.resource(topic, Topic).name])

    def sent(self, queue: Queue | str) -> list[Message]:
        return list(self._sent[self.resource(queue, Queue).name])

    def invocations(self, function: FunctionRef) -> list[Outcome]:
        name = self.function(function).name
        return [o for n, o in self.history if n == name]
