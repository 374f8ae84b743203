"""The outbox test's app: POST /facts records a fact and publishes it through an outbox; a
subscriber notes each event. A fact with "die": true kills the process (SIGKILL) between the
record and the publish."""

from __future__ import annotations

import os
import signal

from portside import App, Event, HttpRequest, HttpResponse, Message
from portside.outbox import Outbox, Proof

app = App("local-outbox")
api = app.api("public")
news = app.topic("news")
facts = app.table("facts")
seen = app.table("seen")
outbox = Outbox(app, "outbox", topics=[news], proofs=[facts])
app.function("tests.local.outbox_app:record", trigger=api.route("POST /facts"),
             uses=[facts.read_write, news.publisher, *outbox.uses])
app.function("tests.local.outbox_app:note", trigger=news.on_event(), uses=[seen.writer])


def record(request: HttpRequest) -> HttpResponse:
    fact = request.json()
    event = Event("fact.recorded", "test", fact, id=f"ev-{fact['id']}")
    with outbox.publishing(news, event, proof=Proof(facts, {"id": fact["id"]}, {"event_id": event.id})):
        facts.put({"id": fact["id"], "event_id": event.id})
        if fact.get("die"):
            os.kill(os.getpid(), signal.SIGKILL)
    return HttpResponse(202)


def note(message: Message) -> None:
    seen.put({"id": message.event().id})
