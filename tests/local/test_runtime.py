"""The local runtime in process: every trigger kind, the delivery rules, the worker pool, leases."""

from __future__ import annotations

import json
import time
from pathlib import Path

from portside import Event
from portside.local import LocalCloud
from portside.local.store import Store
from tests.local.conftest import request, wait_for


def test_http_post_is_queued_then_stored_and_read_back(cloud: LocalCloud) -> None:
    status, body = request(cloud.url, "POST", "/notes", {"id": "n1", "text": "hi"})
    assert (status, json.loads(body)) == (202, {"accepted": "n1"})
    wait_for(lambda: cloud.table("notes").get({"id": "n1"}), what="note n1 stored")
    status, body = request(cloud.url, "GET", "/notes/n1")
    assert status == 200 and json.loads(body) == {"id": "n1", "text": "hi", "attempt": 1}
    status, body = request(cloud.url, "GET", "/notes/nope")
    assert status == 404 and "no note 'nope'" in json.loads(body)["error"]


def test_bucket_write_fires_object_triggers_by_prefix_and_suffix(cloud: LocalCloud) -> None:
    cloud.upload("inbox", "in/a.txt", b"hello")
    cloud.upload("inbox", "in/b.bin", b"binary")       # wrong suffix
    cloud.upload("inbox", "other/c.txt", b"elsewhere")  # wrong prefix
    cloud.wait_until_idle()
    assert cloud.objects("outbox") == {"a.txt": b"HELLO"}  # the handler's write, a real file:
    assert (cloud.store.dir / "buckets" / "outbox" / "a.txt").read_bytes() == b"HELLO"
    assert [f["id"] for f in cloud.items("files")] == ["in/a.txt"]
    assert cloud.items("files")[0]["size"] == 5


def test_retries_back_off_then_dead_letter_with_the_error(cloud: LocalCloud) -> None:
    reports = []
    cloud.on_report = reports.append
    started = time.monotonic()
    cloud.send("note-jobs", {"id": "f1", "flaky": True})
    wait_for(cloud.dead_letters, what="a dead letter")
    elapsed = time.monotonic() - started
    [dl] = cloud.dead_letters()
    assert (dl.function, dl.error_type, dl.error, dl.attempts) == ("store-note", "RuntimeError", "note f1 always fails", 2)
    assert json.loads(dl.event.body) == {"id": "f1", "flaky": True}  # intact
    assert [r.outcome.attempt for r in reports] == [1, 2]
    assert [r.decision.action.value for r in reports] == ["retry", "dead-letter"]
    assert reports[0].decision.delay == 0.05 and elapsed >= 0.05  # Backoff(0.05, 0.1) took real time
    assert cloud.items("notes") == []


def test_permanent_error_skips_the_retries(cloud: LocalCloud) -> None:
    cloud.send("note-jobs", {"id": "p1", "poison": True})
    [dl] = wait_for(cloud.dead_letters, what="a dead letter")
    assert (dl.error_type, dl.attempts, dl.error) == ("PermanentError", 1, "note p1 is poison")


def test_redrive_sends_a_dead_letter_back_with_attempts_reset(cloud: LocalCloud) -> None:
    cloud.send("note-jobs", {"id": "p2", "poison": True})
    wait_for(cloud.dead_letters, what="a dead letter")
    assert cloud.redrive(function="store-note") == 1
    wait_for(cloud.dead_letters, what="the dead letter back")
    cloud.wait_until_idle()
    [dl] = cloud.dead_letters()
    assert dl.attempts == 1


def test_topic_fans_out_to_each_matching_subscription(cloud: LocalCloud) -> None:
    cloud.publish("alert-events", Event("alert.raised", "test", {"level": "low"}, id="a1"))
    cloud.publish("alert-events", Event("alert.raised", "test", {"level": "high"}, id="a2"), {"severity": "critical"})
    cloud.publish("alert-events", Event("alert.cleared", "test", {"level": "none"}, id="a3"), {"severity": "critical"})
    cloud.wait_until_idle()
    assert sorted(a["id"] for a in cloud.items("alerts")) == ["a1", "a2"]  # types filter
    assert [c["id"] for c in cloud.items("criticals")] == ["a2"]  # types + attribute filter


def test_duplicate_messages_apply_their_effect_once(cloud: LocalCloud) -> None:
    for _ in range(3):
        cloud.send("note-jobs", {"id": "dup", "text": "x"})
    cloud.wait_until_idle()
    assert [a["note"] for a in cloud.items("applied")] == ["dup"]


def test_tick_runs_the_schedule_handler(cloud: LocalCloud) -> None:
    assert cloud.tick("every-minute") == 1
    cloud.wait_until_idle()
    [tick] = cloud.items("ticks")
    assert tick["schedule"] == "every-minute"


def test_timer_fires_a_tick_missed_while_stopped_once(tmp_path: Path) -> None:
    from tests.local.e2e_app import app

    store = Store(tmp_path)
    with store.tx() as db:  # the last tick was 3 minutes ago: one catch-up tick, not three
        db.execute("INSERT INTO schedules VALUES ('every-minute', ?)", (time.time() - 180,))
    store.close()
    with LocalCloud(app, tmp_path, workers=2).start(http=False) as c:
        wait_for(lambda: c.items("ticks"), what="the catch-up tick")
        time.sleep(0.2)
        assert len(c.items("ticks")) == 1


def test_a_slow_handler_does_not_stall_the_others(cloud: LocalCloud) -> None:
    cloud.send("note-jobs", {"id": "slow", "slow": 1.5})
    wait_for(lambda: cloud._inflight.get("store-note"), what="the slow note in flight")
    cloud.send("note-jobs", {"id": "fast"})
    cloud.upload("inbox", "in/x.txt", b"x")
    cloud.publish("alert-events", Event("alert.raised", "test", {"level": "low"}))
    wait_for(lambda: cloud.table("notes").get({"id": "fast"}) and cloud.items("files") and cloud.items("alerts"),
             what="the other events")
    assert cloud.table("notes").get({"id": "slow"}) is None  # all done while the slow one still runs
    cloud.wait_until_idle()
    assert cloud.table("notes").get({"id": "slow"})


def test_visibility_timeout_hides_a_leased_delivery_then_lets_it_reappear(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.tx() as db:
        store.add(db, "fn", "queue q", "{}", 0)
    now = time.time()
    [first] = store.take("fn", now, 10, visibility=0.2)
    assert first.receives == 1
    assert store.take("fn", time.time(), 10, 0.2) == []  # hidden while leased: it cannot be taken twice
    time.sleep(0.25)
    [again] = store.take("fn", time.time(), 10, 0.2)
    assert (again.seq, again.receives) == (first.seq, 2)  # the receive count is the attempt
    store.close()


def test_a_stale_lease_cannot_settle_a_delivery_taken_again(cloud: LocalCloud) -> None:
    """A handler that outlived its visibility timeout must not ack the redelivery's lease (SQS receipt handles)."""
    from portside.delivery import Action, Decision, Outcome
    from portside.events import Message

    store = cloud.store
    with store.tx() as db:
        store.add(db, "nobody", "queue q", "{}", 0)
    [first] = store.take("nobody", time.time(), 1, visibility=0.0)
    [second] = store.take("nobody", time.time() + 0.001, 1, visibility=3600)  # expired, taken again
    assert second.receives == 2
    outcome = Outcome(Message("m", b"{}", "q"), 1)
    cloud._settle(cloud.app.get_function("store-note"), [(first, outcome, Decision(Action.ACK))])
    assert store.pending("nobody") == 1
    cloud._settle(cloud.app.get_function("store-note"), [(second, outcome, Decision(Action.ACK))])
    assert store.pending("nobody") == 0


def test_a_restart_redelivers_what_a_crashed_run_had_leased(tmp_path: Path) -> None:
    from portside.events import Message
    from portside.local import codec
    from tests.local.e2e_app import app

    store = Store(tmp_path)
    with store.tx() as db:
        store.add(db, "store-note", "queue note-jobs", codec.dump(Message("m1", b'{"id":"z"}', "note-jobs")), 0)
    store.take("store-note", time.time(), 10, visibility=3600)  # then the run "died"
    store.close()
    with LocalCloud(app, tmp_path, workers=2).start(http=False) as c:
        wait_for(lambda: c.table("notes").get({"id": "z"}), what="the redelivered note")
        assert c.table("notes").get({"id": "z"})["attempt"] == 2  # a redelivery counts as an attempt


def test_a_handle_from_a_second_import_of_the_app_still_reaches_the_consumers(cloud: LocalCloud) -> None:
    """`python -m pkg.app` imports the app module twice: its handles are other objects with the same names."""
    from portside.declarations import Queue

    twin = Queue("note-jobs")  # same name, not the app's object
    cloud.port(twin).send(b'{"id": "twin"}', {}, 0, None)
    wait_for(lambda: cloud.table("notes").get({"id": "twin"}), what="the note sent through the twin handle")


def test_http_connections_do_not_leave_sqlite_connections_behind(cloud: LocalCloud) -> None:
    from portside.local.http import THREADS

    for i in range(60):  # a new connection per request
        assert request(cloud.url, "POST", "/notes", {"id": f"c{i}"})[0] == 202
    cloud.wait_until_idle()
    # left: the workers', the HTTP handler threads', the dispatcher's and this thread's, never one per connection
    wait_for(lambda: len(cloud.store._all) <= cloud.workers + THREADS + 2, what="connections released")


def test_a_changed_app_adopts_unconsumed_messages_and_dead_letters_orphans(tmp_path: Path) -> None:
    from portside.events import Message
    from portside.local import codec
    from tests.local.e2e_app import app

    store = Store(tmp_path)
    with store.tx() as db:  # written by an older version of the app
        store.add(db, "", "queue note-jobs", codec.dump(Message("m1", b'{"id": "kept"}', "note-jobs")), 0)
        store.add(db, "renamed-fn", "queue gone", codec.dump(Message("m2", b"{}", "gone")), 0)
    store.close()
    with LocalCloud(app, tmp_path, workers=2).start(http=False) as c:
        wait_for(lambda: c.table("notes").get({"id": "kept"}), what="the adopted message")
        [dl] = c.dead_letters()
        assert (dl.function, dl.error_type) == ("renamed-fn", "UnknownFunction")
        assert "no longer declares function 'renamed-fn'" in dl.error
        c.wait_until_idle()
