"""Pattern 5, routing by type and attributes: only large PaymentCaptured events reach the fraud check."""

from __future__ import annotations

import pytest

from handlers.app import app
from handlers.schemas import FRAUD_THRESHOLD_CENTS, amount_band
from portside import Event
from tests.handlers.conftest import place


@pytest.mark.parametrize("cents, band", [(0, "small"), (4_999, "small"), (5_000, "medium"), (49_999, "medium"),
                                         (FRAUD_THRESHOLD_CENTS, "large"), (10**9, "large")])
def test_amount_bands(cents, band):
    assert amount_band(cents) == band


def test_the_subscription_filter_is_type_and_band():
    trigger = app.get_function("check-payment").trigger
    assert dict(trigger.filter) == {"amount-band": ("large",), "ce-type": ("PaymentCaptured",)}


def test_payment_captured_carries_its_band_as_an_attribute(cloud):
    place(cloud, [{"sku": "leash", "qty": 1}])
    cloud.run_until_idle()
    [captured] = [m for m in cloud.published("orders") if m.attributes["ce-type"] == "PaymentCaptured"]
    assert captured.attributes["amount-band"] == "small"


def test_a_small_payment_never_invokes_the_fraud_check(cloud):
    place(cloud, [{"sku": "gps-collar", "qty": 2}])  # 358.00: medium
    cloud.run_until_idle()
    assert cloud.invocations("check-payment") == [] and cloud.published("alerts") == []


def test_a_large_payment_raises_an_alert(cloud):
    order_id = place(cloud, [{"sku": "agility-set", "qty": 1}, {"sku": "leash", "qty": 1}])  # 511.99
    cloud.run_until_idle()
    [alert] = cloud.events_published("alerts")
    assert alert.type == "FraudSuspected" and alert.subject == order_id and alert.id == f"{order_id}/FraudSuspected"
    assert alert.data["risk"] == "review" and alert.data["amount_cents"] == 51_199
    assert alert.extensions["traceparent"]  # the alert continues the order's trace


def test_several_reasons_make_the_risk_high(cloud):
    place(cloud, [{"sku": "agility-set", "qty": 3}, {"sku": "gps-collar", "qty": 4}], customer="x@mailinator.com")
    cloud.run_until_idle()
    [alert] = cloud.events_published("alerts")
    assert alert.data["risk"] == "high" and len(alert.data["reasons"]) == 3


def test_the_check_rereads_the_exact_amount_behind_a_coarse_band(cloud):
    cloud.publish("orders", Event(type="PaymentCaptured", source="/test", subject="ord-x", id="ord-x/PaymentCaptured",
                                  data={"order_id": "ord-x", "amount_cents": 100, "customer": "a@b.co"}),
                  attributes={"amount-band": "large"})  # a mislabelled band
    cloud.run_until_idle()
    assert len(cloud.invocations("check-payment")) == 1 and cloud.published("alerts") == []


def test_a_duplicate_payment_event_raises_one_alert(cloud):
    cloud.inject(duplicates=1)
    place(cloud, [{"sku": "agility-set", "qty": 2}])
    cloud.run_until_idle()
    assert len(cloud.invocations("check-payment")) == 2 and len(cloud.published("alerts")) == 1
