"""The store's writes: sends that arrive together share a commit (group commit), and none returns
before its own write is committed; a worker's table writes wait in its thread for its next statement."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from portside.local.store import Store
from tests.local.conftest import wait_for

SENDERS = 8


def committed(path: Path, event: str) -> bool:
    """Whether another connection (another process, after a crash) sees the delivery."""
    con = sqlite3.connect(path)
    try:
        return bool(con.execute("SELECT 1 FROM deliveries WHERE event=?", (event,)).fetchall())
    finally:
        con.close()


def transactions(statements: list[str]) -> int:
    """How many transactions the writer committed: BEGIN ... COMMIT blocks, and statements on their own."""
    count, open_ = 0, False
    for s in statements:
        if s == "BEGIN IMMEDIATE":
            open_ = True
        elif s == "COMMIT":
            count, open_ = count + 1, False
        elif not open_ and s.startswith("INSERT"):
            count += 1
    return count


def test_sends_waiting_for_the_writer_share_one_commit_and_each_returns_committed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    statements: list[str] = []
    store._writer = store._connect()
    store._writer.set_trace_callback(statements.append)
    seen: dict[int, bool] = {}

    def send(n: int) -> None:
        store.deliver(["fn"], "queue q", f"event-{n}", 0.0)
        seen[n] = committed(store.path, f"event-{n}")  # accepted = durable: committed when deliver returns

    threads = [threading.Thread(target=send, args=(n,)) for n in range(SENDERS)]
    with store.writing():  # the writer is busy (a worker's batch) while the sends arrive
        for t in threads:
            t.start()
        wait_for(lambda: len(store._arrivals) == SENDERS, what="every send waiting for the writer")
    for t in threads:
        t.join(10)
    assert seen == {n: True for n in range(SENDERS)}
    assert transactions(statements) < SENDERS, statements  # before: one per send
    store.close()


def test_a_deferred_table_write_is_seen_by_its_threads_reads_and_committed_with_what_follows(tmp_path: Path) -> None:
    store = Store(tmp_path)
    sql = "INSERT OR REPLACE INTO items VALUES (?,?,?,?)"
    with store.deferring():
        store.write(sql, ("t", '"a"', "", '{"n":1}'))
        store.write(sql, ("t", '"a"', "", '{"n":2}'))  # the same key twice: the later wins, as in order
        store.write("DELETE FROM items WHERE tbl=? AND pk=? AND sk=?", ("t", '"gone"', ""))
        assert store.read("SELECT item FROM items WHERE pk='\"a\"'") == [('{"n":2}',)]  # its own reads see them
        store.write(sql, ("t", '"b"', "", '{"n":3}'))
    store.commit()  # leaving deferring ran the last one; the commit holds them all
    con = sqlite3.connect(store.path)
    assert con.execute("SELECT pk, item FROM items ORDER BY pk").fetchall() == [('"a"', '{"n":2}'), ('"b"', '{"n":3}')]
    con.close()
    store.close()


def test_an_older_data_dir_loses_the_indexes_every_write_paid_for_and_keeps_its_deliveries(tmp_path: Path) -> None:
    """Before: an index on visible_at alone and the FIFO-group index over every row, both kept up by each
    send, lease and acknowledgement; the due query and the FIFO query need neither."""
    store = Store(tmp_path)
    store.deliver(["fn"], "queue q", "kept", 0.0)
    store.close()
    con = sqlite3.connect(tmp_path / "portside.db")
    con.executescript("DROP INDEX deliveries_grp; CREATE INDEX deliveries_grp ON deliveries(function, grp, seq);"
                      "CREATE INDEX deliveries_visible ON deliveries(visible_at);")  # as an older version made them
    con.close()
    store = Store(tmp_path)
    indexes = dict(store.read("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='deliveries'"))
    assert "deliveries_visible" not in indexes and "WHERE grp IS NOT NULL" in indexes["deliveries_grp"]
    assert [d.event for d in store.take("fn", 1.0, 10, 60.0)] == ["kept"]
    store.close()
