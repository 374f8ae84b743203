"""Translations of declarations into each cloud's own syntax: cron and rate forms, Pub/Sub filters.

In the core because the declaration checks (``portside.checks``) need them as much as
``portside.infra`` does: a rate Cloud Scheduler cannot express, or a filter over Pub/Sub's 256
bytes, fails when it is declared.
"""

from __future__ import annotations

import re

from portside.declarations import Schedule
from portside.errors import CloudLimitError

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pubsub_filter(flt: dict[str, tuple[str, ...]]) -> str:
    """A Pub/Sub subscription filter: every attribute must have one of its values.

    Keys of letters, digits, '-' and '_' go bare (``attributes.ce-type``); others as string literals.
    """
    def key(k: str) -> str:
        return f"attributes.{k}" if _PLAIN_KEY.match(k) else f"attributes.{_literal(k)}"

    terms = []
    for k, values in sorted(flt.items()):
        alts = [f"{key(k)} = {_literal(v)}" for v in values]
        terms.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")")
    return " AND ".join(terms)


def gcp_cron(schedule: Schedule) -> str:
    """Cloud Scheduler takes unix cron: rates convert when they divide an hour or a day evenly."""
    if schedule.cron:
        return schedule.cron
    n, unit = schedule.rate.split()
    n, unit = int(n), unit.rstrip("s")
    if unit == "minute" and 60 % n == 0:
        return "* * * * *" if n == 1 else ("0 * * * *" if n == 60 else f"*/{n} * * * *")
    if unit == "hour" and 24 % n == 0:
        return "0 * * * *" if n == 1 else ("0 0 * * *" if n == 24 else f"0 */{n} * * *")
    if unit == "day" and n == 1:
        return "0 0 * * *"
    raise CloudLimitError(
        f"schedule {schedule.name!r}: rate={schedule.rate!r} on gcp cannot be expressed as Cloud Scheduler cron "
        "(only rates dividing an hour or a day evenly, or 1 day, convert); declare cron= instead"
    )


def aws_expression(schedule: Schedule) -> str:
    """EventBridge Scheduler: rate(...) as is; 5-field cron -> 6 fields, '?' and 1-7 weekdays."""
    if schedule.rate:
        n, unit = schedule.rate.split()
        return f"rate({n} {unit.rstrip('s') if n == '1' else unit if unit.endswith('s') else unit + 's'})"
    minute, hour, dom, month, dow = schedule.cron.split()
    dow = re.sub(r"(?<!#)\d+", lambda m: str(int(m.group()) % 7 + 1), dow)  # not the N of "X#N"
    if dow in ("*", "?"):
        dow = "?"
    else:
        dom = "?"
    return f"cron({minute} {hour} {dom} {month} {dow} *)"
