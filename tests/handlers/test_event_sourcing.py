"""Pattern 6, event sourcing: an append-only log per order; reads replay it; projections rebuild from it."""

from __future__ import annotations

import pytest

from handlers.orderlog import fold
from tests.handlers.conftest import place


def test_the_log_is_append_only_with_a_sort_key(cloud):
    order_id = place(cloud)
    cloud.run_until_idle()
    rows = cloud.table("order-log").query(order_id)
    assert [r["seq"] for r in rows] == ["000001", "000002", "000003", "000004"]
    assert [r["event"]["id"] for r in rows] == [f"{order_id}/{r['type']}" for r in rows]
    assert all(r["event"]["specversion"] == "1.0" for r in rows)  # the CloudEvent as published


def test_get_order_replays_the_log(cloud):
    order_id = place(cloud, [{"sku": "dog-bed", "qty": 2}])
    placed = cloud.http("GET", f"/orders/{order_id}").json()
    assert placed["status"] == "placed" and placed["version"] == 1 and placed["total_cents"] == 11_998
    cloud.run_until_idle()
    order = cloud.http("GET", f"/orders/{order_id}").json()
    assert order["status"] == "shipped" and order["version"] == 4
    assert [h["type"] for h in order["history"]] == ["OrderPlaced", "InventoryReserved", "PaymentCaptured",
                                                    "OrderShipped"]
    assert order["customer"] == "ann@example.com" and order["tracking"].startswith("PS")


def test_get_order_reads_the_log_not_the_projection(cloud):
    order_id = place(cloud)
    cloud.run_until_idle()
    cloud.table("order-summaries").items.clear()
    assert cloud.http("GET", f"/orders/{order_id}").json()["status"] == "shipped"


@pytest.mark.parametrize("order_id", ["ord-0000000000000000", "nope", "ord-%2E%2E"])
def test_an_unknown_order_is_a_404(cloud, order_id):
    reply = cloud.http("GET", f"/orders/{order_id}")
    assert reply.status == 404 and "no order" in reply.json()["error"]


def test_fold_of_nothing_is_none():
    assert fold([]) is None


def test_the_projection_follows_the_events(cloud):
    order_id = place(cloud)
    cloud.run_until_idle()
    [summary] = cloud.items("order-summaries")
    assert summary["order_id"] == order_id and summary["status"] == "shipped" and summary["version"] == 4


def test_the_projection_converges_under_duplicates_and_reordering(cloud):
    cloud.inject(duplicates=1, reorder=True)
    ids = [place(cloud, customer=f"c{i}@example.com") for i in range(4)]
    cloud.run_until_idle()
    summaries = {s["order_id"]: s for s in cloud.items("order-summaries")}
    assert sorted(summaries) == sorted(ids) and {s["version"] for s in summaries.values()} == {4}


def test_a_stale_projection_never_overwrites_a_newer_one(cloud):
    order_id = place(cloud)
    cloud.run_until_idle()
    cloud.table("order-summaries").put({"order_id": order_id, "status": "future", "version": 99})
    [placed] = [m for m in cloud.published("orders") if m.attributes["ce-type"] == "OrderPlaced"]
    cloud.emit("project-order", placed)
    cloud.run_until_idle()
    assert cloud.table("order-summaries").get({"order_id": order_id})["status"] == "future"


def test_rebuild_restores_dropped_projections_from_the_log(cloud):
    ids = [place(cloud, customer=f"c{i}@example.com") for i in range(3)]
    cloud.run_until_idle()
    before = sorted(cloud.items("order-summaries"), key=lambda s: s["order_id"])
    cloud.table("order-summaries").items.clear()  # lost, or a new projection shape to fill
    reply = cloud.http("POST", "/admin/rebuild-projections", json={"from": "2025-12-31", "to": "2026-01-01"})
    assert reply.status == 202 and reply.json()["queued_days"] == ["2025-12-31", "2026-01-01"]
    cloud.run_until_idle()
    assert sorted(cloud.items("order-summaries"), key=lambda s: s["order_id"]) == before
    assert len(before) == len(ids) and len(cloud.invocations("rebuild-day")) == 2


def test_rebuild_without_dates_rebuilds_today(cloud):
    place(cloud)
    cloud.run_until_idle()
    cloud.table("order-summaries").items.clear()
    assert cloud.http("POST", "/admin/rebuild-projections").json()["queued_days"] == ["2026-01-01"]
    cloud.run_until_idle()
    assert len(cloud.items("order-summaries")) == 1


@pytest.mark.parametrize("body, status, says", [
    ({"from": "yesterday"}, 422, "from must be a date"),
    ({"from": "2026-01-02", "to": "2026-01-01"}, 422, "is before from"),
    ({"from": "2024-01-01", "to": "2026-01-01"}, 422, "at most 366 days"),
    ([], 400, "JSON object"),
])
def test_rebuild_refuses_bad_ranges(cloud, body, status, says):
    reply = cloud.http("POST", "/admin/rebuild-projections", json=body)
    assert reply.status == status and says in reply.json()["error"]
    assert cloud.sent("rebuild-jobs") == []


def test_a_malformed_rebuild_job_goes_to_the_dead_letter(cloud):
    cloud.send("rebuild-jobs", {"day": "someday"})
    cloud.run_until_idle()
    [dead] = cloud.dead_letters("rebuild-day")
    assert dead.attempts == 1 and "needs a 'day'" in dead.error
