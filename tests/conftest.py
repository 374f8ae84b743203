"""What every test shares: logging as it was before the test (``portside.telemetry.LoggingState``).

A deployed entry's ``setup_logging`` and the in-process ``portside dev`` command set logging up for the
life of the process (the root level and formatters, the ``portside`` loggers' levels, which successes get
a line); here the process goes on to the next test, so each test's changes are undone after it, and no
test depends on which ran before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[Any]:
    from portside.telemetry import LoggingState

    with LoggingState.save():  # outside pytest's own per-phase log capture, which it undoes itself
        yield
