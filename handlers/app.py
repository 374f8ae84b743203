"""The reference application's declaration: every resource, and which handler each event reaches.

infra/ provisions from this module, the local runtime runs it and the fake cloud tests it.
Each function names exactly what it uses, and how: that list becomes its IAM policy (AWS)
or its service account's roles (GCP), and the fake and local targets enforce it.

Patterns (README.md, "The reference application", walks through each one):
 1. upload processing        handlers/thumbnails.py
 2. async API (contact form) handlers/contact.py
 3. fan-out (puppy profiles) handlers/profiles.py -> social.py, matchmaking.py, search.py
 4. choreography (orders)    handlers/orders.py -> inventory.py -> payments.py -> shipping.py
 5. routing by attributes    handlers/fraud.py
 6. event sourcing           handlers/orderlog.py, handlers/projections.py, GET /orders/{id}
 7. schema versioning        handlers/schemas.py (ProfileCreated v1 -> v2 upcaster)
 8. scheduled job            handlers/reports.py
"""

from handlers.schemas import (
    FRAUD_BAND,
    INVENTORY_RESERVED,
    ORDER_PLACED,
    PAYMENT_CAPTURED,
    PAYMENT_FAILED,
    PROFILE_CREATED,
)
from portside import App, Backoff
from portside.outbox import Outbox

app = App("portside-demo")

public = app.api("public")
idempotency = app.table("idempotency", ttl="expires_at")  # shared; records are scoped by function name

# -- 1. Upload processing: an image in `uploads` gets a thumbnail and a metadata row --
uploads = app.bucket("uploads")
thumbnails = app.bucket("thumbnails")
images = app.table("images")  # key: the upload's object key

app.function("handlers.thumbnails:make_thumbnail", trigger=uploads.on_created(max_attempts=3),
             uses=[uploads.reader, thumbnails.writer, images.writer], memory=1024, timeout=60)
# 5: on GCP deletions arrive by Pub/Sub push, whose dead-letter policy needs 5-100 attempts
app.function("handlers.thumbnails:remove_thumbnail", trigger=uploads.on_deleted(max_attempts=5),
             uses=[images.read_write, thumbnails.writer])

# -- 2. Async API: POST /contact answers 202 at once; a worker stores the submission --
contact_jobs = app.queue("contact-jobs")
contacts = app.table("contacts")

app.function("handlers.contact:accept", trigger=public.route("POST /contact"), uses=[contact_jobs.sender])
app.function("handlers.contact:store", trigger=contact_jobs.on_message(batch_size=10, max_attempts=5),
             uses=[contacts.writer, idempotency.read_write])

# -- 3. Fan-out: POST /profiles publishes ProfileCreated; three independent subscribers --
# Each topic.on_event is its own subscription (SNS -> SQS queue + DLQ; Pub/Sub subscription +
# dead-letter topic), so one failing subscriber retries and dead-letters alone.
profile_events = app.topic("profile-events")
profiles = app.table("profiles")
social_feed = app.table("social-feed")
match_pools = app.table("match-pools", key="pool", sort_key="profile_id")
search_index = app.table("search-index", key="term", sort_key="profile_id")

app.function("handlers.profiles:create_profile", trigger=public.route("POST /profiles"),
             uses=[profiles.writer, profile_events.publisher])
app.function("handlers.social:share_profile",
             trigger=profile_events.on_event(types=[PROFILE_CREATED], max_attempts=5, backoff=Backoff(5, 60)),
             uses=[images.reader, social_feed.writer, idempotency.read_write])
app.function("handlers.matchmaking:index_for_matches", trigger=profile_events.on_event(types=[PROFILE_CREATED]),
             uses=[match_pools.read_write])
app.function("handlers.search:index_profile", trigger=profile_events.on_event(types=[PROFILE_CREATED]),
             uses=[search_index.writer])
app.function("handlers.search:search", trigger=public.route("GET /search"), uses=[search_index.reader])

# -- 4 + 6. Choreography over an event-sourced order log --
# Every step reacts to an event, appends its own event to `order-log` (the source of truth)
# and publishes it on `orders`. No orchestrator.
orders = app.topic("orders")
order_log = app.table("order-log", key="order_id", sort_key="seq")
order_index = app.table("order-index", key="day", sort_key="order_id")
reservations = app.table("reservations", key="sku", sort_key="order_id")
payments = app.table("payments", key="order_id")
shipments = app.table("shipments", key="order_id")
order_summaries = app.table("order-summaries", key="order_id")  # a projection, rebuildable from the log

# Appending to the log and publishing are two writes: the outbox stages each event first, and its
# relay (a schedule) publishes what a step recorded but did not live to publish.
order_outbox = Outbox(app, "order-outbox", topics=[orders], proofs=[order_log])
_emits = (order_log.read_write, orders.publisher, *order_outbox.uses)  # what every step needs to append + publish

app.function("handlers.orders:place_order", trigger=public.route("POST /orders"),
             uses=[*_emits, order_index.writer, idempotency.read_write])
app.function("handlers.orders:get_order", trigger=public.route("GET /orders/{id}"), uses=[order_log.reader])
app.function("handlers.inventory:reserve_inventory", trigger=orders.on_event(types=[ORDER_PLACED]),
             uses=[*_emits, reservations.read_write])
app.function("handlers.inventory:release_inventory", trigger=orders.on_event(types=[PAYMENT_FAILED]),
             uses=[*_emits, reservations.read_write])
app.function("handlers.payments:capture_payment", trigger=orders.on_event(types=[INVENTORY_RESERVED]),
             uses=[*_emits, payments.read_write])
app.function("handlers.shipping:ship_order", trigger=orders.on_event(types=[PAYMENT_CAPTURED]),
             uses=[*_emits, shipments.read_write])

# -- 5. Routing by type and attributes: only large captured payments reach the fraud check --
alerts = app.topic("alerts")
app.function("handlers.fraud:check_payment",
             trigger=orders.on_event(types=[PAYMENT_CAPTURED], filter={"amount-band": FRAUD_BAND}),
             uses=[alerts.publisher, idempotency.read_write])

# -- 6. Projections: kept current from the topic, rebuildable from the log on command --
rebuild_jobs = app.queue("rebuild-jobs")
# Every event on `orders` matters here, so no filter: listing the seven types would also
# exceed Pub/Sub's 256-byte filter limit. (The handler still checks each event's type.)
app.function("handlers.projections:project_order", trigger=orders.on_event(),
             uses=[order_log.reader, order_summaries.read_write])
# private: one request queues up to 366 rebuild jobs, so only signed callers allowed by IAM reach it
app.function("handlers.projections:request_rebuild",
             trigger=public.route("POST /admin/rebuild-projections", auth="iam"),
             uses=[rebuild_jobs.sender])
app.function("handlers.projections:rebuild_day", trigger=rebuild_jobs.on_message(batch_size=5),
             uses=[order_index.reader, order_log.reader, order_summaries.read_write], timeout=300)

# -- 8. A scheduled job: yesterday's orders, summarised into the reports bucket --
reports = app.bucket("reports")
daily = app.schedule("daily-report", cron="5 0 * * *")
app.function("handlers.reports:daily_order_report", trigger=daily.on_tick(),
             uses=[order_index.reader, order_log.reader, reports.writer], timeout=300)
