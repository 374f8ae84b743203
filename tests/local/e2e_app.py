"""A small app of our own for the local runtime's tests: every trigger kind, a poison path.

POST /notes -> queue notes -> store_note -> table notes; GET /notes/{id} reads it back.
An upload to inbox in/*.txt -> shout -> outbox (upper-cased) + table files.
Topic alert-events (type alert.raised) -> record_alert -> table alerts; with
attribute severity=critical also -> record_critical -> table criticals.
A note with "poison": true raises a PermanentError (dead letter at once); "flaky": true
fails every time (dead letter after max_attempts, with short backoffs).
Schedule every minute -> count_tick -> table ticks.
"""

from __future__ import annotations

import time
import uuid

from portside import (
    App,
    Backoff,
    HttpError,
    HttpRequest,
    HttpResponse,
    Message,
    ObjectCreated,
    PermanentError,
    Tick,
    idempotent,
)

app = App("local-e2e", clouds="aws")  # max_attempts=2 below is outside Pub/Sub's 5-100
api = app.api("public")
notes_q = app.queue("note-jobs")
notes = app.table("notes")
inbox = app.bucket("inbox")
outbox = app.bucket("outbox")
files = app.table("files")
alerts_topic = app.topic("alert-events")
alerts = app.table("alerts")
criticals = app.table("criticals")
seen = app.table("seen", ttl="expires_at")
applied = app.table("applied")
ticks = app.table("ticks")
minute = app.schedule("every-minute", rate="1 minute")

app.function("tests.local.e2e_app:post_note", trigger=api.route("POST /notes"), uses=[notes_q.sender])
app.function("tests.local.e2e_app:get_note", trigger=api.route("GET /notes/{id}"), uses=[notes.reader])
app.function("tests.local.e2e_app:boom", trigger=api.route("GET /boom"))
app.function("tests.local.e2e_app:store_note",
             trigger=notes_q.on_message(batch_size=10, max_attempts=2, backoff=Backoff(0.05, 0.1)),
             uses=[notes.writer, seen.read_write, applied.writer], timeout=2)
app.function("tests.local.e2e_app:shout", trigger=inbox.on_created(prefix="in/", suffix=".txt"),
             uses=[inbox.reader, outbox.writer, files.writer])
app.function("tests.local.e2e_app:record_alert", trigger=alerts_topic.on_event(types=["alert.raised"]),
             uses=[alerts.writer])
app.function("tests.local.e2e_app:record_critical",
             trigger=alerts_topic.on_event(types=["alert.raised"], filter={"severity": "critical"}),
             uses=[criticals.writer])
app.function("tests.local.e2e_app:count_tick", trigger=minute.on_tick(), uses=[ticks.writer])


def post_note(request: HttpRequest) -> HttpResponse:
    note = request.json()
    if not isinstance(note, dict) or not isinstance(note.get("id"), str):
        raise HttpError(422, "a note is a JSON object with a string 'id'")
    notes_q.send(note)  # committed before the 202 below
    return HttpResponse.json_body({"accepted": note["id"]}, status=202)


def get_note(request: HttpRequest) -> dict:
    item = notes.get(request.path_params["id"])
    if item is None:
        raise HttpError(404, f"no note {request.path_params['id']!r}")
    return item


def boom(request: HttpRequest) -> None:
    raise RuntimeError("secret internals /etc/passwd")


@idempotent(seen, key=lambda m: m.json()["id"], lease=1.5)
def store_note(message: Message) -> None:
    note = message.json()
    if note.get("poison"):
        raise PermanentError(f"note {note['id']} is poison")
    if note.get("flaky"):
        raise RuntimeError(f"note {note['id']} always fails")
    if note.get("slow"):
        time.sleep(float(note["slow"]))
    applied.put({"id": uuid.uuid4().hex, "note": note["id"]})  # not idempotent by itself: counts runs
    notes.put({"id": note["id"], "text": note.get("text", ""), "attempt": message.attempt})


def shout(event: ObjectCreated) -> None:
    text = inbox.get(event.key)
    outbox.put(event.key.removeprefix("in/"), text.upper(), content_type="text/plain")
    files.put({"id": event.key, "size": event.size, "etag": event.etag})


def record_alert(message: Message) -> None:
    event = message.event()
    alerts.put({"id": event.id, "level": event.data["level"]})


def record_critical(message: Message) -> None:
    criticals.put({"id": message.event().id})


def count_tick(tick: Tick) -> None:
    ticks.put({"id": tick.id, "schedule": tick.schedule})
