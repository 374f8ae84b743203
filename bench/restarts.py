"""Load and crashes on the local runtime: 5,000 POSTs from 20 clients, `portside dev` killed with
SIGKILL three times mid-stream and restarted; every accepted request's effect must be there once.

    .venv/bin/python -m bench.restarts                 # 5,000 POSTs, 20 clients, 3 kills
    .venv/bin/python -m bench.restarts --n 1000 --kills 1

POST /items queues the item (the 202 follows the commit: accepted = durable); ``store_item``
(``@idempotent``, batches of 10) writes it to ``items`` and appends a row per run to ``applied``.
A client whose request fails (the runtime is down) waits for the restart and sends the same
item again, as a real client would. At a quarter, half and three quarters of the stream the
runtime is killed; the coordinator restarts it on the same data dir and times how fast it drains
the backlog the kill left (clients held back meanwhile), from starting the process to an empty
queue, against the same for a backlog of the same size that no crash left (the normal rate),
measured in the same run.

Checked, not only printed: every item sent is in ``items`` once, nothing is dead-lettered, no
traceback in the runtime's output; an item run twice (``applied``) can only be one a kill cut
in the middle of its run. Figures go to ``bench/results/restarts.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from portside import App, HttpRequest, HttpResponse, Message, idempotent

app = App("bench-restarts")
api = app.api("public")
item_jobs = app.queue("item-jobs")
items = app.table("items")
applied = app.table("applied")
seen = app.table("seen", ttl="expires_at")
app.function("bench.restarts:accept", trigger=api.route("POST /items"), uses=[item_jobs.sender])
app.function("bench.restarts:store_item", trigger=item_jobs.on_message(batch_size=10),
             uses=[items.writer, applied.writer, seen.read_write])
ROOT = Path(__file__).resolve().parents[1]
APP = "bench.restarts:app"


def accept(request: HttpRequest) -> HttpResponse:
    item_jobs.send(request.body)
    return HttpResponse(202)


@idempotent(seen, key=lambda m: m.json()["id"])
def store_item(message: Message) -> None:
    item = message.json()
    time.sleep(0.002)  # a little work (an API call, an image), so a backlog builds up behind the stream
    applied.put({"id": f"{item['id']}#{time.time_ns()}", "item": item["id"]})  # one row per run
    items.put({"id": item["id"]})


class Runtime:
    """`portside dev` as a child process."""

    def __init__(self, data: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "portside.local.cli", "dev", "--app", APP, "--data-dir",
                                      str(data), "--port", "0", "--quiet"], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.err: list[str] = []
        threading.Thread(target=lambda: self.err.extend(self.proc.stderr), daemon=True).start()  # type: ignore[arg-type]
        for line in self.proc.stdout:  # type: ignore[union-attr]
            if "HTTP " in line:
                self.url = line.split()[-1].removeprefix("http://")
                break
        else:
            raise RuntimeError(f"portside dev did not start: {''.join(self.err)[-2000:]}")
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()  # type: ignore[union-attr]

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


def query(db: Path, sql: str, args: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def pending(db: Path) -> int:
    return query(db, "SELECT COUNT(*) FROM deliveries WHERE function != ''")[0][0]


def drain_time(db: Path, start: float, timeout: float = 300) -> float:
    while pending(db):
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"backlog not drained after {timeout}s")
        time.sleep(0.01)
    return time.monotonic() - start


class Load:
    """``clients`` threads POSTing their share of ``n`` items on keep-alive connections."""

    def __init__(self, n: int, clients: int) -> None:
        self.n, self.clients = n, clients
        self.accepted: list[str] = []
        self.failures = 0
        self.url = ""
        self.up = threading.Event()
        self.lock = threading.Lock()

    def client(self, k: int) -> None:
        todo = [f"c{k}-{i}" for i in range(k, self.n, self.clients)]
        conn: http.client.HTTPConnection | None = None
        while todo:
            self.up.wait()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.url, timeout=30)
                conn.request("POST", "/items", body=json.dumps({"id": todo[0]}),
                             headers={"content-type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                if resp.status != 202:
                    raise RuntimeError(f"POST answered {resp.status}")
                with self.lock:
                    self.accepted.append(todo.pop(0))
            except (OSError, http.client.HTTPException, RuntimeError):
                with self.lock:
                    self.failures += 1
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)  # the runtime is down: wait for it, then send the same item again


def normal_drain(n: int) -> float:
    """Seconds from starting `portside dev` to an empty queue, on a backlog of ``n`` no crash left."""
    from portside.local import LocalCloud

    with tempfile.TemporaryDirectory() as d:
        client = LocalCloud(app, d)
        for i in range(n):
            client.send("item-jobs", {"id": f"b{i}"})
        client.store.close()
        t0 = time.monotonic()  # from the start of the process, as after a kill
        runtime = Runtime(Path(d))
        try:
            elapsed = drain_time(Path(d) / "portside.db", t0)
        finally:
            runtime.stop()
    return elapsed


def run(n: int, clients: int, kills: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as d:
        data = Path(d)
        db = data / "portside.db"
        load = Load(n, clients)
        runtime = Runtime(data)
        load.url = runtime.url
        load.up.set()
        threads = [threading.Thread(target=load.client, args=(k,), daemon=True) for k in range(clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        restarts, errors = [], list[str]()
        for k in range(1, kills + 1):
            while len(load.accepted) < n * k / (kills + 1):
                time.sleep(0.005)
            load.up.clear()
            runtime.kill()
            errors += runtime.err
            backlog = pending(db)
            in_progress = query(db, "SELECT COUNT(*) FROM items WHERE tbl='seen' AND item LIKE '%in_progress%'")[0][0]
            t0 = time.monotonic()
            runtime = Runtime(data)
            took = drain_time(db, t0)
            restarts.append({"backlog": backlog, "in_progress_at_kill": in_progress, "seconds": round(took, 3)})
            print(f"kill {k}: {len(load.accepted)} accepted, backlog {backlog} ({in_progress} cut mid-run): "
                  f"drained {took:.2f} s after the restart", flush=True)
            load.url = runtime.url
            load.up.set()
        for t in threads:
            t.join()
        drain_time(db, time.monotonic())
        elapsed = time.monotonic() - started
        code = runtime.stop()
        errors += runtime.err
        stored = Counter(json.loads(r[0])["id"] for r in query(db, "SELECT item FROM items WHERE tbl='items'"))
        runs = Counter(json.loads(r[0])["item"] for r in query(db, "SELECT item FROM items WHERE tbl='applied'"))
        dead = query(db, "SELECT COUNT(*) FROM dead_letters")[0][0]
    sent = {f"c{k}-{i}" for k in range(clients) for i in range(k, n, clients)}
    missing, extra = sent - set(stored), set(stored) - sent
    twice = sum(1 for v in runs.values() if v > 1)
    tracebacks = sum("Traceback" in line for line in errors)
    assert not missing, f"{len(missing)} accepted items lost, e.g. {sorted(missing)[:3]}"
    assert not extra and max(stored.values()) == 1 and dead == 0 and code == 0, (extra, dead, code)
    assert tracebacks == 0, "".join(errors)[-3000:]
    assert twice <= sum(int(r["in_progress_at_kill"]) for r in restarts), "an item ran twice without a kill mid-run"
    return {"accepted": len(load.accepted), "lost": 0, "failed_requests_retried": load.failures,
            "effects_twice": 0, "runs_twice_cut_by_a_kill": twice, "dead_letters": dead, "tracebacks": tracebacks,
            "requests_per_s": round(n / elapsed), "restarts": restarts}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="items POSTed")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    figures = run(args.n, args.clients, args.kills)
    restarts: list[dict[str, float]] = figures["restarts"]  # type: ignore[assignment]
    for r in restarts:  # the same backlog, left by no crash: the normal time
        r["normal_seconds"] = round(normal_drain(int(r["backlog"])), 3)
        r["ratio_to_normal"] = round(r["normal_seconds"] / r["seconds"], 2)
    print(f"{figures['accepted']} accepted from {args.clients} clients ({figures['requests_per_s']}/s overall), "
          f"{figures['failed_requests_retried']} failed while down and sent again; lost 0, effects twice 0, "
          f"runs twice {figures['runs_twice_cut_by_a_kill']} (cut mid-run by a kill), dead letters 0, tracebacks 0")
    for k, r in enumerate(restarts, 1):
        print(f"restart {k}: backlog {r['backlog']} drained {r['seconds']:.2f} s from the process start; the same "
              f"backlog with no crash {r['normal_seconds']:.2f} s (normal / after the kill: {r['ratio_to_normal']})")
    if not args.no_record:
        from bench.results import record

        record("restarts", f"python -m bench.restarts --n {args.n} --clients {args.clients} --kills {args.kills}",
               figures)


if __name__ == "__main__":
    from bench.restarts import main as main_of_the_module  # the app's handler module, not a second one in __main__

    main_of_the_module()
