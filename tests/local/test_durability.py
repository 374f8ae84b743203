"""Accepted = durable: SIGKILL `portside dev` in the middle of a stream of POSTs, restart it on the
same data dir, and every message that got its 202 (or whose publish returned) is processed, its
effect applied once."""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

from tests.local.conftest import Dev, wait_for

APP = "tests.local.durable_app:app"


def stream(url: str, accepted: list[int], stop: threading.Event, start: int) -> None:
    """POST items start, start+1... on one keep-alive connection; a 202 means accepted, nothing else does."""
    host = url.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=5)
    n = start
    while not stop.is_set():
        try:
            conn.request("POST", "/items", body=json.dumps({"id": f"item-{n}", "n": n}),
                         headers={"content-type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            if resp.status == 202:
                accepted.append(n)
        except (OSError, http.client.HTTPException):  # the runtime is gone: what was not answered was not accepted
            return
        n += 1


def publish(data: Path, accepted: list[int], stop: threading.Event) -> None:
    """Another process's view: publish through a client of the data dir; a publish that returned is accepted."""
    from portside.local import LocalCloud
    from tests.local.durable_app import app

    client = LocalCloud(app, data)
    n = 0
    while not stop.is_set():
        client.publish("item-events", {"id": f"pub-{n}", "n": n})
        accepted.append(n)
        n += 1
        time.sleep(0.001)
    client.store.close()


def rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_sigkill_mid_stream_loses_no_accepted_message_and_applies_each_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    dev = Dev(APP, data, "--quiet", "--workers", "2")
    accepted: list[int] = []
    stop = threading.Event()
    senders = [threading.Thread(target=stream, args=(dev.url, accepted, stop, k * 1_000_000)) for k in range(2)]
    published: list[int] = []
    senders.append(threading.Thread(target=publish, args=(data, published, stop)))
    for s in senders:
        s.start()
    db = data / "portside.db"
    try:
        wait_for(lambda: len(accepted) >= 400, 20, "400 accepted messages")
        wait_for(lambda: rows(db, "SELECT COUNT(*) FROM items WHERE tbl='items'")[0][0] > 50, 10,
                 "processing under way")
    finally:
        dev.kill()  # SIGKILL: no cleanup, in-flight leases and half-run handlers left behind
        stop.set()
    stop.set()
    for s in senders:
        s.join(10)
    assert dev.proc.returncode == -9

    # What the kill interrupted, read from the data dir as the crash left it:
    pending = rows(db, "SELECT COUNT(*) FROM deliveries")[0][0]
    leased = rows(db, "SELECT COUNT(*) FROM deliveries WHERE leased=1")[0][0]
    cut = {json.loads(r[0])["id"].split("#", 1)[1] for r in
           rows(db, "SELECT item FROM items WHERE tbl='seen' AND item LIKE '%in_progress%'")}
    assert pending > 0, "the kill came after everything was processed: the test proved nothing"

    again = Dev(APP, data, "--quiet", "--workers", "2")
    try:
        want = {f"item-{n}" for n in accepted} | {f"pub-{n}" for n in published}
        wait_for(lambda: want <= {json.loads(r[0])["id"] for r in rows(db, "SELECT item FROM items WHERE tbl='items'")},
                 20, "every accepted item stored after the restart")
        wait_for(lambda: rows(db, "SELECT COUNT(*) FROM deliveries")[0][0] == 0, 10, "the queue drained")
    finally:
        assert again.stop() == 0
    runs = Counter(json.loads(r[0])["item"] for r in rows(db, "SELECT item FROM items WHERE tbl='applied'"))
    assert set(runs) >= want
    # Each effect once; the only exception allowed is a handler the kill cut in the middle of its
    # own run (at-least-once: the restart takes its in-progress record over and runs it again).
    twice = {k for k, v in runs.items() if v > 1}
    assert twice <= cut, f"applied more than once without a crash mid-run: {sorted(twice - cut)}"
    assert max(runs.values()) <= 2
    assert rows(db, "SELECT COUNT(*) FROM dead_letters")[0][0] == 0
    print(f"accepted {len(accepted)} POSTs + {len(published)} publishes, pending at the kill {pending} ({leased} leased), cut mid-run {len(cut)}, re-run {len(twice)}")
