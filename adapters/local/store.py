"""The durable state of the local runtime: one SQLite file (WAL) in the data directory.

Queues, topic subscriptions, object triggers and schedule ticks all become rows in
``deliveries``: one row per (function, event), leased SQS-style by moving ``visible_at``
past the lease (the visibility timeout), so an event whose worker died reappears.
A delivery is committed before the call that produced it returns (an HTTP 202, a publish),
which is what makes an accepted message survive a crash. ``synchronous=NORMAL`` in WAL mode
survives a killed process; only an OS crash or power loss may lose the last commits.
``PORTSIDE_SYNC=FULL`` fsyncs every commit and survives those too, at a cost in throughput.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portside.local.errors import LocalError

DB_NAME = "portside.db"

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
CREATE INDEX IF NOT EXISTS deliveries_visible ON deliveries(visible_at);
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
INDEXES = "CREATE INDEX IF NOT EXISTS deliveries_grp ON deliveries(function, grp, seq);"


@dataclass(frozen=True, slots=True)
class Delivery:
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
    """Thread-safe access to the SQLite file: a connection per thread, one writer at a time.

    Writes in this process take a lock so SQLite never has to make a thread sleep-and-retry
    (its busy handler sleeps in whole milliseconds); other processes (``portside emit``)
    still meet ``busy_timeout``.
    """

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(data_dir)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
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
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._write = threading.RLock()
        self.on_commit: Any = None  # called after a commit that added deliveries (wakes the dispatcher)
        self.copies = 1  # deliveries made per event: more to inject duplicates (the test client's inject)
        self.shuffle = False  # lease due deliveries in random order (inject(reorder=True)); FIFO keeps order
        try:
            db = self.conn()
            db.executescript(SCHEMA)
            if "grp" not in [r[1] for r in db.execute("PRAGMA table_info(deliveries)")]:
                db.execute("ALTER TABLE deliveries ADD COLUMN grp TEXT")  # a data dir from before FIFO groups
            db.executescript(INDEXES)
        except sqlite3.DatabaseError as e:
            raise self._explain(e) from None

    def _explain(self, e: sqlite3.Error) -> LocalError:
        if isinstance(e, sqlite3.OperationalError) and "unable to open" in str(e):
            return LocalError(f"cannot open {str(self.path)!r} ({e}): check the data directory's permissions "
                              "or pass --data-dir DIR")
        return LocalError(f"{str(self.path)!r} is not a usable SQLite database ({e}): move it aside "
                          "(it holds the local queues and tables) or pass --data-dir DIR")

    def conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
                db.execute("PRAGMA journal_mode=WAL").fetchone()
                db.execute(f"PRAGMA synchronous={self.synchronous}")
                db.execute("PRAGMA busy_timeout=10000")
            except sqlite3.Error as e:
                raise self._explain(e) from None
            self._local.db = db
            with self._write:
                self._all.append(db)
        return db

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed before the block's caller goes on."""
        db = self.conn()
        with self._write:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
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
            for db in self._all:
                try:
                    db.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()

    # -- deliveries --
    def add(self, db: sqlite3.Connection, function: str, source: str, event: str, visible_at: float,
            group: str | None = None) -> None:
        """Queue one delivery (``copies`` of it); ``group``: its FIFO message group."""
        now = time.time()
        for _ in range(self.copies):
            db.execute("INSERT INTO deliveries(function, source, event, visible_at, created, grp) VALUES (?,?,?,?,?,?)",
                       (function, source, event, visible_at, now, group))

    def notify(self) -> None:
        if self.on_commit is not None:
            self.on_commit()

    def due(self, function: str, now: float, limit: int, fifo: bool = False) -> list[int]:
        """Up to ``limit`` deliveries of ``function`` visible at ``now``. ``fifo``: in group order, and
        none whose group has an earlier delivery in flight or waiting for a retry (SQS FIFO's rule)."""
        if fifo:
            rows = self.read("SELECT seq FROM deliveries d WHERE function=? AND visible_at<=? AND NOT EXISTS "
                             "(SELECT 1 FROM deliveries e WHERE e.function=d.function AND e.grp=d.grp "
                             "AND e.seq<d.seq AND e.visible_at>?) ORDER BY seq LIMIT ?", (function, now, now, limit))
        else:
            order = "random()" if self.shuffle else "visible_at, seq"
            rows = self.read(f"SELECT seq FROM deliveries WHERE function=? AND visible_at<=? ORDER BY {order} "
                             "LIMIT ?", (function, now, limit))
        return [r[0] for r in rows]

    def lease(self, seqs: list[int], now: float, visibility: float) -> list[Delivery]:
        """Take ``seqs`` for ``visibility`` seconds; each take counts as a receive (the attempt)."""
        marks = ",".join("?" * len(seqs))
        with self.tx() as db:
            rows = db.execute(f"UPDATE deliveries SET visible_at=?, leased=1, receives=receives+1 "
                              f"WHERE seq IN ({marks}) AND visible_at<=? "
                              f"RETURNING seq, function, source, event, receives, grp",
                              (now + visibility, *seqs, now)).fetchall()
        rows.sort()
        return [Delivery(*r) for r in rows]

    def next_due(self) -> float | None:
        row = self.read("SELECT MIN(visible_at) FROM deliveries WHERE function != ''")
        return row[0][0] if row else None

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
        if rows:
            self.notify()
        return len(rows)
