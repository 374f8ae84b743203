"""Apps for the infra tests: every resource kind and every trigger kind, built fresh per call.

Handler paths point into the ``handlers`` package (the one that ships); infra never imports them.
"""

from __future__ import annotations

from portside import App, Backoff


def full_app(name: str = "shop") -> App:
    app = App(name)
    uploads, thumbs = app.bucket("uploads"), app.bucket("thumbs")
    jobs, orders = app.queue("jobs"), app.topic("orders")
    outbox = app.queue("outbox")  # consumed by another app: nothing here reads it
    ledger = app.table("ledger", sort_key="at")
    seen = app.table("seen", ttl="expires_at")
    web = app.api("web")
    nightly = app.schedule("nightly", cron="0 3 * * 1-5")
    every = app.schedule("every", rate="15 minutes")
    app.function("handlers.shop:thumb", trigger=uploads.on_created(prefix="in/", suffix=".png"),
                 uses=[uploads.reader, thumbs.writer])
    app.function("handlers.shop:purge", trigger=uploads.on_deleted(prefix="in/"), uses=[thumbs.writer])
    app.function("handlers.shop:work", trigger=jobs.on_message(batch_size=10, max_attempts=6, backoff=Backoff(5, 300)),
                 uses=[ledger.writer, seen.read_write], timeout=60)
    app.function("handlers.shop:audit", trigger=orders.on_event(), uses=[ledger.writer])
    app.function("handlers.shop:ship", trigger=orders.on_event(types=["OrderPlaced"], filter={"region": ["eu", "us"]}),
                 uses=[jobs.sender], timeout=120, memory=512, concurrency=5)
    app.function("handlers.shop:place", trigger=web.route("POST /orders"), uses=[orders.publisher])
    app.function("handlers.shop:get_order", trigger=web.route("GET /orders/{id}"), uses=[ledger.reader])
    app.function("handlers.shop:report", trigger=nightly.on_tick(), uses=[ledger.reader, thumbs.writer])
    app.function("handlers.shop:tick", trigger=every.on_tick(max_attempts=2), uses=[outbox.sender])
    return app


# what each function of full_app() may do: (resource, access)
DECLARED = {
    "thumb": {("uploads", "read"), ("thumbs", "write")},
    "purge": {("thumbs", "write")},
    "work": {("ledger", "write"), ("seen", "read"), ("seen", "write")},
    "audit": {("ledger", "write")},
    "ship": {("jobs", "send")},
    "place": {("orders", "publish")},
    "get-order": {("ledger", "read")},
    "report": {("ledger", "read"), ("thumbs", "write")},
    "tick": {("outbox", "send")},
}
ASYNC = {"thumb", "purge", "work", "audit", "ship", "report", "tick"}
