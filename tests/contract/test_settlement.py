"""Batch settlement (portside.delivery.settle_batch): the one rule every target's batches follow."""

from __future__ import annotations

from portside.delivery import settle_batch


def settle(items: list[tuple[str, str]], failing: set[str], **kw) -> tuple[list[str], list[str], list[str]]:
    ran: list[str] = []

    def run(item: tuple[str, str]) -> bool:
        ran.append(item[1])
        return item[1] not in failing

    again, held = settle_batch(items, run, **kw)
    return ran, [i[1] for i in again], [i[1] for i in held]


BATCH = [("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2"), ("a", "a3"), (None, "n1")]


def test_a_failure_never_takes_its_neighbours_down() -> None:
    assert settle(BATCH, {"a2"}) == (["a1", "b1", "a2", "b2", "a3", "n1"], ["a2"], [])


def test_a_fifo_group_is_held_behind_its_failure_and_other_groups_go_on() -> None:
    """Powertools' SqsFifoPartialProcessor with skip_group_on_error: the group's later messages are
    returned unrun, the other groups are processed."""
    assert settle(BATCH, {"a2"}, group=lambda i: i[0]) == (["a1", "b1", "a2", "b2", "n1"], ["a2"], ["a3"])


def test_an_ordered_stream_stops_at_its_first_failure() -> None:
    assert settle(BATCH, {"b1"}, ordered=True) == (["a1", "b1"], ["b1"], ["a2", "b2", "a3", "n1"])
