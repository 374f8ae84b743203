"""Which HTTP server should the local runtime use? The candidates, measured on the same small app.

    python3 -m bench.http_servers            # installs the candidates into build/bench-http (not the project's venv)

Every candidate serves one app (POST /jobs: parse the JSON body, insert a row into SQLite in WAL
mode, 202; GET /jobs/ID: read it back, 200) in its own process on 127.0.0.1, and meets the same
load, round after round, the candidates interleaved so the shared machine's noise hits all alike:

- burst POST: 64 clients connect at once and POST (each on a new connection): how many are accepted;
- burst GET: 200 clients connect at once and GET: p50 / p99 / max latency, failures;
- slow clients: 300 connections send half a request line and stall, then 20 normal GETs: are they
  served, and how fast (a thread-per-connection server with no read timeout is stuck here);
- keep-alive: 4 clients x 500 GETs each on persistent connections: requests/s.

Candidates: the stdlib ``ThreadingHTTPServer`` as the runtime used it (listen backlog 5, no
timeouts), the same tuned by hand (backlog 1024, 10 s socket timeout), waitress, uvicorn +
starlette (sync endpoints in its thread pool), granian (WSGI). Only loopback traffic, bounded in
count and time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "build" / "bench-http"
PACKAGES = ["waitress", "uvicorn", "starlette", "granian"]
CANDIDATES = ["stdlib", "stdlib-tuned", "waitress", "uvicorn+starlette", "granian"]

# -- the app every candidate serves ------------------------------------------------------------
_local = threading.local()


def _db() -> sqlite3.Connection:
    db = getattr(_local, "db", None)
    if db is None:
        db = sqlite3.connect(os.environ["BENCH_DB"], isolation_level=None, timeout=10, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS jobs(id TEXT PRIMARY KEY, body TEXT)")
        _local.db = db
    return db


def handle(method: str, path: str, body: bytes) -> tuple[int, bytes]:
    if method == "POST" and path == "/jobs":
        try:
            job = json.loads(body)
            _db().execute("INSERT OR REPLACE INTO jobs VALUES (?, ?)", (str(job["id"]), body.decode()))
        except (ValueError, KeyError, TypeError, RecursionError) as e:
            return 400, json.dumps({"error": str(e)}).encode()
        return 202, json.dumps({"accepted": job["id"]}).encode()
    if method == "GET" and path.startswith("/jobs/"):
        row = _db().execute("SELECT body FROM jobs WHERE id=?", (path[6:],)).fetchone()
        return (200, row[0].encode()) if row else (404, b'{"error": "not found"}')
    return 404, b'{"error": "no route"}'


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    status, out = handle(environ["REQUEST_METHOD"], environ["PATH_INFO"], body)
    start_response(f"{status} X", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]


def serve(name: str, port: int) -> None:
    if name.startswith("stdlib"):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        tuned = name == "stdlib-tuned"

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10 if tuned else None

            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                status, out = handle(self.command, self.path, self.rfile.read(n) if n else b"")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_POST = do_GET

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024 if tuned else 5

        Server(("127.0.0.1", port), Handler).serve_forever()
    elif name == "waitress":
        import waitress

        waitress.serve(wsgi_app, host="127.0.0.1", port=port, threads=8, backlog=1024, connection_limit=1000,
                       channel_timeout=10, _quiet=True)
    elif name == "uvicorn+starlette":
        import uvicorn
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        async def endpoint(request: Request) -> Response:
            from starlette.concurrency import run_in_threadpool

            body = await request.body()
            status, out = await run_in_threadpool(handle, request.method, request.url.path, body)
            return Response(out, status, media_type="application/json")

        app = Starlette(routes=[Route("/{rest:path}", endpoint, methods=["GET", "POST"])])
        uvicorn.run(app, host="127.0.0.1", port=port, backlog=1024, log_level="error", timeout_keep_alive=10)
    elif name == "granian":
        os.execv(str(VENV / "bin" / "granian"), ["granian", "--interface", "wsgi", "--host", "127.0.0.1",
                                                  "--port", str(port), "--backlog", "1024", "--log-level", "error",
                                                  "--no-ws", "bench.http_servers:wsgi_app"])
    else:
        raise SystemExit(f"unknown candidate {name!r}")


# -- the load ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(name: str, db: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "BENCH_DB": db, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([str(VENV / "bin" / "python"), "-m", "bench.http_servers", "serve", name, str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{name} did not start")


def one(port: int, method: str, path: str, body: bytes | None, timeout: float = 30) -> tuple[int, float]:
    """(status or 0 for a failed connection, seconds)."""
    t = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"content-type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.perf_counter() - t
    except OSError:
        return 0, time.perf_counter() - t
    finally:
        conn.close()


def burst(port: int, n: int, make: Any) -> list[tuple[int, float]]:
    """``n`` clients released at once, each on its own new connection."""
    gate = threading.Barrier(n)
    out: list[tuple[int, float]] = [(0, 0.0)] * n

    def client(i: int) -> None:
        method, path, body = make(i)
        gate.wait()
        out[i] = one(port, method, path, body)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def slow_clients(port: int, n: int = 300) -> dict[str, Any]:
    socks = []
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(b"GET /jobs/x HTTP/1.1\r\nHost: loc")  # and stall
            socks.append(s)
        except OSError:
            break
    time.sleep(0.3)
    results = [one(port, "GET", "/jobs/j0", None, timeout=5) for _ in range(20)]
    for s in socks:
        s.close()
    ok = [t for status, t in results if status == 200]
    return {"held": len(socks), "served": len(ok), "p50_ms": round(statistics.median(ok) * 1000, 1) if ok else None}


def keep_alive(port: int, clients: int = 4, each: int = 500) -> float:
    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(each):
            conn.request("GET", "/jobs/j0")
            conn.getresponse().read()
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return clients * each / (time.perf_counter() - t)


def measure(name: str, rnd: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        proc, port = start(name, str(Path(d) / "bench.db"))
        try:
            one(port, "POST", "/jobs", b'{"id": "j0"}')
            posts = burst(port, 64, lambda i: ("POST", "/jobs", json.dumps({"id": f"r{rnd}-{i}"}).encode()))
            gets = burst(port, 200, lambda i: ("GET", "/jobs/j0", None))
            ok_gets = [t for s, t in gets if s == 200]
            slow = slow_clients(port)
            rps = keep_alive(port)
        finally:
            proc.kill()
            proc.wait()
    return {"posts_accepted": sum(s == 202 for s, _ in posts),
            "gets_ok": len(ok_gets), "get_p50_ms": pct(ok_gets, 50) * 1000, "get_p99_ms": pct(ok_gets, 99) * 1000,
            "get_max_ms": max(ok_gets) * 1000 if ok_gets else None,
            "slow_held": slow["held"], "served_while_slow": slow["served"], "keepalive_rps": rps}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(k: str) -> Any:
        vals = [r[k] for r in runs if r[k] is not None]
        return round(statistics.median(vals), 1) if vals else None

    def spread(k: str) -> list[Any]:
        vals = [r[k] for r in runs if r[k] is not None]
        return [round(min(vals), 1), round(max(vals), 1)] if vals else []

    return {"rounds": len(runs), "posts_accepted_of_64": med("posts_accepted"), "posts_accepted_min": min(r["posts_accepted"] for r in runs),
            "gets_ok_of_200": med("gets_ok"), "get_p50_ms": med("get_p50_ms"), "get_p99_ms": med("get_p99_ms"),
            "get_p99_spread_ms": spread("get_p99_ms"), "get_max_ms": med("get_max_ms"),
            "served_of_20_with_300_slow": med("served_while_slow"), "keepalive_rps": med("keepalive_rps"),
            "keepalive_rps_spread": spread("keepalive_rps")}


def ensure_venv() -> None:
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    missing = subprocess.run([str(VENV / "bin" / "python"), "-c", "import waitress, uvicorn, starlette, granian"],
                             capture_output=True).returncode
    if missing:
        subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", *PACKAGES], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=CANDIDATES)
    args = parser.parse_args()
    ensure_venv()
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in args.only}
    for rnd in range(args.rounds):
        for name in args.only:  # interleaved: each round meets every candidate
            runs[name].append(measure(name, rnd))
            print(f"round {rnd + 1} {name:18} {json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in runs[name][-1].items()})}",
                  flush=True)
    figures = {name: summary(r) for name, r in runs.items()}
    for name, f in figures.items():
        print(f"{name:18} POST 64 at once: {f['posts_accepted_min']}-{f['posts_accepted_of_64']} accepted | "
              f"GET 200 at once: p50 {f['get_p50_ms']} ms, p99 {f['get_p99_ms']} ms {f['get_p99_spread_ms']} | "
              f"300 slow clients: {f['served_of_20_with_300_slow']}/20 served | keep-alive {f['keepalive_rps']} req/s")
    from bench.results import record

    record("http-servers", "python3 -m bench.http_servers", figures,
           notes="candidates for the local runtime's HTTP server, same app, interleaved rounds; medians")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        main()
