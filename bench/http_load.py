"""The local runtime's HTTP server under a burst (issue 11): 64 simultaneous POSTs must all be accepted,
200 simultaneous GETs must answer with p99 under 1 s.

    .venv/bin/python -m bench.http_load             # 5 rounds of each burst
    .venv/bin/python -m bench.http_load --rounds 9

The runtime runs in its own process (``LocalCloud.start`` in a subprocess, as ``portside dev`` runs it),
serving a small app: POST /jobs queues the job (the 202 follows the SQLite commit) and a handler
stores it; GET /jobs/{id} reads it back. Each client opens its own connection and all are released at
once (a barrier), as a burst from many browsers would. Loopback only; bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.http_servers import burst, pct
from portside import App, HttpRequest, HttpResponse, Message

app = App("bench-http")
api = app.api("public")
jobs = app.queue("jobs")
done = app.table("done")
app.function("bench.http_load:accept", trigger=api.route("POST /jobs"), uses=[jobs.sender])
app.function("bench.http_load:read", trigger=api.route("GET /jobs/{id}"), uses=[done.reader])
app.function("bench.http_load:store", trigger=jobs.on_message(batch_size=10), uses=[done.writer])

ROOT = Path(__file__).resolve().parents[1]
POSTS, GETS = 64, 200
BUDGET_P99_MS = 1000.0


def accept(request: HttpRequest) -> HttpResponse:
    jobs.send(request.json())
    return HttpResponse(202)


def read(request: HttpRequest) -> dict:
    return done.get({"id": request.path_params["id"]}) or {}


def store(message: Message) -> None:
    done.put(message.json())


def serve(data_dir: str) -> None:
    """The runtime, in this (sub)process, until stdin closes."""
    from portside.local import LocalCloud

    with LocalCloud(app, data_dir).start(0) as cloud:
        print(cloud.url, flush=True)
        sys.stdin.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.Popen([sys.executable, "-m", "bench.http_load", "serve", d], cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            port = int(url.rsplit(":", 1)[1])
            accepted, p50s, p99s, maxes, failed_gets = [], [], [], [], []
            for rnd in range(args.rounds):
                posts = burst(port, POSTS, lambda i, r=rnd: ("POST", "/jobs", json.dumps({"id": f"r{r}-{i}"}).encode()))
                accepted.append(sum(status == 202 for status, _ in posts))
                time.sleep(0.5)  # let the handler store them
                gets = burst(port, GETS, lambda i, r=rnd: ("GET", f"/jobs/r{r}-{i % POSTS}", None))
                ok = [t * 1000 for status, t in gets if status == 200]
                failed_gets.append(GETS - len(ok))
                p50s.append(pct(ok, 50))
                p99s.append(pct(ok, 99))
                maxes.append(max(ok))
                print(f"round {rnd + 1}: {accepted[-1]}/{POSTS} POSTs accepted; GETs {len(ok)}/{GETS} ok, "
                      f"p50 {p50s[-1]:.1f} ms, p99 {p99s[-1]:.1f} ms, max {maxes[-1]:.1f} ms", flush=True)
        finally:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(30)
    figures = {
        "burst_64_posts": {"accepted_min": min(accepted), "of": POSTS, "budget": f"all {POSTS} accepted",
                           "pass": min(accepted) == POSTS},
        "burst_200_gets": {"p50_ms": round(statistics.median(p50s), 1), "p99_ms": round(statistics.median(p99s), 1),
                           "p99_spread_ms": [round(min(p99s), 1), round(max(p99s), 1)],
                           "max_ms": round(max(maxes), 1), "failed": sum(failed_gets),
                           "budget": f"p99 under {BUDGET_P99_MS:g} ms", "pass": max(p99s) < BUDGET_P99_MS and not sum(failed_gets)},
        "rounds": args.rounds,
    }
    print(f"64 simultaneous POSTs: {min(accepted)}-{max(accepted)} of {POSTS} accepted (budget: all)")
    print(f"200 simultaneous GETs: p50 {figures['burst_200_gets']['p50_ms']} ms, p99 {figures['burst_200_gets']['p99_ms']} ms "
          f"(spread {figures['burst_200_gets']['p99_spread_ms']}), max {figures['burst_200_gets']['max_ms']} ms, "
          f"{sum(failed_gets)} failed (budget: p99 < {BUDGET_P99_MS:g} ms)")
    from bench.results import record

    record("http-load", ".venv/bin/python -m bench.http_load", figures,
           notes="portside's local HTTP server (waitress) in its own process, each client on a new connection")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        main()
