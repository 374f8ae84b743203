"""The driver layer itself: every registered driver implements the protocol; polling waits and gives up."""

from __future__ import annotations

import pytest

from tests.scenarios.drivers import DRIVERS, Driver, FakeDriver, PollingDriver


@pytest.mark.parametrize("cls", DRIVERS, ids=[d.name for d in DRIVERS])
def test_every_driver_implements_the_protocol(cls):
    missing = [m for m in ("unavailable", "reset", "close", "upload", "http", "publish", "wait_until", "settle",
                           "objects", "items", "dead_letters") if not callable(getattr(cls, m, None))]
    assert missing == [] and isinstance(cls.name, str)


def test_the_fake_driver_is_a_driver():
    assert isinstance(FakeDriver(), Driver)


class Counting(PollingDriver):
    name = "counting"
    poll_first = poll_max = 0.001
    quiet = 0.01

    def __init__(self) -> None:
        self.n = 0

    def snapshot(self):
        self.n += 1
        return min(self.n, 5)  # changes for a while, then stays still


def test_polling_waits_until_true():
    d = Counting()
    assert d.wait_until(lambda: d.snapshot() >= 5, timeout=5) is True


def test_polling_gives_up_naming_what_it_waited_for():
    with pytest.raises(AssertionError, match="the impossible not true after 0s on counting"):
        Counting().wait_until(lambda: False, timeout=0.02, what="the impossible")


def test_settle_returns_once_nothing_changes():
    d = Counting()
    d.settle(timeout=5)
    assert d.n >= 5


def test_the_fake_driver_fails_a_wait_that_never_comes_true():
    with pytest.raises(AssertionError, match="a thumbnail not true once the fake cloud was idle"):
        FakeDriver().wait_until(lambda: [], what="a thumbnail")
