"""The local cron evaluator (5 fields, UTC) behind `Schedule(cron=...)`."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from portside.local.cron import Cron
from portside.local.errors import LocalError


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("expr, after, expected", [
    ("5 0 * * *", "2026-11-22T21:00", "2026-11-23T00:05"),        # the reference app's daily report
    ("5 0 * * *", "2026-11-23T00:05", "2026-11-24T00:05"),        # strictly after
    ("*/15 * * * *", "2026-11-22T21:07", "2026-11-22T21:15"),
    ("0 9 * * MON-FRI", "2026-11-21T10:00", "2026-11-23T09:00"),  # Saturday -> Monday
    ("0 0 1 JAN *", "2026-11-22T00:00", "2027-01-01T00:00"),
    ("30 12 29 2 *", "2026-03-01T00:00", "2028-02-29T12:30"),     # the next leap day
    ("0 8 1 * 0", "2026-11-22T09:00", "2026-11-29T08:00"),        # day OR weekday (classic cron)
    ("0 0 * * 7", "2026-11-22T01:00", "2026-11-29T00:00"),        # 7 is Sunday too
])
def test_next_after(expr: str, after: str, expected: str) -> None:
    assert Cron(expr).next_after(at(after)) == at(expected)


@pytest.mark.parametrize("expr, message", [
    ("* * *", "must have 5 fields"),
    ("0 0 L * *", "not supported by the local runtime"),
    ("61 * * * *", "outside 0-59"),
    ("0 0 31 2 *", "never fires"),
])
def test_bad_expressions_say_what_is_wrong(expr: str, message: str) -> None:
    with pytest.raises(LocalError, match=message):
        Cron(expr).next_after(at("2026-01-01T00:00"))
