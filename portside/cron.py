"""Five-field cron (minute hour day month weekday, UTC): parsed once, for every target.

``Cron(expr)`` refuses what no cloud would schedule (a minute of 61, a date that never comes)
with a ``DeclarationError``; ``portside.checks`` adds each cloud's own syntax rules; the local
runtime evaluates it with ``next_after``. Supports ``*``, ``N``, ``A-B``, ``*/S``, ``A-B/S``,
lists, ``?`` and month/day names; day-of-month and weekday combine with OR when both are
restricted (classic cron). EventBridge's ``L``, ``W`` and ``#`` parse (AWS schedules them) but
cannot be evaluated here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from portside.errors import DeclarationError

_MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_WEEKDAYS = {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_FIELDS = ("minute", "hour", "day", "month", "weekday")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February: leap years count
_DOM_EXTENSION = re.compile(r"^(L|LW|(\d{1,2})W)$")  # last day, last weekday, nearest weekday
_DOW_EXTENSION = re.compile(r"^(L|([0-7]|[A-Z]{3})L|([0-7]|[A-Z]{3})#([1-5]))$")  # last, last X, Nth X


def _value(text: str, index: int, expr: str) -> int:
    names = _MONTHS if index == 3 else _WEEKDAYS if index == 4 else {}
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise DeclarationError(f"cron {expr!r}: {_FIELDS[index]} value {text!r} is not a number"
                               + (" or a name" if names else ""))
    return int(text)


def _in_range(value: int, index: int, part: str, expr: str) -> int:
    lo, hi = _RANGES[index]
    if not lo <= value <= hi:
        raise DeclarationError(f"cron {expr!r}: {_FIELDS[index]} {part!r} is outside {lo}-{hi}")
    return value


def _field(text: str, index: int, expr: str, extensions: list[str]) -> tuple[set[int], bool]:
    """The allowed values, and whether the field is unrestricted (``*`` or ``?``)."""
    lo, hi = _RANGES[index]
    if text == "*":
        return set(range(lo, hi + 1)), True
    if text == "?":
        if index not in (2, 4):
            raise DeclarationError(f"cron {expr!r}: '?' may stand only for the day or the weekday")
        extensions.append("?")
        return set(range(lo, hi + 1)), True
    out: set[int] = set()
    for part in text.split(","):
        upper = part.upper()
        ext = (_DOM_EXTENSION if index == 2 else _DOW_EXTENSION if index == 4 else None)
        m = ext.match(upper) if ext else None
        if m:
            extensions.append("#" if "#" in upper else "W" if "W" in upper else "L")
            day = upper.split("#")[0].rstrip("LW")  # "15W" -> 15, "5L" -> 5, "3#2" -> 3, "L" -> none
            if day:
                _in_range(_value(day, index, expr), index, part, expr)
            continue
        base, _, step_text = part.partition("/")
        if step_text and not step_text.isdigit():
            raise DeclarationError(f"cron {expr!r}: {_FIELDS[index]} step {step_text!r} is not a number")
        step = int(step_text) if step_text else 1
        if base == "*":
            a, b = lo, hi
        elif "-" in base:
            a_text, _, b_text = base.partition("-")
            a, b = _value(a_text, index, expr), _value(b_text, index, expr)
        else:
            a = _value(base, index, expr)
            b = hi if step_text else a
        _in_range(a, index, part, expr)
        _in_range(b, index, part, expr)
        if a > b or step < 1:
            raise DeclarationError(f"cron {expr!r}: {_FIELDS[index]} {part!r} is an empty range")
        out.update(range(a, b + 1, step))
    if index == 4 and 7 in out:
        out.add(0)
    return out, False


class Cron:
    """A parsed five-field cron expression."""

    __slots__ = ("expr", "fields", "minutes", "hours", "days", "months", "weekdays", "dom_any", "dow_any",
                 "extensions")

    def __init__(self, expr: str) -> None:
        parts = expr.split() if isinstance(expr, str) else []
        if len(parts) != 5:
            raise DeclarationError(f"cron {expr!r} must have 5 fields (minute hour day month weekday)")
        self.expr, self.fields = expr, tuple(parts)
        extensions: list[str] = []
        parsed = [_field(p, i, expr, extensions) for i, p in enumerate(parts)]
        self.extensions = tuple(dict.fromkeys(extensions))
        (self.minutes, _), (self.hours, _), (self.days, self.dom_any), (self.months, _), \
            (self.weekdays, self.dow_any) = parsed
        evaluable = not any(x in self.extensions for x in ("L", "W", "#"))
        if evaluable and self.dow_any and not any(d <= _DAYS_IN_MONTH[m - 1] for m in self.months for d in self.days):
            raise DeclarationError(f"cron {expr!r} never fires: no month in it has those days")

    def matches(self, t: datetime) -> bool:
        if t.minute not in self.minutes or t.hour not in self.hours or t.month not in self.months:
            return False
        dom, dow = t.day in self.days, (t.isoweekday() % 7) in self.weekdays
        if self.dom_any or self.dow_any:
            return dom and dow
        return dom or dow

    def next_after(self, t: datetime) -> datetime:
        """The first matching minute strictly after ``t`` (UTC), searching up to five years."""
        unsupported = [x for x in self.extensions if x in ("L", "W", "#")]
        if unsupported:
            raise DeclarationError(f"cron {self.expr!r}: {', '.join(unsupported)} is an EventBridge extension, "
                                   "not supported by the local runtime (nor by Cloud Scheduler's unix-cron)")
        t = t.astimezone(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = t + timedelta(days=366 * 5)
        while t < end:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self.matches(t.replace(hour=min(self.hours), minute=min(self.minutes))):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
                continue
            if t.minute in self.minutes:
                return t
            t += timedelta(minutes=1)
        raise DeclarationError(f"cron {self.expr!r} never fires")
