"""The local runtime as a test client (``portside.testing.TestClient``), like the fake cloud.

    with LocalCloud(app, tmp_path) as cloud:       # the same test, durable and threaded
        cloud.send(jobs, {"n": 1})
        cloud.run_until_idle()                     # starts the runtime if nothing runs on the data dir
        assert cloud.items(ledger) == [...]

What it remembers of messages and invocations is this process's view (a bounded history);
the data directory itself holds only what is pending, the tables, buckets and dead letters.
"""

from __future__ import annotations

import json as jsonlib
import threading
import urllib.error
import urllib.request
from collections import defaultdict, deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from portside.declarations import Queue, Topic
from portside.delivery import Outcome
from portside.events import Headers, HttpResponse, Message
from portside.testing import FunctionRef, TestClient

HISTORY = 10_000  # messages and outcomes remembered per resource and function


class LocalTestClient(TestClient):
    """The parts of ``TestClient`` the local runtime implements apart from running."""

    url: str | None
    store: Any

    def _init_client(self) -> None:
        self._history: dict[str, deque[Outcome]] = defaultdict(lambda: deque(maxlen=HISTORY))
        self._messages: dict[tuple[str, str], deque[Message]] = defaultdict(lambda: deque(maxlen=HISTORY))
        self._failures: dict[str, list[BaseException]] = defaultdict(list)
        self._client_lock = threading.Lock()
        self._started = False

    # -- what the runtime and the ports report --
    def _record(self, kind: str, name: str, message: Message) -> None:
        with self._client_lock:  # workers append while a test reads
            self._messages[(kind, name)].append(message)

    def _invoked(self, function: str, outcome: Outcome) -> None:
        with self._client_lock:
            self._history[function].append(outcome)

    def _injected(self, function: str) -> BaseException | None:
        with self._client_lock:
            failures = self._failures.get(function)
            return failures.pop(0) if failures else None

    # -- misbehaving on purpose --
    def inject(self, *, duplicates: int = 0, reorder: bool = False) -> None:
        self.store.copies, self.store.shuffle = 1 + max(0, duplicates), reorder

    def fail_next(self, function: FunctionRef, times: int = 1, error: BaseException | None = None) -> None:
        name = self.function(function).name
        with self._client_lock:
            self._failures[name].extend([error or RuntimeError(f"injected failure in {name}")] * times)

    # -- running --
    def _ensure_running(self) -> str | None:
        """The URL of the runtime serving the data dir, starting this one if none runs."""
        if self.url is None and not self._started:
            other = self.other_runtime()
            if other is not None:
                return other.get("url")
            self.start()  # type: ignore[attr-defined]
        return self.url

    def other_runtime(self) -> dict[str, Any] | None:
        """What another process running on this data dir wrote about itself (pid, url), if one runs."""
        raise NotImplementedError

    def run_until_idle(self, timeout: float = 30.0) -> list[Outcome]:
        """Wait until nothing is pending or in flight; the outcomes recorded meanwhile."""
        with self._client_lock:
            before = {name: len(h) for name, h in self._history.items()}
        self._ensure_running()
        self.wait_until_idle(timeout)  # type: ignore[attr-defined]
        with self._client_lock:
            return [o for name, h in self._history.items() for o in list(h)[before.get(name, 0):]]

    def http(self, method: str, path: str, *, body: bytes | str = b"", json: Any = None,
             headers: Mapping[str, str] | None = None, query: Mapping[str, Any] | None = None,
             cookies: Mapping[str, str] | None = None) -> HttpResponse:
        """A real HTTP request to the runtime's server on 127.0.0.1."""
        url = self._ensure_running()
        hdrs = dict(headers or {})
        data = body.encode() if isinstance(body, str) else body
        if json is not None:
            data = jsonlib.dumps(json).encode()
            hdrs.setdefault("content-type", "application/json")
        if cookies:
            hdrs["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        target = f"{url}{quote(path)}" + (f"?{urlencode(dict(query), doseq=True)}" if query else "")
        request = urllib.request.Request(target, data=data or None, method=method.upper(), headers=hdrs)
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                status, got, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, got, raw = e.code, e.headers, e.read()
        pairs = [(k, v) for k, v in got.items() if k.lower() != "set-cookie"]
        return HttpResponse(status, Headers(pairs), raw, tuple(got.get_all("set-cookie") or ()))

    # -- observing --
    def published(self, topic: Topic | str) -> list[Message]:
        name = self.resource(topic, Topic).name
        with self._client_lock:
            return list(self._messages[("published", name)])

    def sent(self, queue: Queue | str) -> list[Message]:
        name = self.resource(queue, Queue).name
        with self._client_lock:
            return list(self._messages[("sent", name)])

    def invocations(self, function: FunctionRef) -> list[Outcome]:
        name = self.function(function).name
        with self._client_lock:
            return list(self._history[name])
