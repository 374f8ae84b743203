"""Fixtures for the local runtime: an in-process LocalCloud, and `portside dev` as a real subprocess."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from portside.local import LocalCloud

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    """The test app running in this process on a fresh data dir (HTTP on a free port)."""
    from tests.local.e2e_app import app

    c = LocalCloud(app, tmp_path / "data", workers=4).start(0)
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Any]:
    """The console's test app running in this process (HTTP on a free port) with its console."""
    from portside.local.console import Console
    from tests.local.console_app import app

    cloud = LocalCloud(app, tmp_path / "data", workers=4)
    c = Console(cloud)  # before start(): it records what the runtime reports from the first event on
    cloud.start(0)
    c.start(0)
    try:
        yield c
    finally:
        c.stop()
        cloud.stop()


def wait_for(check: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


def request(url: str, method: str, path: str, body: bytes | dict | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    host = url.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=10)
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    try:
        conn.request(method, path, body=data, headers={"content-type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class Dev:
    """`python -m portside.local.cli dev` as a subprocess; stdout lines are collected as they come."""

    def __init__(self, app: str | None, data_dir: Path | None, *args: str, cwd: Path = ROOT) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        where = [*(["--app", app] if app else []), *(["--data-dir", str(data_dir)] if data_dir else [])]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "portside.local.cli", "dev", *where, "--port", "0", *args],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.err: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err), daemon=True).start()
        try:
            wait_for(lambda: any("Ctrl-C to stop" in l for l in self.lines) or self._dead(), 15,
                     "the last start-up line of `portside dev`")
            line = next(l for l in self.lines if "HTTP " in l)
        except BaseException:
            self.proc.kill()  # never leave a runtime behind
            self.proc.wait(10)
            raise
        self.url = line.split()[-1]
        console = next((l for l in self.lines if l.split()[:1] == ["console"]), None)
        self.console_url = console.split()[-1] if console else None

    def _dead(self) -> None:
        if self.proc.poll() is not None:
            time.sleep(0.1)
            raise AssertionError(f"portside dev exited {self.proc.returncode}: {''.join(self.err)[-2000:]}")

    @staticmethod
    def _pump(stream: Any, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode


def cli(*args: str, cwd: Path = ROOT, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as a real process (for what CliRunner cannot show: exit codes of a fresh interpreter)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "portside.local.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=30)
