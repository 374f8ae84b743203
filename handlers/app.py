"""The reference application's declaration: every resource, and which handler each event reaches.

infra/ provisions from this module, the local runtime runs it and the fake cloud tests it.
"""

from portside import App

app = App("portside-demo")

public = app.api("public")
idempotency = app.table("idempotency", ttl="expires_at")

# -- Async API: POST /contact answers 202 at once; a worker stores the submission --
contact_jobs = app.queue("contact-jobs")
contacts = app.table("contacts")

app.function("handlers.contact:accept", trigger=public.route("POST /contact"), uses=[contact_jobs.sender])
app.function("handlers.contact:store", trigger=contact_jobs.on_message(batch_size=10, max_attempts=5),
             uses=[contacts.writer, idempotency.read_write])
