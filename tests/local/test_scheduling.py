"""The local runtime's workers: a second worker joins a function whose batch stalls, and leaves
once the stall is over, so a fast handler does not end up on two threads fighting for the GIL."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from portside import App, Message
from portside.local import LocalCloud

app = App("local-scheduling")
jobs = app.queue("scheduling-jobs")
app.function("tests.local.test_scheduling:handle", trigger=jobs.on_message(batch_size=10))

HANDLED: list[tuple[int, int]] = []  # (message number, worker thread), in the order handled
_lock = threading.Lock()
STALL_AT = 30
TOTAL = 4000  # enough that both workers are still running, fast, once the stall is over


def handle(message: Message) -> None:
    n = message.json()["n"]
    if n == STALL_AT:
        time.sleep(0.02)  # a batch making no progress for longer than the group window: a second worker joins
    with _lock:
        HANDLED.append((n, threading.get_ident()))


def test_a_worker_that_joined_after_a_stall_leaves_once_the_function_keeps_up(tmp_path: Path) -> None:
    HANDLED.clear()
    loader = LocalCloud(app, tmp_path)
    for n in range(TOTAL):
        loader.send("scheduling-jobs", {"n": n})
    loader.store.close()
    with LocalCloud(app, tmp_path, workers=8).start(http=False) as cloud:
        cloud.wait_until_idle(60)
    assert sorted(n for n, _ in HANDLED) == list(range(TOTAL))
    after = [thread for n, thread in HANDLED[[n for n, _ in HANDLED].index(STALL_AT) + 1:]]
    switches = sum(1 for a, b in zip(after, after[1:]) if a != b)
    assert len(set(thread for _, thread in HANDLED)) >= 2  # the stall did bring a second worker in
    # two workers left running interleave their batches to the end (hundreds of switches); one that
    # hands over after its first fast batch leaves a handful
    assert switches < 20, f"{switches} switches between worker threads after the stall"
