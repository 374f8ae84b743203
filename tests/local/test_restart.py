"""A restart after a crash: what the dead run had in progress is taken over at once."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest

from portside.local import LocalCloud
from tests.local.conftest import wait_for
from tests.local.e2e_app import app


def test_an_in_progress_record_of_a_dead_run_is_taken_over_at_once(tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """Before: the redelivery raised InProgress (a traceback each time) until the record's lease expired."""
    before = LocalCloud(app, tmp_path)
    before.table("seen").put({"id": "store-note#n1", "status": "in_progress", "owner": "local-1-deadbeef",
                              "expires_at": int(time.time()) + 3600})  # what a kill -9 mid-run leaves
    before.send("note-jobs", {"id": "n1", "text": "hi"})
    before.store.close()
    reports = []
    with caplog.at_level(logging.WARNING, "portside"), \
            LocalCloud(app, tmp_path, workers=2, on_report=reports.append).start(http=False) as cloud:
        wait_for(lambda: cloud.table("notes").get({"id": "n1"}), what="the note stored")
        assert [r.decision.action.value for r in reports] == ["ack"]  # first attempt, no InProgress retry
        assert cloud.table("seen").get({"id": "store-note#n1"})["status"] == "completed"
    assert "local-1-deadbeef, which is gone: running it again" in caplog.text
    assert "Traceback" not in caplog.text


def test_an_in_progress_record_of_the_live_run_still_holds_duplicates_back(tmp_path: Path,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    """InProgress is an expected wait, logged as one line without a traceback."""
    with caplog.at_level(logging.WARNING, "portside"), LocalCloud(app, tmp_path, workers=2).start(http=False) as cloud:
        cloud.table("seen").put({"id": "store-note#n2", "status": "in_progress", "owner": cloud.instance,
                                 "expires_at": int(time.time()) + 3600})
        reports = []
        cloud.on_report = reports.append
        cloud.send("note-jobs", {"id": "n2"})
        wait_for(lambda: reports, what="a first attempt")
        assert reports[0].outcome.error.__class__.__name__ == "InProgress"
        assert reports[0].decision.action.value == "retry"
        assert cloud.table("notes").get({"id": "n2"}) is None
    assert "InProgress: store-note#n2 is being processed by another delivery" in caplog.text
    assert "Traceback" not in caplog.text


def test_workers_stop_and_start_again_without_losing_or_leaving_anything_leased(tmp_path: Path) -> None:
    """What a hot reload does between two versions of the code: stop the workers, start them again."""
    with LocalCloud(app, tmp_path, workers=4).start(http=False) as cloud:
        for i in range(200):
            cloud.send("note-jobs", {"id": f"r{i}"})
        cloud._stop_workers()
        assert cloud.store.read("SELECT COUNT(*) FROM deliveries WHERE leased=1") == [(0,)]  # each batch settled
        done = len(cloud.items("notes"))
        assert cloud.store.pending("store-note") == 200 - done  # committed: what ran is no longer pending
        cloud._start_workers()
        cloud.wait_until_idle()
        assert sorted(n["id"] for n in cloud.items("notes")) == sorted(f"r{i}" for i in range(200))
        assert len(cloud.items("applied")) == 200  # each run once: nothing settled ran again


def test_a_failure_while_dispatching_does_not_stop_delivery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    """Before: an error in the dispatcher's loop (a disk error, a lock held too long) ended its thread."""
    with LocalCloud(app, tmp_path, workers=2).start(http=False) as cloud:
        real, failures = cloud.store.next_due, []

        def flaky(*args: object) -> float | None:
            if not failures:
                failures.append(1)
                raise sqlite3.OperationalError("disk I/O error")
            return real(*args)

        monkeypatch.setattr(cloud.store, "next_due", flaky)
        cloud._wake.set()
        wait_for(lambda: failures, what="the failure")
        cloud.send("note-jobs", {"id": "after"})
        wait_for(lambda: cloud.table("notes").get({"id": "after"}), 5, "the note stored after the failure")
    assert "dispatching failed; trying again" in caplog.text
