"""What the runtime says about each finished invocation (``portside dev``'s live line, the console)."""

from __future__ import annotations

from dataclasses import dataclass

from portside.delivery import Decision, Outcome


@dataclass(frozen=True, slots=True)
class Report:
    """One finished invocation."""

    source: str
    function: str
    outcome: Outcome
    decision: Decision | None  # None for HTTP (answered, never retried)
    status: int | None = None  # HTTP status
