"""Pattern 8, a scheduled job: the daily order report in the reports bucket."""

from __future__ import annotations

import json

from tests.handlers.conftest import place


def test_the_nightly_tick_writes_yesterdays_report(cloud):
    place(cloud, [{"sku": "leash", "qty": 2}])
    place(cloud, [{"sku": "dog-bed", "qty": 1}], token="tok_declined")
    place(cloud, [{"sku": "agility-set", "qty": 9}])  # out of stock
    cloud.run_until_idle()
    cloud.clock += 24 * 3600  # the next night
    cloud.tick("daily-report")
    cloud.run_until_idle()
    report = json.loads(cloud.objects("reports")["orders/2026-01-01.json"])
    assert report["orders"] == 3 and report["by_status"] == {"cancelled": 1, "rejected": 1, "shipped": 1}
    assert report["revenue_cents"] == 2 * 1_299 and report["units_by_sku"] == {"leash": 2}
    assert cloud.bucket("reports").objects["orders/2026-01-01.json"].content_type == "application/json"


def test_a_day_without_orders_still_gets_a_report(cloud):
    cloud.tick("daily-report")
    cloud.run_until_idle()
    assert json.loads(cloud.objects("reports")["orders/2025-12-31.json"])["orders"] == 0


def test_running_it_twice_rewrites_the_same_report(cloud):
    place(cloud)
    cloud.run_until_idle()
    cloud.clock += 24 * 3600
    cloud.inject(duplicates=1)
    cloud.tick("daily-report")
    cloud.run_until_idle()
    assert len(cloud.invocations("daily-order-report")) == 2 and list(cloud.objects("reports")) == \
        ["orders/2026-01-01.json"]


def test_a_failed_run_is_retried(cloud):
    cloud.fail_next("daily-order-report", times=1)
    cloud.tick("daily-report")
    cloud.run_until_idle()
    assert [o.ok for o in cloud.invocations("daily-order-report")] == [False, True]
    assert list(cloud.objects("reports")) == ["orders/2025-12-31.json"]
