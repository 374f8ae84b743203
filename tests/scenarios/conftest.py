"""Runs every scenario once per registered driver (tests/scenarios/drivers.py).

A driver is started once per session and reset before each scenario; a driver that cannot
run here is skipped with the reason it gives.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.scenarios.drivers import DRIVERS, Driver


def pytest_configure(config: pytest.Config) -> None:
    # the gcp driver plays Pub/Sub push with non-blocking pulls (so it stops at once between
    # scenarios); google-cloud-pubsub warns that return_immediately is deprecated: known, on purpose
    config.addinivalue_line("filterwarnings", "ignore:The return_immediately flag is deprecated:DeprecationWarning")


@pytest.fixture(scope="session", params=DRIVERS, ids=[d.name for d in DRIVERS])
def target(request: pytest.FixtureRequest) -> Iterator[Driver]:
    cls = request.param
    reason = cls.unavailable()
    if reason:
        pytest.skip(f"{cls.name}: {reason}")
    driver = cls()
    try:
        yield driver
    finally:
        driver.close()


@pytest.fixture
def driver(target: Driver) -> Iterator[Driver]:
    target.reset()
    yield target
    # a driver that plays part of a cloud (an event source mapping, a push) records what went
    # wrong on its side: a scenario that passed despite it would be a pass the target did not earn
    errors = list(getattr(target, "errors", None) or [])
    assert not errors, f"{target.name} driver errors: {errors[:5]}"
