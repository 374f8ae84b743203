"""The outbox on the local runtime, across a real kill -9 between a record and its publish."""

from __future__ import annotations

import http.client
import json
import sqlite3
from pathlib import Path

from tests.local.conftest import Dev, cli, request, wait_for

APP = "tests.local.outbox_app:app"


def rows(db: Path, table: str) -> list[dict]:
    con = sqlite3.connect(db)
    try:
        return [json.loads(r[0]) for r in con.execute("SELECT item FROM items WHERE tbl=?", (table,))]
    finally:
        con.close()


def test_an_event_recorded_before_a_kill_9_is_published_after_the_restart(tmp_path: Path) -> None:
    data, db = tmp_path / "data", tmp_path / "data" / "portside.db"
    dev = Dev(APP, data, "--quiet", "--workers", "2")
    try:
        assert request(dev.url, "POST", "/facts", {"id": "a"})[0] == 202
        wait_for(lambda: rows(db, "seen"), what="the first event noted")
        try:
            request(dev.url, "POST", "/facts", {"id": "b", "die": True})
        except (OSError, http.client.HTTPException):
            pass  # the process died mid-request
        dev.proc.wait(10)
    finally:
        dev.kill()
    assert dev.proc.returncode == -9
    assert {f["id"] for f in rows(db, "facts")} == {"a", "b"}  # recorded...
    assert [e["id"] for e in rows(db, "seen")] == ["ev-a"]  # ...but not published
    [entry] = rows(db, "outbox")
    again = Dev(APP, data, "--quiet", "--workers", "2")
    try:
        ticked = cli("emit", "outbox-relay", "--app", APP, "--data-dir", str(data))  # the schedule's next tick
        assert ticked.returncode == 0, ticked.stderr
        wait_for(lambda: {e["id"] for e in rows(db, "seen")} == {"ev-a", "ev-b"}, 10, "ev-b published by the relay")
        assert rows(db, "outbox") == []  # its owner was the dead run: no grace period to wait out
    finally:
        assert again.stop() == 0
    assert entry["owner"].startswith("local-")
