"""The driver layer itself: every registered driver implements the protocol; polling waits and gives up."""

from __future__ import annotations

import pytest

from tests.scenarios.drivers import DRIVERS, Driver, FakeDriver, PollingDriver


@pytest.mark.parametrize("cls", DRIVERS, ids=[d.name for d in DRIVERS])
def test_every_driver_implements_the_protocol(cls):
    missing = [m for m in ("unavailable", "reset", "close", "upload", "http", "publish", "send", "wait_until", "settle",
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


def test_every_target_is_registered_in_matrix_order():
    assert [d.name for d in DRIVERS] == ["fake", "fake-chaos", "local", "aws", "gcp"]


def test_the_gcp_driver_names_what_is_missing(monkeypatch):
    import shutil

    from tests.scenarios.drivers_gcp import GcpDriver

    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "gcloud" else real(name))
    assert "gcloud" in GcpDriver.unavailable() and "not on PATH" in GcpDriver.unavailable()


def test_the_aws_driver_hands_lambda_its_sqs_event_shape():
    from tests.scenarios.drivers_aws import lambda_sqs_event

    received = [{"MessageId": "m-1", "ReceiptHandle": "rh", "Body": "{}", "MD5OfBody": "x",
                 "Attributes": {"ApproximateReceiveCount": "2"},
                 "MessageAttributes": {"ce-type": {"DataType": "String", "StringValue": "OrderPlaced"},
                                       "blob": {"DataType": "Binary", "BinaryValue": b"\x00"}}}]
    rec = lambda_sqs_event(received, "arn:aws:sqs:eu-west-1:123456789012:q")["Records"][0]
    assert rec["eventSource"] == "aws:sqs" and rec["attributes"]["ApproximateReceiveCount"] == "2"
    assert rec["messageAttributes"]["ce-type"]["stringValue"] == "OrderPlaced"
    assert rec["messageAttributes"]["blob"] == {"stringListValues": [], "binaryListValues": [],
                                                "dataType": "Binary", "binaryValue": "AA=="}


def test_the_aws_driver_sends_api_gateway_v2_events():
    from portside.aws import classify
    from tests.scenarios.drivers_aws import http_api_event

    raw = http_api_event("GET", "/orders/o-1", "GET /orders/{id}", {"id": "o-1"}, b"", {"Accept": "x"}, {"a": "1"})
    assert classify(raw).startswith("http") and raw["pathParameters"] == {"id": "o-1"}
    assert raw["headers"]["accept"] == "x" and raw["rawQueryString"] == "a=1" and "body" not in raw


def test_compressed_time_keeps_every_other_option_and_the_original_app():
    from portside.app import load_app
    from tests.scenarios.timing import compressed

    app = load_app("handlers.app:app")
    fast = compressed(app, 0.01)
    share, original = fast.get_function("share-profile"), app.get_function("share-profile")
    assert (share.trigger.backoff.initial, share.trigger.backoff.maximum) == (0.05, 0.6)
    assert original.trigger.backoff.initial == 5  # the app other drivers use is untouched
    assert share.trigger.max_attempts == original.trigger.max_attempts and share.uses == original.uses
    assert dict(share.trigger.filter) == dict(original.trigger.filter)
