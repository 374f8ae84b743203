"""The durable state of the local runtime: one SQLite file (WAL) in the data directory.

Queues, topic subscriptions, object triggers and schedule ticks all become rows in
``deliveries``: one row per (function, event), leased SQS-style by moving ``visible_at``
past the lease (the visibility timeout), so an event whose worker died reappears.

Writes go through one connection, one at a time. A write from outside the runtime's own
threads (an HTTP handler's send, a publish from a client, the CLI) is committed before it
returns: accepted = durable. Alone, it is one autocommit statement; when other such writes
wait for the writer, they join its transaction and the last one commits for all (group
commit), none returning before that commit. The runtime's dispatcher and workers *defer*
theirs: their leases, their handlers' writes and their acknowledgements join one open
transaction that is committed every few milliseconds (``GROUP_WINDOW``), when the runtime
goes idle, or as soon as anyone else writes. A crash loses at most that window, and never an
acknowledgement without the writes before it (one commit holds both), so what it loses is
redelivered: at-least-once, as on every cloud, at a fraction of the commits. A handler's blind
writes (``write``: a table put or delete, whose result nobody waits for) wait in its thread
until that thread's next statement, which runs them first, in order: a worker takes the writer
once per batch, for its handlers' writes (one multi-row INSERT), its acknowledgements (one
DELETE) and its next lease, instead of once per statement. Taking the writer and each SQLite
call (which lets the GIL go) is a hand-off between threads; those hand-offs, not SQLite, were
what bounded throughput.

``synchronous=NORMAL`` in WAL mode survives a killed process; only an OS crash or power loss
may lose the last commits. ``PORTSIDE_SYNC=FULL`` fsyncs every commit and survives those too,
at a cost in throughput.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from portside.local.errors import LocalError

log = logging.getLogger("portside.local")
DB_NAME = "portside.db"
GROUP_WINDOW = 0.005  # seconds a deferred write may wait for its commit while the runtime is busy

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  function TEXT NOT NULL,          -- '' = a queue message no function consumes (kept, not lost)
  source TEXT NOT NULL,            -- e.g. 'queue contact-jobs', 'topic orders', 'bucket uploads'
  event TEXT NOT NULL,             -- portside.local.codec JSON
  receives INTEGER NOT NULL DEFAULT 0,
  visible_at REAL NOT NULL,
  leased INTEGER NOT NULL DEFAULT 0,
  created REAL NOT NULL,
  grp TEXT);                       -- the FIFO message group (ordering key); NULL elsewhere
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(function, visible_at);
CREATE TABLE IF NOT EXISTS dead_letters(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  function TEXT NOT NULL, source TEXT NOT NULL, event TEXT NOT NULL,
  error_type TEXT NOT NULL, error TEXT NOT NULL, attempts INTEGER NOT NULL, time REAL NOT NULL);
CREATE TABLE IF NOT EXISTS items(
  tbl TEXT NOT NULL, pk TEXT NOT NULL, sk TEXT NOT NULL, item TEXT NOT NULL,
  PRIMARY KEY (tbl, pk, sk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects(
  bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  content_type TEXT, metadata TEXT NOT NULL, modified REAL NOT NULL,
  PRIMARY KEY (bucket, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS schedules(name TEXT PRIMARY KEY, last REAL NOT NULL);
"""
_first = itemgetter(0)
ROWS_PER_INSERT = 100  # rows of a flush's INSERT: far under SQLite's 32,766 variables


@lru_cache(maxsize=64)
def _rows(sql: str, n: int) -> str:
    """``INSERT ... VALUES (?,...)`` for ``n`` rows."""
    row = sql[sql.rindex("VALUES") + 6:].strip()
    return sql + f",{row}" * (n - 1)


@lru_cache(maxsize=64)
def _ack(n: int) -> str:
    """A DELETE of ``n`` deliveries, each by its lease (seq, receives): one statement (one step of SQLite,
    one release of the GIL), each term found by the primary key."""
    return "DELETE FROM deliveries WHERE " + " OR ".join(["(seq=? AND receives=?)"] * n)


def _run(db: sqlite3.Connection, sql: str, args: Sequence[Any], rows: bool) -> Any:
    cursor = db.execute(sql, args)
    return cursor.fetchall() if rows else cursor.rowcount
# FIFO queues' rows only: the rest never pay for it (``take``'s ``e.grp=d.grp`` implies grp IS NOT NULL)
INDEXES = "CREATE INDEX IF NOT EXISTS deliveries_grp ON deliveries(function, grp, seq) WHERE grp IS NOT NULL;"
# What older data dirs have and this version does not: an index on visible_at alone (``next_due`` asks
# deliveries_due per function) and deliveries_grp over every row; each write paid for them.
UPGRADE = """
DROP INDEX IF EXISTS deliveries_visible;
DROP INDEX IF EXISTS deliveries_grp;
"""


def private(path: Path) -> None:
    """Make a file 0600 or a folder 0700 if it is ours and more open (data dirs of older versions)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    want = 0o700 if path.is_dir() else 0o600
    if st.st_uid == os.getuid() and st.st_mode & 0o777 & ~want:
        path.chmod(want)


class Delivery(NamedTuple):  # a tuple: made for every leased row, at a fraction of a dataclass's cost
    seq: int
    function: str
    source: str
    event: str
    receives: int
    group: str | None = None


@dataclass(frozen=True, slots=True)
class DeadRow:
    seq: int
    function: str
    source: str
    event: str
    error_type: str
    error: str
    attempts: int
    time: float


class Store:
    """Thread-safe access to the SQLite file: one writer connection behind a lock (so SQLite never
    makes a thread of ours sleep-and-retry: its busy handler sleeps in whole milliseconds), and a
    reader connection per thread. Other processes (``portside emit``) meet ``busy_timeout``.
    """

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(data_dir)
        try:
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            private(self.dir)
            probe = self.dir / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            raise LocalError(f"data directory {str(self.dir)!r} is not writable ({e.strerror or e}): "
                             "fix its permissions or pass --data-dir DIR") from None
        self.path = self.dir / DB_NAME
        self.synchronous = os.environ.get("PORTSIDE_SYNC", "NORMAL").upper()
        if self.synchronous not in ("NORMAL", "FULL"):
            raise LocalError(f"PORTSIDE_SYNC={self.synchronous!r}: use NORMAL (survives a killed process, "
                             "the default) or FULL (also survives power loss: an fsync per commit)")
        self._local = threading.local()  # .db: the reader; .pending: the blind writes of a deferring thread
        self._all: list[sqlite3.Connection] = []
        self._write = threading.RLock()  # the writer connection, and the list above
        self._writer: sqlite3.Connection | None = None
        self._open_since: float | None = None  # monotonic time the shared transaction began
        # group commit: durable writers waiting for the writer (deque: append and pop are atomic), the
        # number of the transaction open now, of the last committed, and of the last lost
        self._arrivals: deque[None] = deque()
        self._opened = self._committed = self._lost_tx = 0
        self._done = threading.Condition(self._write)  # notified at each commit (or loss)
        self._in_tx = 0  # tx() blocks open (their savepoint must not see another thread's writes)
        self.on_commit: Any = None  # called after a commit that added deliveries (wakes the dispatcher)
        self._added = False  # the open transaction adds deliveries: on_commit when it commits
        self.copies = 1  # deliveries made per event: more to inject duplicates (the test client's inject)
        self.shuffle = False  # lease due deliveries in random order (inject(reorder=True)); FIFO keeps order
        self._open()

    def _open(self) -> None:
        """Create the database (whole, under its final name, by a rename) or check the one there."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            self._create()
        else:
            if size == 0:  # never one of ours: we create the file whole
                raise LocalError(f"{str(self.path)!r} is empty (0 bytes): it was truncated or replaced. Restore "
                                 "it from a backup, or delete it to start with empty queues and tables (or pass "
                                 "--data-dir DIR)")
            for suffix in ("", "-wal", "-shm"):
                private(Path(f"{self.path}{suffix}"))
        try:
            db = self.conn()
            problems = [r[0] for r in db.execute("PRAGMA quick_check").fetchall()]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError(f"damaged: {problems[0]}")
            db.executescript(SCHEMA)
            if "grp" not in [r[1] for r in db.execute("PRAGMA table_info(deliveries)")]:
                db.execute("ALTER TABLE deliveries ADD COLUMN grp TEXT")  # a data dir from before FIFO groups
            if db.execute("SELECT 1 FROM sqlite_master WHERE name='deliveries_visible' OR (name='deliveries_grp' "
                          "AND sql NOT LIKE '%WHERE%')").fetchall():
                db.executescript(UPGRADE)
            db.executescript(INDEXES)
        except sqlite3.DatabaseError as e:
            self.close()
            raise self._explain(e) from None

    def _create(self) -> None:
        tmp = self.dir / f".{DB_NAME}.{os.getpid()}.{threading.get_ident()}.new"
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        try:
            db = sqlite3.connect(tmp, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL").fetchone()
            db.executescript(SCHEMA)
            db.close()  # the last connection checkpoints and removes the -wal
            try:
                os.link(tmp, self.path)  # not rename: a concurrent opener's database wins, whole
            except FileExistsError:
                pass
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{tmp}{suffix}").unlink(missing_ok=True)

    def _explain(self, e: sqlite3.Error) -> LocalError:
        if isinstance(e, sqlite3.OperationalError) and "unable to open" in str(e):
            return LocalError(f"cannot open {str(self.path)!r} ({e}): check the data directory's permissions "
                              "or pass --data-dir DIR")
        return LocalError(f"{str(self.path)!r} is not a usable SQLite database ({e}): it is damaged or belongs "
                          "to another program; move it aside (with its -wal and -shm files: it holds the local "
                          "queues and tables) to start empty, or pass --data-dir DIR")

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
            db.execute("PRAGMA journal_mode=WAL").fetchone()
            db.execute(f"PRAGMA synchronous={self.synchronous}")
            db.execute("PRAGMA busy_timeout=10000")
        except sqlite3.Error as e:
            raise self._explain(e) from None
        with self._write:
            self._all.append(db)
        return db

    def conn(self) -> sqlite3.Connection:
        """This thread's reader connection (it sees committed data only)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    def _begin(self) -> sqlite3.Connection:
        """The writer, in a transaction (the caller holds ``_write``)."""
        db = self._writer
        if db is None:
            db = self._writer = self._connect()
        if not db.in_transaction:
            db.execute("BEGIN IMMEDIATE")
            self._open_since = time.monotonic()
            self._opened += 1
        return db

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """One statement as one write (SQLite makes a statement atomic), committed as ``tx`` is;
        returns its row count. The cheap path for a single insert, replace or delete."""
        return self._statement(sql, args, False)  # type: ignore[return-value]

    def write(self, sql: str, args: Sequence[Any] = ()) -> None:
        """A write whose result nobody waits for (a table put or delete). From a thread that defers it
        waits in the thread's pending writes, run in order before that thread's next statement (its
        own reads see them; its acknowledgements are never written without them) and when it stops
        deferring; from any other thread it is committed before this returns."""
        pending = getattr(self._local, "pending", None)
        if pending is None:
            self._statement(sql, args, False)
        else:
            pending.append((sql, args))

    def _flush(self, db: sqlite3.Connection, pending: list[tuple[str, Sequence[Any]]]) -> None:
        """Run this thread's pending writes in order (the caller holds ``_write``): a run of the same
        ``INSERT ... VALUES (...)`` as one statement of many rows (SQLite writes them in order, as
        the run would be), anything else once per row."""
        todo = pending.copy()
        pending.clear()
        for sql, group in groupby(todo, key=_first):
            run = [args for _, args in group]
            if len(run) == 1:
                db.execute(sql, run[0])
            elif sql.endswith(")") and sql.startswith("INSERT"):
                for i in range(0, len(run), ROWS_PER_INSERT):
                    part = run[i:i + ROWS_PER_INSERT]
                    db.execute(_rows(sql, len(part)), [v for args in part for v in args])
            else:
                db.executemany(sql, run)

    def _statement(self, sql: str, args: Sequence[Any], rows: bool, adds: bool = False) -> Any:
        """``sql``'s row count (or with ``rows`` the rows it returns), committed before it returns unless
        this thread defers; ``adds``: it queues deliveries (their commit wakes the dispatcher)."""
        pending = getattr(self._local, "pending", None)
        if pending is None:
            self._arrivals.append(None)
        with self._write:
            if pending is None:
                self._arrivals.pop()
            if adds:
                self._added = True
            if pending is None and self._open_since is None and not self._arrivals:
                return self._alone(sql, args, rows)
            db = self._begin()
            try:
                if pending:
                    self._flush(db, pending)
                out = _run(db, sql, args, rows)
            except BaseException:
                if not db.in_transaction:
                    self._lost()
                if pending is None:
                    self._commit()
                raise
            if pending is None:
                self._durable()
        return out

    def _durable(self) -> None:
        """Return once the open transaction, which holds this thread's write, is committed (the caller
        holds ``_write``). Group commit: while other durable writers wait for the writer, let them add
        theirs to it, and the last of them commits for all (a wait bounded by ``GROUP_WINDOW``)."""
        mine = self._opened
        while self._committed < mine:
            if self._lost_tx >= mine:
                raise sqlite3.OperationalError("the transaction holding this write failed to commit; it was not "
                                               "stored (see the error logged before)")
            if not self._arrivals or self._in_tx or not self._done.wait(GROUP_WINDOW):
                self._commit()  # (inside a tx() the writer must not be let go: its savepoint is open)

    def _alone(self, sql: str, args: Sequence[Any], rows: bool) -> Any:
        """A durable statement while no transaction is open (the caller holds ``_write``): in autocommit,
        SQLite takes the write lock as the statement starts (as BEGIN IMMEDIATE would) and commits as
        it ends, in one call instead of three."""
        db = self._writer
        if db is None:
            db = self._writer = self._connect()
        out = _run(db, sql, args, rows)
        if self._added:
            self._added = False
            self.notify()
        return out

    def writing(self) -> AbstractContextManager[Any]:
        """``with store.writing():`` holds the writer across several of this thread's writes (a worker's
        acknowledgements and its next lease): one acquisition, and no other writer between them."""
        return self._write

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: committed before the caller goes on, unless this thread defers
        (``deferring``), in which case it joins the shared transaction."""
        pending = getattr(self._local, "pending", None)
        with self._write:
            db = self._begin()
            if pending:
                self._flush(db, pending)
            db.execute("SAVEPOINT op")
            self._in_tx += 1
            try:
                yield db
            except BaseException:
                if db.in_transaction:  # some errors (disk full, I/O) end the whole transaction
                    db.execute("ROLLBACK TO op")
                    db.execute("RELEASE op")
                else:
                    self._lost()
                if pending is None:
                    self._commit()
                raise
            finally:
                self._in_tx -= 1
            db.execute("RELEASE op")
            if pending is None:
                self._commit()

    def _commit(self) -> None:
        """Commit the shared transaction, if one is open (the caller holds ``_write``)."""
        db = self._writer
        if db is not None and db.in_transaction:
            try:
                db.execute("COMMIT")
            finally:
                if not db.in_transaction:
                    self._open_since = None
                    self._committed = self._opened
                else:
                    self._lost()
                    db.execute("ROLLBACK")
                self._done.notify_all()
            if self._added:
                self._added = False
                self.notify()

    def _lost(self) -> None:
        self._open_since = None
        self._lost_tx = self._opened
        log.error("a write failed and ended the runtime's open transaction: its deliveries come back after their "
                  "lease (at-least-once)")

    @contextmanager
    def deferring(self) -> Iterator[None]:
        """This thread's writes (and reads, which must see them) go through the shared transaction,
        committed by ``commit`` / ``commit_if_older``, or by the next caller who does not defer; its
        blind writes (``write``) wait for its next statement, or run when it stops deferring."""
        self._local.pending = []
        try:
            yield
        finally:
            try:
                self.flush()
            finally:
                self._local.pending = None

    def flush(self) -> None:
        """Run this thread's pending writes now (in the shared transaction)."""
        pending = getattr(self._local, "pending", None)
        if pending:
            with self._write:
                self._flush(self._begin(), pending)

    def commit(self) -> None:
        """Commit the shared transaction, with this thread's pending writes."""
        pending = getattr(self._local, "pending", None)
        if pending or self._open_since is not None:
            with self._write:
                if pending:
                    self._flush(self._begin(), pending)
                self._commit()

    def commit_if_older(self, seconds: float) -> float | None:
        """``commit`` if the shared transaction began ``seconds`` ago or more; how long ago the one
        still open began, if one is."""
        since = self._open_since
        if since is not None and time.monotonic() - since >= seconds:
            self.commit()
        since = self._open_since
        return None if since is None else time.monotonic() - since

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        pending = getattr(self._local, "pending", None)
        if pending is not None:
            with self._write:
                if pending:
                    db = self._begin()
                    self._flush(db, pending)
                else:
                    db = self._writer
                    if db is None:
                        db = self._writer = self._connect()
                return db.execute(sql, args).fetchall()
        return self.conn().execute(sql, args).fetchall()

    def release_thread(self) -> None:
        """Close this thread's connection (a thread per HTTP connection must not leave one behind)."""
        db = getattr(self._local, "db", None)
        if db is None:
            return
        self._local.db = None
        with self._write:
            if db in self._all:
                self._all.remove(db)
        db.close()

    def close(self) -> None:
        with self._write:
            self._commit()
            for db in self._all:
                try:
                    db.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
            self._writer, self._open_since = None, None
        self._local = threading.local()

    # -- deliveries --
    def add(self, db: sqlite3.Connection, function: str, source: str, event: str, visible_at: float,
            group: str | None = None) -> None:
        """Queue one delivery (``copies`` of it); ``group``: its FIFO message group."""
        now = time.time()
        self._added = True
        for _ in range(self.copies):
            db.execute("INSERT INTO deliveries(function, source, event, visible_at, created, grp) VALUES (?,?,?,?,?,?)",
                       (function, source, event, visible_at, now, group))

    def deliver(self, functions: Sequence[str], source: str, event: str, visible_at: float,
                group: str | None = None) -> None:
        """Queue ``event`` for each of ``functions`` (``copies`` of each; ``group``: its FIFO message
        group) in one write; its commit wakes the dispatcher."""
        sql = "INSERT INTO deliveries(function, source, event, visible_at, created, grp) VALUES (?,?,?,?,?,?)"
        now = time.time()
        rows = [(fn, source, event, visible_at, now, group) for fn in functions for _ in range(self.copies)]
        if len(rows) == 1:
            self._statement(sql, rows[0], False, adds=True)
        else:
            with self.tx() as db:
                self._added = True
                db.executemany(sql, rows)

    def notify(self) -> None:
        if self.on_commit is not None:
            self.on_commit()

    def take(self, function: str, now: float, limit: int, visibility: float, fifo: bool = False) -> list[Delivery]:
        """Lease up to ``limit`` deliveries of ``function`` visible at ``now``, oldest first, for
        ``visibility`` seconds, in one statement. ``fifo``: in group order, and none whose group has an
        earlier delivery in flight or waiting for a retry (SQS FIFO's rule)."""
        if fifo:
            due = ("SELECT seq FROM deliveries d WHERE function=? AND visible_at<=? AND NOT EXISTS "
                   "(SELECT 1 FROM deliveries e WHERE e.function=d.function AND e.grp=d.grp "
                   "AND e.seq<d.seq AND e.visible_at>?) ORDER BY seq LIMIT ?")
            args: tuple[Any, ...] = (function, now, now, limit)
        else:
            due = (f"SELECT seq FROM deliveries WHERE function=? AND visible_at<=? "
                   f"ORDER BY {'random()' if self.shuffle else 'visible_at, seq'} LIMIT ?")
            args = (function, now, limit)
        rows = self._statement(f"UPDATE deliveries SET visible_at=?, leased=1, receives=receives+1 WHERE seq IN ({due}) "
                               "RETURNING seq, function, source, event, receives, grp", (now + visibility, *args), True)
        rows.sort()  # type: ignore[union-attr]
        return list(map(Delivery._make, rows))  # type: ignore[arg-type]

    def ack(self, leases: Sequence[tuple[int, int]], db: sqlite3.Connection | None = None) -> None:
        """Delete settled deliveries, each only if still under the lease (seq, receives) that ran it:
        ``receives`` is SQS's receipt handle, and a lease that expired and was taken again (the
        handler outlived its visibility timeout) is no longer ours to settle. In ``db``'s write if
        given, else a write of its own."""
        if not leases:
            return
        sql, args = _ack(len(leases)), [v for lease in leases for v in lease]
        if db is None:
            self._statement(sql, args, False)
        else:
            db.execute(sql, args)

    def next_due(self, functions: Sequence[str]) -> float | None:
        """When the earliest delivery of any of ``functions`` is (or was) due, None if they have none: one
        statement of an index lookup per function, on this thread's reader (committed deliveries: a
        commit that adds some calls ``on_commit``)."""
        if not functions:
            return None
        sql = " UNION ALL ".join(["SELECT MIN(visible_at) AS due FROM deliveries WHERE function=?"] * len(functions))
        return self.conn().execute(f"SELECT MIN(due) FROM ({sql})", functions).fetchall()[0][0]

    def release_leases(self) -> int:
        """Make every leased delivery visible now: called by a runtime that holds the data dir's lock,
        so whoever leased them is gone (a crash). Their receive count is kept."""
        with self.tx() as db:
            n = db.execute("UPDATE deliveries SET visible_at=?, leased=0 WHERE leased=1", (time.time(),)).rowcount
        return n

    def pending(self, function: str | None = None) -> int:
        if function is None:
            return self.read("SELECT COUNT(*) FROM deliveries")[0][0]
        return self.read("SELECT COUNT(*) FROM deliveries WHERE function=?", (function,))[0][0]

    # -- dead letters --
    def dead_letters(self, function: str | None = None) -> list[DeadRow]:
        sql = "SELECT seq, function, source, event, error_type, error, attempts, time FROM dead_letters"
        rows = self.read(sql + (" WHERE function=? ORDER BY seq" if function else " ORDER BY seq"),
                         (function,) if function else ())
        return [DeadRow(*r) for r in rows]

    def discard(self, seqs: list[int]) -> int:
        """Delete these dead letters for good; how many existed."""
        if not seqs:
            return 0
        with self.tx() as db:
            return db.execute(f"DELETE FROM dead_letters WHERE seq IN ({','.join('?' * len(seqs))})", seqs).rowcount

    def redrive(self, seqs: list[int] | None = None, function: str | None = None) -> int:
        """Move dead letters back to their function's deliveries, attempts reset."""
        where, args = [], []
        if seqs:
            where.append(f"seq IN ({','.join('?' * len(seqs))})")
            args += seqs
        if function:
            where.append("function=?")
            args.append(function)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        now = time.time()
        with self.tx() as db:
            rows = db.execute(f"SELECT seq, function, source, event FROM dead_letters{clause}", args).fetchall()
            for seq, fn, source, event in rows:
                self.add(db, fn, source, event, now)
                db.execute("DELETE FROM dead_letters WHERE seq=?", (seq,))
        return len(rows)
