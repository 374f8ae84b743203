"""The local HTTP server behaves like a production one (issue 11): bursts, slow clients, keep-alive,
chunked bodies, bodies that never arrive whole, JSON nested too deep. Throughput and tail latency
under load are measured in bench/ (``python -m bench.http_load``), not here."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from portside.local import LocalCloud
from portside.local import http as server
from tests.local.conftest import request, wait_for


def port_of(cloud: LocalCloud) -> int:
    assert cloud.url
    return int(cloud.url.rsplit(":", 1)[1])


def exchange(port: int, data: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return reply


def test_json_nested_a_thousand_deep_is_a_400_not_a_500(cloud: LocalCloud) -> None:
    status, body = request(cloud.url, "POST", "/notes", b"[" * 1500 + b"]" * 1500)
    assert status == 400 and "nested too deep" in json.loads(body)["error"]


def test_a_chunked_body_is_decoded(cloud: LocalCloud) -> None:
    body = b'{"id": "chunked"}'
    reply = exchange(port_of(cloud), b"POST /notes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 202")
    wait_for(lambda: cloud.table("notes").get({"id": "chunked"}), what="the chunked note")


def test_a_body_that_never_arrives_whole_runs_nothing(cloud: LocalCloud) -> None:
    reply = exchange(port_of(cloud), b'POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{"id": "half"')
    assert reply == b""  # the client hung up mid-body: no answer, and the handler never ran
    time.sleep(0.2)
    assert cloud.table("notes").get({"id": "half"}) is None and cloud.store.pending() == 0


def test_keep_alive_serves_many_requests_on_one_connection(cloud: LocalCloud) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port_of(cloud), timeout=5)
    try:
        for i in range(20):
            conn.request("POST", "/notes", body=json.dumps({"id": f"ka{i}"}), headers={"content-type": "application/json"})
            resp = conn.getresponse()
            assert resp.status == 202 and resp.getheader("connection") != "close"
            resp.read()
        sock = conn.sock
        conn.request("GET", "/notes/ka0")
        conn.getresponse().read()
        assert conn.sock is sock  # the same connection all along
    finally:
        conn.close()


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LocalCloud]:
    monkeypatch.setattr(server.Server, "read_timeout", 1.0)
    from tests.local.e2e_app import app

    with LocalCloud(app, tmp_path / "data", workers=2).start(0) as c:
        yield c


def test_a_request_trickling_in_is_cut_off_and_slow_clients_hold_no_handler_thread(short_timeouts: LocalCloud) -> None:
    cloud = short_timeouts
    port = port_of(cloud)
    slow = []
    for _ in range(server.THREADS * 3):  # more stalled clients than handler threads
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"POST /notes HTTP/1.1\r\nHost: x\r\n")  # headers never finish
        slow.append(s)
    try:
        assert request(cloud.url, "POST", "/notes", {"id": "fast"})[0] == 202  # still served at once
        trickler = slow[0]

        def trickle() -> None:  # a byte every 0.2 s keeps the connection busy, never idle
            try:
                for _ in range(40):
                    trickler.sendall(b"X")
                    time.sleep(0.2)
            except OSError:
                pass

        threading.Thread(target=trickle, daemon=True).start()
        started = time.monotonic()
        assert trickler.recv(1024) == b""  # closed by the server: the request took too long to arrive
        assert time.monotonic() - started < 6
    finally:
        for s in slow:
            s.close()


def test_a_burst_of_simultaneous_connections_is_accepted(cloud: LocalCloud) -> None:
    n = 64
    gate = threading.Barrier(n)
    statuses: list[int] = []

    def post(i: int) -> None:
        gate.wait()
        try:
            statuses.append(request(cloud.url, "POST", "/notes", {"id": f"burst{i}"})[0])
        except OSError as e:
            statuses.append(-1)
            raise AssertionError(f"connection failed: {e}") from e

    threads = [threading.Thread(target=post, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(202) == n
    cloud.wait_until_idle()
    assert len(cloud.items("notes")) == n


def test_the_server_answers_its_own_errors_in_json(cloud: LocalCloud) -> None:
    reply = exchange(port_of(cloud), b"POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b"application/json" in head
    assert "exceeds max_body" in json.loads(body)["error"]
