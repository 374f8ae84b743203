"""The ``local`` target: portside.local.LocalCloud, its real HTTP server, SQLite store and workers.

One runtime per test session on a temporary data directory and a free port. Scenarios act
only through what a user has: HTTP requests to ``cloud.url``, and LocalCloud's client calls
(``upload``, ``publish``: what ``portside upload``/``portside publish`` do) and reads
(``objects``, ``items``, ``dead_letters``). Backoffs are compressed (tests/scenarios/timing.py).
"""

from __future__ import annotations

import json as jsonlib
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from portside import Event
from tests.scenarios.drivers import DeadLetter, PollingDriver, Reply, register
from tests.scenarios.timing import compressed


@register
class LocalDriver(PollingDriver):
    """The embedded runtime, as ``portside dev`` runs it."""

    name = "local"

    def __init__(self, app: str = "handlers.app:app") -> None:
        from portside.local import LocalCloud

        self.dir = tempfile.mkdtemp(prefix="portside-scenarios-local-")
        self.cloud = LocalCloud(compressed(app), self.dir, workers=4, poll=0.02).start(0)

    @classmethod
    def unavailable(cls) -> str | None:
        return None  # stdlib only (sqlite3, http.server)

    def reset(self) -> None:
        """Let in-flight work end, then empty every queue, table, bucket and dead letter.

        The runtime keeps running (same port, same workers): only its data goes.
        """
        try:
            self.cloud.wait_until_idle(timeout=5)
        except TimeoutError:
            pass  # a previous scenario left retries pending: they are deleted below
        store = self.cloud.store
        with store.tx() as db:
            for table in ("deliveries", "dead_letters", "items", "objects", "schedules"):
                db.execute(f"DELETE FROM {table}")
        shutil.rmtree(store.dir / "buckets", ignore_errors=True)

    def close(self) -> None:
        self.cloud.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- acting --
    def upload(self, bucket: str, key: str, data: bytes, content_type: str | None = None) -> None:
        self.cloud.upload(bucket, key, data, content_type)

    def http(self, method: str, path: str, *, json: Any = None, body: bytes = b"",
             headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None) -> Reply:
        hdrs = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json).encode()
            hdrs.setdefault("content-type", "application/json")
        url = f"{self.cloud.url}{path}" + (f"?{urlencode(query)}" if query else "")
        req = urllib.request.Request(url, data=body or None, headers=hdrs, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return Reply(r.status, r.read(), dict(r.headers.items()))
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.read(), dict(e.headers.items()))

    def publish(self, topic: str, event: Event, attributes: Mapping[str, str] | None = None) -> None:
        self.cloud.publish(topic, event, dict(attributes or {}))

    def send(self, queue: str, body: bytes | Mapping[str, Any], attributes: Mapping[str, str] | None = None) -> None:
        self.cloud.send(queue, body, dict(attributes or {}))

    # -- waiting --
    def settle(self, *, timeout: float = 30.0) -> None:
        """Nothing pending or in flight (retries included): the runtime knows exactly."""
        self.cloud.wait_until_idle(timeout=timeout)

    # -- observing --
    def objects(self, bucket: str) -> dict[str, bytes]:
        return self.cloud.objects(bucket)

    def items(self, table: str) -> list[dict[str, Any]]:
        return self.cloud.items(table)

    def dead_letters(self) -> list[DeadLetter]:
        return [DeadLetter(d.function, d.error_type, d.error, d.attempts, d.event.id) for d in self.cloud.dead_letters()]
