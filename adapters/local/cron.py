"""A small five-field cron evaluator (minute hour day month weekday, UTC) for local schedules.

Supports ``*``, ``N``, ``A-B``, ``*/S``, ``A-B/S``, lists, ``?`` and month/day names;
day-of-month and weekday combine with OR when both are restricted (classic cron).
AWS-only extensions (``L``, ``W``, ``#``) are refused with a message saying so.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from portside.local.errors import LocalError

_NAMES = {**{m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())},
          **{d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}}
_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
_FIELDS = ["minute", "hour", "day", "month", "weekday"]


def _value(text: str, what: str, expr: str) -> int:
    text = text.upper()
    if text in _NAMES:
        return _NAMES[text]
    if not text.isdigit():
        raise LocalError(f"cron {expr!r}: {what} value {text!r} is not supported by the local runtime "
                         "(use numbers, names, ranges, lists and steps)")
    return int(text)


def _field(text: str, index: int, expr: str) -> tuple[set[int], bool]:
    """The allowed values, and whether the field is unrestricted (``*`` or ``?``)."""
    lo, hi = _RANGES[index]
    what = _FIELDS[index]
    if text in ("*", "?"):
        return set(range(lo, hi + 1)), True
    out: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = _value(step_text, what, expr) if step_text else 1
        if base in ("*", "?"):
            a, b = lo, hi
        elif "-" in base:
            a_text, _, b_text = base.partition("-")
            a, b = _value(a_text, what, expr), _value(b_text, what, expr)
        else:
            a = _value(base, what, expr)
            b = hi if step_text else a
        if not (lo <= a <= hi and lo <= b <= hi) or a > b or step < 1:
            raise LocalError(f"cron {expr!r}: {what} {part!r} is outside {lo}-{hi}")
        out.update(range(a, b + 1, step))
    if index == 4 and 7 in out:
        out.add(0)
    return out, False


class Cron:
    def __init__(self, expr: str) -> None:
        parts = expr.split()
        if len(parts) != 5:
            raise LocalError(f"cron {expr!r} must have 5 fields (minute hour day month weekday)")
        parsed = [_field(p, i, expr) for i, p in enumerate(parts)]
        (self.minutes, _), (self.hours, _), (self.days, dom_any), (self.months, _), (self.weekdays, dow_any) = parsed
        self.dom_any, self.dow_any = dom_any, dow_any
        self.expr = expr

    def matches(self, t: datetime) -> bool:
        if t.minute not in self.minutes or t.hour not in self.hours or t.month not in self.months:
            return False
        dom, dow = t.day in self.days, (t.isoweekday() % 7) in self.weekdays
        if self.dom_any or self.dow_any:
            return dom and dow
        return dom or dow

    def next_after(self, t: datetime) -> datetime:
        """The first matching minute strictly after ``t`` (UTC), searching up to five years."""
        t = t.astimezone(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = t + timedelta(days=366 * 5)
        while t < end:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            day_ok = self.matches(t.replace(hour=min(self.hours), minute=min(self.minutes)))
            if not day_ok:
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
                continue
            if t.minute in self.minutes:
                return t
            t += timedelta(minutes=1)
        raise LocalError(f"cron {self.expr!r} never fires")
