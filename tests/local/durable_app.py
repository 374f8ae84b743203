"""The durability test's app: POST /items -> queue -> store_item (idempotent) -> table items;
a message published on item-events -> the same handler.

``applied`` gets one row per *run* of the handler's body (a uuid, not idempotent by itself),
so the test can count how often each item's effect was applied.
"""

from __future__ import annotations

import time
import uuid

from portside import App, Backoff, HttpRequest, HttpResponse, Message, idempotent

app = App("local-durable")
api = app.api("public")
jobs = app.queue("item-jobs")
items = app.table("items")
applied = app.table("applied")
seen = app.table("seen", ttl="expires_at")
events = app.topic("item-events")

app.function("tests.local.durable_app:accept", trigger=api.route("POST /items"), uses=[jobs.sender])
app.function("tests.local.durable_app:store_item",
             trigger=jobs.on_message(batch_size=10, max_attempts=20, backoff=Backoff(0.1, 0.5)),
             uses=[items.writer, applied.writer, seen.read_write], timeout=2)
app.function("tests.local.durable_app:store_item", name="store-published",
             trigger=events.on_event(max_attempts=20, backoff=Backoff(0.1, 0.5)),
             uses=[items.writer, applied.writer, seen.read_write], timeout=2)


def accept(request: HttpRequest) -> HttpResponse:
    jobs.send(request.body)  # committed before the 202: accepted = durable
    return HttpResponse(202)


@idempotent(seen, key=lambda m: m.json()["id"], lease=0.5)
def store_item(message: Message) -> None:
    item = message.json()
    time.sleep(0.002)  # a little work, so a backlog builds up behind the HTTP stream
    applied.put({"id": uuid.uuid4().hex, "item": item["id"]})
    items.put({"id": item["id"], "n": item["n"]})
