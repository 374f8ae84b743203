"""The local runtime's schedules: the core's five-field cron (``portside.cron``), with failures as
``LocalError`` (one line naming the problem, as ``portside dev`` prints it)."""

from __future__ import annotations

from datetime import datetime

from portside import cron
from portside.errors import DeclarationError
from portside.local.errors import LocalError


class Cron(cron.Cron):
    __slots__ = ()

    def __init__(self, expr: str) -> None:
        try:
            super().__init__(expr)
        except DeclarationError as e:
            raise LocalError(str(e)) from None

    def next_after(self, t: datetime) -> datetime:
        try:
            return super().next_after(t)
        except DeclarationError as e:
            raise LocalError(str(e)) from None
