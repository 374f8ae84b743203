"""The app declaration: every handler loads, and each function holds exactly the grants it needs.

The table below is the least-privilege contract infra/ turns into IAM policies and service
account roles: a change to it should be deliberate, so this test makes it visible.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from handlers.app import app
from portside.declarations import HttpTrigger
from portside.runtime import load_handler

GRANTS = {
    "make-thumbnail": {"uploads.read", "thumbnails.write", "images.write"},
    "remove-thumbnail": {"images.read", "images.write", "thumbnails.write"},
    "accept": {"contact-jobs.send"},
    "store": {"contacts.write", "idempotency.read", "idempotency.write"},
    "create-profile": {"profiles.write", "profile-events.publish"},
    "share-profile": {"images.read", "social-feed.write", "idempotency.read", "idempotency.write"},
    "index-for-matches": {"match-pools.read", "match-pools.write"},
    "index-profile": {"search-index.write"},
    "search": {"search-index.read"},
    "place-order": {"order-log.read", "order-log.write", "orders.publish", "order-index.write",
                    "idempotency.read", "idempotency.write", "order-outbox.read", "order-outbox.write"},
    "get-order": {"order-log.read"},
    "reserve-inventory": {"order-log.read", "order-log.write", "orders.publish", "reservations.read",
                          "reservations.write", "order-outbox.read", "order-outbox.write"},
    "release-inventory": {"order-log.read", "order-log.write", "orders.publish", "reservations.read",
                          "reservations.write", "order-outbox.read", "order-outbox.write"},
    "capture-payment": {"order-log.read", "order-log.write", "orders.publish", "payments.read", "payments.write",
                        "order-outbox.read", "order-outbox.write"},
    "ship-order": {"order-log.read", "order-log.write", "orders.publish", "shipments.read", "shipments.write",
                   "order-outbox.read", "order-outbox.write"},
    "check-payment": {"alerts.publish", "idempotency.read", "idempotency.write"},
    "project-order": {"order-log.read", "order-summaries.read", "order-summaries.write"},
    "request-rebuild": {"rebuild-jobs.send"},
    "rebuild-day": {"order-index.read", "order-log.read", "order-summaries.read", "order-summaries.write"},
    "daily-order-report": {"order-index.read", "order-log.read", "reports.write"},
    "order-outbox-relay": {"order-outbox.read", "order-outbox.write", "orders.publish", "order-log.read"},
}
ROUTES = {"POST /contact", "POST /profiles", "GET /search", "POST /orders", "GET /orders/{id}",
          "POST /admin/rebuild-projections"}


@pytest.mark.parametrize("name", sorted(GRANTS))
def test_each_function_declares_exactly_its_grants(name):
    fn = app.get_function(name)
    assert {repr(u) for u in fn.uses} == GRANTS[name]
    assert callable(load_handler(fn))


def test_every_function_is_in_the_table_and_every_resource_is_used():
    assert set(app.functions) == set(GRANTS)
    used = {u.resource.name for f in app.functions.values() for u in f.uses}
    triggers = {f.trigger.source.name for f in app.functions.values()}
    assert set(app.resources) == used | triggers


def test_the_routes():
    routes = {f"{f.trigger.method} {f.trigger.path}" for f in app.functions.values()
              if isinstance(f.trigger, HttpTrigger)}
    assert routes == ROUTES


def test_handlers_import_only_portside_pillow_the_stdlib_and_each_other():
    import sys
    allowed = {"portside", "handlers", "PIL", "__future__"} | set(sys.stdlib_module_names)
    for path in sorted((Path(__file__).resolve().parents[2] / "handlers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            for name in names:
                assert name.split(".")[0] in allowed, f"{path} imports {name}"


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_the_app_fits_both_clouds_limits(cloud):
    """infra/'s model checks (Pub/Sub's 5-100 attempts and 256-byte filters, Lambda's limits...)."""
    from portside.infra.checks import check
    from portside.infra.naming import Names

    warnings: list[str] = []
    check(app, cloud, Names("portside-demo-dev", cloud, "demo-project" if cloud == "gcp" else None), warnings.append)
    assert all("batch_size" in w for w in warnings), warnings  # only the push-delivery clamp on GCP
