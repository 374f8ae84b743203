"""A scheduled job: every night, yesterday's orders summarised into `reports/orders/<day>.json`.

Re-running it (a retry, a manual tick) rewrites the same object: idempotent by design. It
reads the log, the source of truth, rather than the projection, so it is right even while
projections are being rebuilt.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from handlers.app import order_index, reports
from handlers.orderlog import replay
from portside import Tick

REVENUE = {"paid", "shipped"}  # statuses whose money was captured


def build_report(day: str, generated: str) -> dict:
    orders = [s for s in (replay(r["order_id"]) for r in order_index.query(day)) if s is not None]
    units: Counter[str] = Counter()
    for order in orders:
        if order["status"] in REVENUE:
            units.update({i["sku"]: i["qty"] for i in order.get("items", [])})
    return {"day": day, "generated": generated, "orders": len(orders),
            "by_status": dict(sorted(Counter(o["status"] for o in orders).items())),
            "revenue_cents": sum(o.get("total_cents", 0) for o in orders if o["status"] in REVENUE),
            "units_by_sku": dict(sorted(units.items()))}


def report_key(day: str) -> str:
    return f"orders/{day}.json"


def daily_order_report(tick: Tick) -> None:
    day = (tick.time - timedelta(days=1)).date().isoformat()
    report = build_report(day, tick.time.isoformat())
    reports.put(report_key(day), json.dumps(report, indent=2), content_type="application/json")
