"""Local runtime throughput against a bare SQLite pipeline doing the same work, in the same run.

    .venv/bin/python -m bench.local                 # 5 rounds of 5,000 messages, 8 workers
    .venv/bin/python -m bench.local --n 2000 --rounds 3 --workers 1
    .venv/bin/python -m bench.local --otel          # with OpenTelemetry's spans (bench/results/local-otel.json)

Both sides move N messages from a producer into a table through a durable queue, on the same
tables and indexes (``portside.local.store.SCHEMA`` and ``INDEXES``) and pragmas (WAL,
``PORTSIDE_SYNC``, default NORMAL), with the same durability: a send is committed before it returns.

* **local**: ``LocalCloud.send`` (each message committed before it returns: accepted = durable)
  to a queue whose handler (batch 10) writes one item per message through the table port.
* **bare**: what a user could write by hand with ``sqlite3``: the producer commits one insert
  per message; a consumer thread takes up to 10 due rows at a time and, in one transaction,
  writes their items and deletes them.

Two figures, each a ratio local / bare (budget: at least 0.5):
* **end to end**: the producer sends N while the consumer drains concurrently, until all N
  items are written;
* **drain**: N messages already queued (written beforehand, untimed), the consumer started.

Rounds alternate the two sides (and which goes first), so load from other processes on a
shared machine hits both; the ratio is the median of the per-round ratios, with its spread, from
wall time and, steadier on a busy machine, from the CPU time each side's process used.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from portside import App, Message

app = App("bench-local")
jobs = app.queue("bench-jobs")
results = app.table("results")
app.function("bench.local:store", trigger=jobs.on_message(batch_size=10), uses=[results.writer])

BUDGET = 0.5


def store(message: Message) -> None:
    job = message.json()
    results.put({"id": job["id"], "n": job["n"]})


def body(i: int) -> dict[str, object]:
    return {"id": f"m{i}", "n": i}


# -- the local runtime --
def local_end_to_end(data: Path, n: int, workers: int) -> tuple[float, float]:
    from portside.local import LocalCloud

    with LocalCloud(app, data, workers=workers).start(http=False) as cloud:
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(n):
            cloud.send("bench-jobs", body(i))
        cloud.wait_until_idle(300)
        elapsed = time.perf_counter() - t0, time.process_time() - c0
        assert len(cloud.items("results")) == n, "a message was lost"
    return elapsed


def local_drain(data: Path, n: int, workers: int) -> tuple[float, float]:
    from portside.local import LocalCloud

    loader = LocalCloud(app, data)
    for i in range(n):
        loader.send("bench-jobs", body(i))
    loader.store.close()
    cloud = LocalCloud(app, data, workers=workers)
    t0, c0 = time.perf_counter(), time.process_time()
    cloud.start(http=False)
    try:
        cloud.wait_until_idle(300)
        elapsed = time.perf_counter() - t0, time.process_time() - c0
        assert len(cloud.items("results")) == n, "a message was lost"
    finally:
        cloud.stop()
    return elapsed


# -- the bare pipeline --
def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL").fetchone()
    db.execute(f"PRAGMA synchronous={os.environ.get('PORTSIDE_SYNC', 'NORMAL')}")
    db.execute("PRAGMA busy_timeout=10000")
    return db


def bare_setup(data: Path) -> tuple[sqlite3.Connection, sqlite3.Connection, threading.Lock]:
    from portside.local.store import INDEXES, SCHEMA

    data.mkdir(parents=True, exist_ok=True)
    producer = connect(data / "bare.db")
    producer.executescript(SCHEMA + INDEXES)  # the runtime's tables and indexes
    return producer, connect(data / "bare.db"), threading.Lock()  # one writer at a time, as in the runtime


def bare_send(db: sqlite3.Connection, lock: threading.Lock, n: int) -> None:
    for i in range(n):
        event = json.dumps({"kind": "Message", "id": f"x{i}", "body": json.dumps(body(i))})
        with lock:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO deliveries(function, source, event, visible_at, created) VALUES (?,?,?,?,?)",
                       ("store", "queue bench-jobs", event, time.time(), time.time()))
            db.execute("COMMIT")


def bare_consume(db: sqlite3.Connection, lock: threading.Lock, n: int) -> None:
    done = 0
    while done < n:
        with lock:
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute("SELECT seq, event FROM deliveries WHERE function=? AND visible_at<=? "
                              "ORDER BY visible_at, seq LIMIT 10", ("store", time.time())).fetchall()
            for _, event in rows:
                job = json.loads(json.loads(event)["body"])
                db.execute("INSERT OR REPLACE INTO items VALUES (?,?,?,?)",
                           ("results", json.dumps(job["id"]), "", json.dumps({"id": job["id"], "n": job["n"]})))
            db.executemany("DELETE FROM deliveries WHERE seq=?", [(seq,) for seq, _ in rows])
            db.execute("COMMIT")
        done += len(rows)
        if not rows:
            time.sleep(0.0005)


def bare_end_to_end(data: Path, n: int, workers: int) -> tuple[float, float]:
    producer, consumer, lock = bare_setup(data)
    t0, c0 = time.perf_counter(), time.process_time()
    thread = threading.Thread(target=bare_consume, args=(consumer, lock, n))
    thread.start()
    bare_send(producer, lock, n)
    thread.join()
    return time.perf_counter() - t0, time.process_time() - c0


def bare_drain(data: Path, n: int, workers: int) -> tuple[float, float]:
    producer, consumer, lock = bare_setup(data)
    bare_send(producer, lock, n)
    t0, c0 = time.perf_counter(), time.process_time()
    bare_consume(consumer, lock, n)
    return time.perf_counter() - t0, time.process_time() - c0


# -- what a message costs, piece by piece --
def pieces(n: int = 2000, rounds: int = 7) -> dict[str, object]:
    """CPU µs per message of each piece of the runtime's work on a delivered message, each timed alone
    on the same data (median of ``rounds``), beside the bare pipeline's whole drain per message: what
    bounds the ratio. The runtime is not started: its store is driven here as its workers drive it."""
    from portside.delivery import invoke
    from portside.local import LocalCloud, codec

    def cpu_us(fn: Callable[[], object], per: int, setup: Callable[[], object] = lambda: None) -> float:
        runs = []
        for _ in range(rounds):
            setup()
            c0 = time.process_time()
            fn()
            runs.append((time.process_time() - c0) / per * 1e6)
        return round(statistics.median(runs), 2)

    with tempfile.TemporaryDirectory() as d:
        producer, consumer, lock = bare_setup(Path(d) / "bare")
        bare = []
        for _ in range(rounds):
            producer.execute("DELETE FROM items")
            bare_send(producer, lock, n)
            c0 = time.process_time()
            bare_consume(consumer, lock, n)
            bare.append((time.process_time() - c0) / n * 1e6)
        cloud = LocalCloud(app, Path(d) / "local")
        for i in range(n):
            cloud.send("bench-jobs", body(i))
        fn = app.get_function("store")
        store_ = cloud.store
        leased = store_.take(fn.name, time.time(), n, 60.0)
        texts = [row.event for row in leased]
        events = [codec.load(t) for t in texts]
        noop = type(fn)(name="noop", handler="bench.local:noop", trigger=fn.trigger, uses=fn.uses)

        def handler_writes() -> None:
            with store_.deferring():
                for e in events:
                    invoke(fn, cloud, e)
                store_.commit()

        def lease_and_ack() -> None:
            with store_.deferring():
                for _ in range(0, n, 10):
                    store_.ack([(r.seq, r.receives) for r in store_.take(fn.name, time.time() + 120, 10, 60.0)])
                store_.commit()

        def refill() -> None:  # untimed: the deliveries the next round leases
            store_.execute("DELETE FROM deliveries")
            with store_.tx() as db:
                db.executemany("INSERT INTO deliveries(function, source, event, visible_at, created, grp) "
                               "VALUES (?,?,?,?,?,?)", [(fn.name, "queue bench-jobs", t, 0.0, 0.0, None) for t in texts])
        out = {
            "bare pipeline, whole drain": {"us": round(statistics.median(bare), 2)},
            "reading the stored event (codec.load)": {"us": cpu_us(lambda: [codec.load(t) for t in texts], n)},
            "invoke() around a handler that does nothing": {"us": cpu_us(lambda: [invoke(noop, cloud, e) for e in events], n)},
            "invoke() and the handler: message.json(), results.put(...) (contract, port, SQLite; one commit)":
                {"us": cpu_us(handler_writes, n)},
            "leasing and acknowledging in batches of 10 (SQLite)": {"us": cpu_us(lease_and_ack, n, refill)},
        }
        store_.close()
    for name, fig in out.items():
        fig["unit"] = "CPU µs per message"
    return out


def noop(message: Message) -> None:
    """What ``pieces`` runs to time ``invoke()`` alone."""


# -- the comparison --
Case = Callable[[Path, int, int], tuple[float, float]]  # (wall seconds, CPU seconds of the process)


def compare(local: Case, bare: Case, n: int, rounds: int, workers: int) -> dict[str, object]:
    """Alternate the two sides ``rounds`` times; per-round rates and ratios, then median and spread.

    ``ratio`` is wall time (what a user waits); ``cpu_ratio`` the same from the CPU time each side's
    process used, which other processes on a shared machine disturb far less."""
    ratios, cpu_ratios, local_rates, bare_rates = [], [], [], []
    for r in range(rounds):
        times = {}
        for side, case in ((("local", local), ("bare", bare)) if r % 2 == 0 else (("bare", bare), ("local", local))):
            with tempfile.TemporaryDirectory() as d:
                times[side] = case(Path(d), n, workers)
        local_rates.append(n / times["local"][0])
        bare_rates.append(n / times["bare"][0])
        ratios.append(times["bare"][0] / times["local"][0])
        cpu_ratios.append(times["bare"][1] / times["local"][1])
    return {"ratio": round(statistics.median(ratios), 3), "spread": [round(min(ratios), 3), round(max(ratios), 3)],
            "cpu_ratio": round(statistics.median(cpu_ratios), 3),
            "cpu_spread": [round(min(cpu_ratios), 3), round(max(cpu_ratios), 3)],
            "local_per_s": round(statistics.median(local_rates)), "bare_per_s": round(statistics.median(bare_rates)),
            "budget": BUDGET, "unit": "x a bare SQLite pipeline (higher is better)"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="messages per run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=8, help="the runtime's worker pool (its default: 8)")
    parser.add_argument("--otel", action="store_true",
                        help="with OpenTelemetry spans (installed in the dev venv, not by portside[local])")
    parser.add_argument("--no-record", action="store_true", help="print only; do not write bench/results/")
    parser.add_argument("--pieces", action="store_true", help="only what a message costs, piece by piece")
    args = parser.parse_args(argv)
    logging.getLogger("portside").setLevel(logging.WARNING)
    # As `pip install portside[local]` runs it: without OpenTelemetry (PORTSIDE_OTEL=0 stands for its absence)
    os.environ["PORTSIDE_OTEL"] = "1" if args.otel else "0"
    figures: dict[str, dict[str, object]] = {}
    for name, local, bare in (("end to end", local_end_to_end, bare_end_to_end), ("drain", local_drain, bare_drain)):
        if args.pieces:
            break
        fig = figures[name] = compare(local, bare, args.n, args.rounds, args.workers)
        print(f"{name:>10}: local {fig['local_per_s']:>6,}/s  bare SQLite {fig['bare_per_s']:>6,}/s  "
              f"ratio {fig['ratio']:.2f} (spread {fig['spread'][0]:.2f}-{fig['spread'][1]:.2f}), by CPU time "
              f"{fig['cpu_ratio']:.2f} ({fig['cpu_spread'][0]:.2f}-{fig['cpu_spread'][1]:.2f}); budget >= {BUDGET}",
              flush=True)
    cost = pieces()
    for name, fig in cost.items():
        print(f"  {name:<100} {fig['us']:6.2f} CPU µs/message", flush=True)
    figures.update({f"  per message: {name}": fig for name, fig in cost.items()})
    if not args.no_record and not args.pieces:
        from bench.results import record

        command = (f"python -m bench.local --n {args.n} --rounds {args.rounds} --workers {args.workers}"
                   + (" --otel" if args.otel else ""))
        record("local-otel" if args.otel else "local", command, figures,
               notes=f"{args.n} messages per run, {args.workers} workers, "
                     f"PORTSIDE_SYNC={os.environ.get('PORTSIDE_SYNC', 'NORMAL')}, OpenTelemetry "
                     + ("installed (a span per invocation)" if args.otel else "not installed (portside[local])"))


if __name__ == "__main__":
    from bench.local import main as main_of_the_module  # the app's handler module, not a second one in __main__

    main_of_the_module()
