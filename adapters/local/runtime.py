"""LocalCloud: the app's declarations running on one machine, durably (docs/architecture.md, "Targets").

- a dispatcher leases due deliveries from SQLite and hands them to a worker pool, so a
  slow handler holds one worker, not the whole runtime; each function gets at most
  ``concurrency`` (default: half the pool) batches at a time;
- every outcome goes through ``portside.delivery`` (``invoke`` / ``decide`` / ``DeadLetter``):
  retries become a later ``visible_at``, dead letters a row with the error, in one commit;
- schedules fire on a timer (rate, or cron); HTTP routes are served on 127.0.0.1.

Without ``start()`` a LocalCloud is a client of the data directory: ``send``, ``publish``,
``upload``, ``tick``, ``emit`` and the dead-letter commands write to the same SQLite file,
and the running runtime (or the next one) delivers what they queued. It is also the test
client (``portside.testing.TestClient``, the fake cloud's interface): see ``portside.local.client``.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from portside.app import App, load_app
from portside.declarations import (
    Bucket,
    Function,
    HttpTrigger,
    Queue,
    QueueTrigger,
    Resource,
    Schedule,
    Table,
    Topic,
)
from portside.delivery import Action, DeadLetter, Decision, Outcome, decide, invoke, settle_batch
from portside.events import AnyEvent, Message, Tick
from portside.local import codec
from portside.local.client import LocalTestClient
from portside.local.errors import LocalError
from portside.local.ports import LocalBucket, LocalQueue, LocalTable, LocalTopic, new_id
from portside.local.report import Report
from portside.local.store import GROUP_WINDOW, Delivery, Store, private
from portside.record import replace
from portside.routing import Router
from portside.runtime import load_handler
from portside.testing import FunctionRef

log = logging.getLogger("portside.local")
RUNTIME_FILE = "runtime.json"
RUNS_PER_TURN = 16  # batches a worker runs back to back before yielding to the dispatcher, if the pool is full
LOCK_FILE = "runtime.lock"
Settled = tuple[Delivery, Outcome, Decision]  # a delivery, how its run ended, and what that means for it


class LocalCloud(LocalTestClient):
    """A target built from an ``App`` over a data directory (default ``./.portside``)."""

    name = "local"
    port_types = {Bucket: LocalBucket, Queue: LocalQueue, Topic: LocalTopic, Table: LocalTable}

    def __init__(self, app: App | str | None = None, data_dir: str | os.PathLike[str] = ".portside", *,
                 workers: int = 8, on_report: Callable[[Report], None] | None = None,
                 poll: float = 0.05) -> None:
        super().__init__()
        self._init_client()
        self.app = app if isinstance(app, App) else load_app(app)
        self.app_spec = app if isinstance(app, str) else None  # module:attribute, for the runtime file
        self.store = Store(data_dir)
        self.workers = max(1, workers)
        self.on_report = on_report
        self.on_write: Callable[[str, str, AnyEvent, int], None] | None = None  # see observe()
        self.poll = poll
        self.url: str | None = None
        self.instance: str | None = None  # this run, once started: owner of its in-progress records
        self.console_url: str | None = None  # set by the console `portside dev` serves, for the runtime file
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None
        self._loops: list[threading.Thread] = []  # the dispatcher and the timer
        self._inflight: dict[str, int] = {}
        self._busy = 0  # batches in flight, all functions
        self._lingering = False
        self._idle = threading.Condition()  # notified when no batch is in flight any more
        self._progress: dict[str, float] = {}  # function -> when one of its batches last started
        self._count_lock = threading.Lock()
        self._lock_fd: int | None = None
        self._server: Any = None
        self.store.on_commit = self._wake_up
        self.secret = _secret(self.store.dir / "secret")
        self._consumers = [f for f in self.app.functions.values() if not isinstance(f.trigger, HttpTrigger)]
        self.router = Router(self.app.functions.values())

    # -- the Target protocol (port() comes from PortCache) --
    def make_port(self, resource: Resource) -> Any:
        # The app's own object: a handle from a second import of the app module (``python -m``
        # runs it as __main__) is a different object with the same name, and triggers match by identity.
        return super().make_port(self.app.resources.get(resource.name, resource))

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def instance_alive(self, instance: str) -> bool:
        """Handlers run only in the runtime holding the data dir's lock, so an instance other than
        this one is a run that crashed or stopped: its in-progress work will never finish."""
        return instance == self.instance

    def observe(self, action: str, resource: str, event: AnyEvent, consumers: int) -> None:
        """A port committed a write (send, publish, put, delete): the test client remembers the messages,
        ``on_write`` (the console) hears of every write."""
        if action in ("send", "publish") and isinstance(event, Message):
            self._record("sent" if action == "send" else "published", resource, event)
        if self.on_write is not None:
            try:
                self.on_write(action, resource, event, consumers)
            except Exception:  # noqa: BLE001 - a broken observer must not fail the write
                log.exception("on_write failed")

    # -- acting on the app from outside (CLI, tests; upload, send, publish come from TestClient) --
    def tick(self, schedule: Schedule | str) -> int:
        """Fire a schedule now; returns how many functions it reaches."""
        return self._fire_schedule(self.resource(schedule, Schedule), time.time())

    def emit(self, function: FunctionRef, event: AnyEvent) -> None:
        """Queue any normalized event for one function (delivered with its trigger's rules)."""
        fn = self.function(function)
        if isinstance(fn.trigger, HttpTrigger):
            raise LocalError(f"function {fn.name!r} serves HTTP: call it with `portside invoke`")
        with self.store.tx() as db:
            self.store.add(db, fn.name, "emit", codec.dump(event), time.time())

    def items(self, table: Table | str) -> list[dict[str, Any]]:
        return self.port(self.resource(table, Table)).raw.scan()

    def dead_letters(self, function: FunctionRef | None = None) -> list[DeadLetter]:
        name = None if function is None else self.function(function).name
        return [DeadLetter(r.function, codec.load(r.event), r.error_type, r.error, r.attempts)
                for r in self.store.dead_letters(name)]

    def other_runtime(self) -> dict[str, Any] | None:
        return None if self._lock_fd is not None else running(self.store.dir)

    def redrive(self, seqs: list[int] | None = None, function: str | None = None) -> int:
        return self.store.redrive(seqs, function)

    def discard(self, seqs: list[int]) -> int:
        """Delete dead letters for good; how many there were."""
        return self.store.discard(seqs)

    # -- running --
    def start(self, port: int | None = 0, *, http: bool = True) -> LocalCloud:
        """Take the data dir, release leases left by a crashed run, start workers, timer and HTTP."""
        for fn in self.app.functions.values():
            load_handler(fn)  # a handler that does not import, or lacks a permission it needs, fails here
        self._started = True
        for schedule in self.app.of_kind(Schedule):
            self._next_fire(schedule, time.time())  # a cron the local evaluator cannot read fails here
        self._take_lock()
        self.instance = f"local-{os.getpid()}-{new_id()[:12]}"
        released = self.store.release_leases()
        if released:
            log.warning("redelivering %d event(s) that a previous run had in flight", released)
        self._adopt_and_orphan()
        if http:
            from portside.local.http import serve

            self._server = serve(self, port or 0).start()
            self.url = self._server.url
        self.write_runtime_file()
        self._start_workers()
        return self

    def reload(self, app: App) -> None:
        """Run ``app`` from now on (hot reload): its handlers must import (else DeclarationError, and the
        current app keeps running); the workers finish and settle what they hold, then restart on the
        new declarations. Accepted events wait in SQLite meanwhile: none is lost, none settled runs again.
        HTTP keeps listening; a request is served by the app that is current when it arrives."""
        for fn in app.functions.values():
            load_handler(fn)
        for schedule in app.of_kind(Schedule):
            self._next_fire(schedule, time.time())
        self._stop_workers()
        self.app = app
        self._ports.clear()
        self._consumers = [f for f in app.functions.values() if not isinstance(f.trigger, HttpTrigger)]
        self.router = Router(app.functions.values())
        self._adopt_and_orphan()
        self.write_runtime_file()
        self._start_workers()

    def _start_workers(self) -> None:
        """The worker pool, the dispatcher that feeds it, and the timer if any schedule has a consumer
        (``_stop_workers`` undoes it; a hot reload calls the two around loading the new code)."""
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="portside-worker")
        self._loops = [threading.Thread(target=self._dispatch, name="portside-dispatch", daemon=True)]
        if any(isinstance(r, Schedule) and any(self.app.consumers(r)) for r in self.app.resources.values()):
            self._loops.append(threading.Thread(target=self._timer, name="portside-timer", daemon=True))
        for t in self._loops:
            t.start()

    def _stop_workers(self) -> None:
        """Stop leasing; let each worker finish and settle the batch it holds (nothing is cut short),
        then commit: nothing is lost or left leased, and what is still due waits for the next start."""
        self._stopping.set()
        self._wake.set()
        for t in self._loops:
            t.join(timeout=5)
        self._loops = []
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.store.commit()

    def _adopt_and_orphan(self) -> None:
        """The app may have changed since the data dir was written: messages a queue kept with no
        consumer go to the consumer it has now; deliveries for a function the app no longer
        declares become dead letters (listed, redrivable), never silently dropped or stuck."""
        with self.store.tx() as db:
            for queue in self.app.of_kind(Queue):
                fn = next(iter(self.app.consumers(queue)), None)
                if fn is not None:
                    db.execute("UPDATE deliveries SET function=? WHERE function='' AND source=?",
                               (fn.name, f"queue {queue.name}"))
            names = [n for (n,) in db.execute("SELECT DISTINCT function FROM deliveries WHERE function != ''")
                     if n not in self.app.functions]
            for name in names:
                error = f"app {self.app.name!r} no longer declares function {name!r}"
                db.execute("INSERT INTO dead_letters(function, source, event, error_type, error, attempts, time) "
                           "SELECT function, source, event, 'UnknownFunction', ?, receives, ? FROM deliveries "
                           "WHERE function=?", (error, time.time(), name))
                n = db.execute("DELETE FROM deliveries WHERE function=?", (name,)).rowcount
                log.warning("%d event(s) for %s: moved to the dead letters", n, error)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._stop_workers()
        for t in self._threads:
            t.join(timeout=5)
        if self._lock_fd is not None:  # ours to remove only if this one ran (a client may stop too)
            try:
                (self.store.dir / RUNTIME_FILE).unlink()
            except FileNotFoundError:
                pass
            os.close(self._lock_fd)
            self._lock_fd = None
        self.store.close()

    def __enter__(self) -> LocalCloud:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_until_idle(self, timeout: float = 10.0) -> None:
        """Block until nothing is pending or in flight (tests, benchmarks)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not any(self._inflight.values()) and not self.store.read(
                    "SELECT 1 FROM deliveries WHERE function != '' LIMIT 1"):  # not COUNT(*): a scan
                return
            with self._idle:  # woken when the last batch in flight settles
                self._idle.wait(0.01)
        raise TimeoutError(f"still busy after {timeout}s")

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _take_lock(self) -> None:
        path = self.store.dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            holder = _runtime_info(self.store.dir) or {}
            raise LocalError(f"another portside runtime (pid {holder.get('pid', '?')}) is running on data dir "
                             f"{str(self.store.dir)!r}: stop it, or pass a different --data-dir") from None
        self._lock_fd = fd

    def write_runtime_file(self) -> None:
        """What other commands read about this runtime (``running()``): pid, app, the app's and console's URLs."""
        info = {"pid": os.getpid(), "url": self.url, "app": self.app.name, "spec": self.app_spec,
                "console": self.console_url, "started": time.time()}
        tmp = self.store.dir / f".{RUNTIME_FILE}.{os.getpid()}.tmp"
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(json.dumps(info))
        os.replace(tmp, self.store.dir / RUNTIME_FILE)

    # -- the dispatcher: lease due deliveries, run them on the pool --
    def _wake_up(self) -> None:
        """New deliveries are committed: wake the dispatcher (once: a send in a stream must not pay for it)."""
        if not self._wake.is_set():
            self._wake.set()

    def _capacity(self, fn: Function) -> int:
        return fn.concurrency or max(1, self.workers // 2)

    def _dispatch(self) -> None:
        """Lease due deliveries for each function with free capacity and hand them to the pool.

        A function gets a second batch in flight only when the first has made no progress for
        ``GROUP_WINDOW`` (a slow handler, waiting on I/O): a worker that keeps finishing batches
        takes the next one itself (``_run``), so fast handlers run on one thread instead of
        convoying on the GIL, and a stream of sends fills batches instead of starting one per
        send. The first event after a quiet spell goes at once."""
        with self.store.deferring():
            while not self._stopping.is_set():
                try:
                    wait = self._dispatch_once()
                except Exception:  # noqa: BLE001 - a busy or failing disk must not end dispatching for good
                    log.exception("dispatching failed; trying again in %.1f s", 1.0)
                    self._stopping.wait(1.0)
                    continue
                if wait is None:
                    continue
                if self._lingering:
                    time.sleep(wait)  # a partial batch fills up: the sends that wake us would only cut it short
                else:
                    self._wake.wait(wait)

    def _dispatch_once(self) -> float | None:
        """Start what is due; None to look again at once, else how long to wait. A function whose batch
        in flight moves on is left to it without a look at the database."""
        self._wake.clear()
        wait, self._lingering, ready = self.poll, False, []
        for fn in self._consumers:
            inflight = self._inflight.get(fn.name, 0)
            if inflight >= self._capacity(fn):
                continue
            if inflight:
                quiet = time.monotonic() - self._progress.get(fn.name, 0.0)
                if quiet < GROUP_WINDOW:  # the batch in flight moves on and takes the next one itself:
                    self._lingering = True  # another worker would only fight it for the GIL
                    wait = min(wait, GROUP_WINDOW - quiet)
                    continue
            ready.append(fn)
        started, now = 0, time.time()
        due = self.store.next_due([fn.name for fn in ready])
        if due is not None and due <= now:
            for fn in ready:
                started += self._start(fn, now)
        elif due is not None:
            wait = min(wait, due - now)
        if started:
            return None
        if not self._busy:
            self.store.commit()  # going quiet: nothing of ours waits for a commit while we sleep
        elif self.store.commit_if_older(GROUP_WINDOW) is not None:  # a batch in flight runs long: what
            wait = min(wait, GROUP_WINDOW)  # the others settled meanwhile is committed within the window
        return wait

    def _start(self, fn: Function, now: float) -> int:
        """Lease a batch of ``fn`` and hand it to the pool; how many batches that started (0 or 1)."""
        assert self._pool is not None
        batch = self.store.take(fn.name, now, self._batch_size(fn), self._visibility(fn), _fifo(fn))
        if not batch:
            return 0
        with self._count_lock:
            self._inflight[fn.name] = self._inflight.get(fn.name, 0) + 1
            self._busy += 1
        self._progress[fn.name] = time.monotonic()
        self._pool.submit(self._run, fn, batch)
        return 1

    @staticmethod
    def _batch_size(fn: Function) -> int:
        return fn.trigger.batch_size if isinstance(fn.trigger, QueueTrigger) else 1

    @staticmethod
    def _visibility(fn: Function) -> float:
        """How long a leased event stays hidden: SQS's advice, 6x the function timeout."""
        return 6.0 * fn.timeout

    def _run(self, fn: Function, batch: list[Delivery]) -> None:
        """Run ``batch``, then, while more of ``fn`` is due, lease and run the next one here without a
        round trip through the dispatcher (after ``RUNS_PER_TURN`` batches only while some worker is
        free, so a busy pool is shared out again).

        A batch's handlers run without the writer (their table writes wait in this thread:
        ``Store.write``); then one hold of it writes them, settles the batch and leases the next,
        as a hand-written consumer takes its lock once per batch."""
        try:
            with self.store.deferring():
                size = self._batch_size(fn)
                for turn in itertools.count(1):
                    self._progress[fn.name] = began = time.monotonic()
                    settled, held = self._handle(fn, batch)
                    more = not (self._stopping.is_set()
                                or (turn >= RUNS_PER_TURN and self._busy >= self.workers)  # let the dispatcher
                                # share the pool out again; a worker that joined after a stall that is over
                                # leaves: one keeps up, two fight for the GIL
                                or (self._inflight[fn.name] > 1 and time.monotonic() - began < GROUP_WINDOW))
                    short = len(batch) < size  # the queue ran short: let the senders fill the next batch a
                    with self.store.writing():  # moment, rather than wake per message
                        try:
                            self._write_settled(fn, settled, held)
                        except Exception:  # noqa: BLE001 - the leases expire and the events come back
                            log.exception("settling a batch of %s failed; its events will be redelivered", fn.name)
                        self.store.commit_if_older(GROUP_WINDOW)
                        batch = self._take(fn) if more and not short else []
                    self._report_settled(fn, settled)
                    if not more:
                        break
                    if short:
                        self._progress[fn.name] = time.monotonic()
                        self._stopping.wait(GROUP_WINDOW)
                        batch = self._take(fn)
                    if not batch:
                        break
        finally:
            with self._count_lock:
                self._inflight[fn.name] -= 1
                self._busy -= 1
                idle = self._busy == 0
            try:  # the last batch out commits at once; while others run, commits group up to GROUP_WINDOW
                if idle:
                    self.store.commit()
                else:
                    self.store.commit_if_older(GROUP_WINDOW)
            except Exception:  # noqa: BLE001 - uncommitted acknowledgements only mean redeliveries
                log.exception("committing the batches of %s failed; their events will be redelivered", fn.name)
            if idle:
                with self._idle:
                    self._idle.notify_all()
            self._wake.set()

    def _take(self, fn: Function) -> list[Delivery]:
        return self.store.take(fn.name, time.time(), self._batch_size(fn), self._visibility(fn), _fifo(fn))

    def _handle(self, fn: Function, batch: list[Delivery]) -> tuple[list[Settled], list[Delivery]]:
        """Each delivery in order (``settle_batch``: a FIFO group stops at its first failure); what
        each came to, and the deliveries held back unrun behind a failure of their group."""
        if not _fifo(fn):  # settle_batch without a group runs every delivery: the same, in line
            return [self._invoke(fn, d) for d in batch], []
        settled: list[Settled] = []

        def run(d: Delivery) -> bool:
            done = self._invoke(fn, d)
            settled.append(done)
            return done[2].action is not Action.RETRY

        _, held = settle_batch(batch, run, group=lambda d: d.group)
        return settled, held

    def _invoke(self, fn: Function, d: Delivery) -> Settled:
        try:
            event = codec.load(d.event)
        except Exception as e:  # noqa: BLE001 - an unreadable row is dead-lettered, not lost
            outcome = Outcome(Message(f"row-{d.seq}", d.event.encode(), d.source), d.receives, None, e)
            return d, outcome, decide(fn, outcome)
        if isinstance(event, Message) and event.attempt != d.receives:
            event = replace(event, attempt=d.receives)
        injected = self._injected(fn.name) if self._failures.get(fn.name) else None
        outcome = Outcome(event, d.receives, None, injected) if injected else invoke(fn, self, event, d.receives)
        self._invoked(fn.name, outcome)
        return d, outcome, decide(fn, outcome)

    def _settle(self, fn: Function, settled: list[Settled], held: Sequence[Delivery] = ()) -> None:
        self._write_settled(fn, settled, held)
        self._report_settled(fn, settled)

    def _write_settled(self, fn: Function, settled: list[Settled], held: Sequence[Delivery] = ()) -> None:
        """Acknowledge, retry or dead-letter each delivery of a batch, in one write."""
        now = time.time()
        # ``receives=?`` is SQS's receipt handle: a lease that expired and was taken again
        # (the handler outlived its visibility timeout) is no longer ours to settle.
        done = [(d.seq, d.receives) for d, _, decision in settled if decision.action in (Action.ACK, Action.DROP)]
        rest = [s for s in settled if s[2].action not in (Action.ACK, Action.DROP)]
        if not rest and not held:  # the common case: one statement, no savepoint
            self.store.ack(done)
            return
        with self.store.tx() as db:
            self.store.ack(done, db)
            for d, outcome, decision in rest:
                if decision.action is Action.RETRY:
                    db.execute("UPDATE deliveries SET visible_at=?, leased=0 WHERE seq=? AND receives=?",
                               (now + decision.delay, d.seq, d.receives))
                    continue
                gone = db.execute("DELETE FROM deliveries WHERE seq=? AND receives=?", (d.seq, d.receives)).rowcount
                if gone and decision.action is Action.DEAD_LETTER:
                    dl = DeadLetter.of(fn, outcome)
                    db.execute("INSERT INTO dead_letters(function, source, event, error_type, error, attempts, time) "
                               "VALUES (?,?,?,?,?,?,?)",
                               (fn.name, d.source, d.event, dl.error_type, dl.error, dl.attempts, now))
            for d in held:  # held back unrun behind a failure of its FIFO group: not an attempt
                db.execute("UPDATE deliveries SET visible_at=?, leased=0, receives=receives-1 WHERE seq=? "
                           "AND receives=?", (now, d.seq, d.receives))

    def _report_settled(self, fn: Function, settled: list[Settled]) -> None:
        if self.on_report is not None:
            for d, outcome, decision in settled:
                self._report(Report(d.source, fn.name, outcome, decision))

    def _report(self, report: Report) -> None:
        if self.on_report is not None:
            try:
                self.on_report(report)
            except Exception:  # noqa: BLE001 - a broken printer must not stop delivery
                log.exception("on_report failed")

    # -- schedules --
    def _fire_schedule(self, schedule: Schedule, at: float) -> int:
        tick = Tick(f"{schedule.name}-{int(at)}", schedule.name, datetime.fromtimestamp(at, timezone.utc))
        text = codec.dump(tick)
        fns = list(self.app.consumers(schedule))
        with self.store.tx() as db:
            for fn in fns:
                self.store.add(db, fn.name, f"schedule {schedule.name}", text, time.time())
            db.execute("INSERT OR REPLACE INTO schedules VALUES (?,?)", (schedule.name, at))
        return len(fns)

    def _next_fire(self, schedule: Schedule, last: float) -> float:
        if schedule.every_seconds is not None:
            return last + schedule.every_seconds
        from portside.local.cron import Cron

        return Cron(schedule.cron or "").next_after(datetime.fromtimestamp(last, timezone.utc)).timestamp()

    def _timer(self) -> None:
        """Fire each schedule when due; a run that was down fires a missed tick once, not a backlog."""
        schedules = [r for r in self.app.of_kind(Schedule) if any(self.app.consumers(r))]
        stored = dict(self.store.read("SELECT name, last FROM schedules"))
        start = time.time()
        nxt = {s.name: self._next_fire(s, stored.get(s.name, start)) for s in schedules}
        while not self._stopping.is_set():
            now = time.time()
            for s in schedules:
                if nxt[s.name] <= now:
                    try:
                        self._fire_schedule(s, now)
                    except Exception:  # noqa: BLE001
                        log.exception("schedule %s could not fire", s.name)
                    nxt[s.name] = self._next_fire(s, now)
            self._stopping.wait(max(0.05, min(1.0, min(nxt.values()) - time.time())))


def _secret(path: Path) -> bytes:
    """The data dir's HMAC key (signed URLs): created once, whole (link of a finished file), and
    readable by its owner only."""
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(secrets.token_bytes(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            tmp.unlink()
    private(path)
    secret = path.read_bytes()
    if len(secret) < 16:
        raise LocalError(f"{str(path)!r} holds {len(secret)} bytes, too short for a signing key: delete it "
                         "(signed URLs made with it stop working) and start again")
    return secret


def _fifo(fn: Function) -> bool:
    return isinstance(fn.trigger, QueueTrigger) and fn.trigger.source.fifo  # type: ignore[attr-defined]


def _runtime_info(data_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((data_dir / RUNTIME_FILE).read_text())
    except (OSError, ValueError):
        return None


def running(data_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """What a running runtime on ``data_dir`` wrote about itself (pid, url), if one runs."""
    path = Path(data_dir)
    info = _runtime_info(path)
    if info is None:
        return None
    try:
        fd = os.open(path / LOCK_FILE, os.O_RDWR)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return info  # locked: someone runs
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None  # a stale file from a crashed run
    finally:
        os.close(fd)


__all__ = ["LocalCloud", "Report", "running", "new_id"]
