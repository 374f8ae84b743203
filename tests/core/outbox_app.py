"""A small app with an outbox, shared by the outbox tests of every target: POST /facts records a fact
and publishes `fact.recorded` on `news` through the outbox; `note` stores each event's id in `seen`.
``broken`` tells ``record`` what to break on its next run."""

from __future__ import annotations

from portside import App, Event, HttpRequest, HttpResponse, Message
from portside.outbox import Outbox, Proof

app = App("outbox-test")
api = app.api("public")
news = app.topic("news")
other = app.topic("other")
facts = app.table("facts")
seen = app.table("seen")
outbox = Outbox(app, "outbox", topics=[news], proofs=[facts], grace=60)
app.function("tests.core.outbox_app:record", trigger=api.route("POST /facts"),
             uses=[facts.read_write, news.publisher, other.publisher, *outbox.uses])
app.function("tests.core.outbox_app:note", trigger=news.on_event(), uses=[seen.writer])

broken: list[str] = []  # what record() is told to break this time


def record(request: HttpRequest) -> HttpResponse:
    fact = request.json()
    event = Event("fact.recorded", "test", fact, id=f"ev-{fact['id']}")
    topic = other if "wrong-topic" in broken else news
    proof = None if "no-proof" in broken else Proof(facts, {"id": fact["id"]}, {"event_id": event.id})
    with outbox.publishing(topic, event, proof=proof) as staged:
        if facts.get(fact["id"]) is not None:
            staged.cancel()  # recorded before: announced then, or staged for the relay
            return HttpResponse(200)
        if "before-record" in broken:
            raise ConnectionError("died before recording")
        facts.put({"id": fact["id"], "event_id": event.id})
        if "after-record" in broken:
            raise ConnectionError("died after recording")
    return HttpResponse(202)


def note(message: Message) -> None:
    seen.put({"id": message.event().id})
