"""A small app of its own for the AWS adapter's tests: one function per trigger kind."""

from __future__ import annotations

from portside import App, HttpError, HttpRequest, Message, ObjectCreated, PermanentError, Tick

app = App("awstest", clouds="aws")  # max_attempts=3 below is outside Pub/Sub's 5-100: an AWS-only app
uploads = app.bucket("uploads")
thumbs = app.bucket("thumbs")
jobs = app.queue("jobs")
events = app.topic("events")
seen = app.table("seen")
api = app.api("api")
nightly = app.schedule("nightly", rate="1 day")

app.function("tests.aws.e2e_app:copy_upload", trigger=uploads.on_created(prefix="in/"),
             uses=[uploads.reader, thumbs.writer])
app.function("tests.aws.e2e_app:work", trigger=jobs.on_message(max_attempts=3),
             uses=[seen.read_write, events.publisher])
app.function("tests.aws.e2e_app:on_event", trigger=events.on_event(types=["job.done"]), uses=[seen.writer])
app.function("tests.aws.e2e_app:get_item", trigger=api.route("GET /items/{id}"), uses=[seen.reader])
app.function("tests.aws.e2e_app:tick", trigger=nightly.on_tick(), uses=[thumbs.writer])


def copy_upload(event: ObjectCreated) -> None:
    data = uploads.get(event.key)
    thumbs.put("out/" + event.key.removeprefix("in/"), data.upper(), "text/plain", {"source-bucket": event.bucket})


def work(message: Message) -> None:
    job = message.json()
    if job.get("fail") == "retry":
        raise RuntimeError(f"job {job['n']} hit a transient error")
    if job.get("fail") == "permanent":
        raise PermanentError(f"job {job['n']} is invalid")
    seen.put({"id": f"job-{job['n']}", "n": job["n"], "attempt": message.attempt})


def on_event(message: Message) -> None:
    event = message.event()
    seen.put({"id": f"event-{event.id}", "type": event.type})


def get_item(request: HttpRequest) -> dict:
    item = seen.get(request.path_params["id"])
    if item is None:
        raise HttpError(404, f"no item {request.path_params['id']}")
    return item


def tick(event: Tick) -> None:
    if event.schedule != "nightly":
        raise PermanentError(f"unexpected schedule {event.schedule}")
    thumbs.put(f"ticks/{event.id.replace('/', '_')}", event.time.isoformat())
