"""A small app for the fake cloud's own tests: every trigger kind, handlers that misbehave on cue."""

from __future__ import annotations

from portside import App, Backoff, Event, Message, ObjectCreated, PermanentError, Tick, idempotent

app = App("sample", clouds="aws")  # max_attempts=3 on "work" is outside Pub/Sub's 5-100
inbox = app.bucket("inbox")
outbox = app.bucket("outbox")
work = app.queue("work")
news = app.topic("news")
ledger = app.table("ledger")
seen = app.table("seen", ttl="expires_at")
clock = app.schedule("nightly", cron="0 3 * * *")
api = app.api("web")

app.function("tests.fake.sample:copy_text", trigger=inbox.on_created(prefix="in/", suffix=".txt"),
             uses=[inbox.reader, outbox.writer])
app.function("tests.fake.sample:work_item", trigger=work.on_message(batch_size=10, max_attempts=3,
                                                                   backoff=Backoff(5, 60)),
             uses=[ledger.writer])
app.function("tests.fake.sample:count_once", name="count-once",
             trigger=news.on_event(types="Counted"), uses=[ledger.read_write, seen.read_write])
app.function("tests.fake.sample:audit_all", name="audit-all", trigger=news.on_event(), uses=[ledger.writer])
app.function("tests.fake.sample:big_only", name="big-only",
             trigger=news.on_event(types="Counted", filter={"size": "big"}), uses=[ledger.writer])
app.function("tests.fake.sample:sneaky", trigger=inbox.on_created(prefix="sneaky/"), uses=[inbox.reader])
app.function("tests.fake.sample:nightly_report", trigger=clock.on_tick(), uses=[outbox.writer])
app.function("tests.fake.sample:hello", trigger=api.route("GET /hello/{name}"), uses=[news.publisher])
app.function("tests.fake.sample:bad_return", trigger=api.route("GET /bad"))


def copy_text(event: ObjectCreated) -> None:
    data = inbox.get(event.key)
    if data.startswith(b"poison"):
        raise PermanentError(f"{event.key} is poison")
    outbox.put(event.key.replace("in/", "out/", 1), data.upper())


def work_item(message: Message) -> None:
    job = message.json()
    if job.get("fail_until", 0) >= message.attempt:
        raise RuntimeError(f"job {job['n']} failed on attempt {message.attempt}")
    ledger.put({"id": f"job-{job['n']}", "attempt": message.attempt})


@idempotent(seen)
def count_once(message: Message) -> None:
    event = message.event()
    row = ledger.get("counter") or {"id": "counter", "n": 0}
    ledger.put({**row, "n": row["n"] + event.data["by"]})


def audit_all(message: Message) -> None:
    ledger.put({"id": f"audit-{message.id}", "type": message.attributes.get("ce-type", "")})


def big_only(message: Message) -> None:
    ledger.put({"id": f"big-{message.id}"})


def sneaky(event: ObjectCreated) -> None:
    outbox.put("stolen", inbox.get(event.key))  # outbox.writer is not declared


def nightly_report(tick: Tick) -> None:
    outbox.put(f"reports/{tick.time:%Y-%m-%d}.txt", f"report for {tick.schedule}")


def hello(request):  # type: ignore[no-untyped-def]
    name = request.path_params["name"]
    news.publish(Event(type="Greeted", source="/hello", data={"name": name}))
    return {"hello": name}


def bad_return(request):  # type: ignore[no-untyped-def]
    return {1, 2, 3}
