"""A small app of our own for the GCP adapter's tests (independent of the reference app)."""

from __future__ import annotations

from typing import Any

from portside import App, HttpError, PermanentError

app = App("gcpsample")
uploads = app.bucket("uploads")
jobs = app.queue("jobs")
orders = app.topic("orders")
items = app.table("items")
nightly = app.schedule("nightly", cron="0 3 * * *")
api = app.api("public")

SEEN: list[Any] = []  # what the recording handlers received (in-process tests)


def record(event: Any) -> None:
    """Remember the event; fail on demand through the event's own content."""
    SEEN.append(event)
    mode = _mode(event)
    if mode == "permanent":
        raise PermanentError(f"cannot process {event.id}: it asked to fail for good")
    if mode == "retry":
        raise RuntimeError(f"transient failure on {event.id}")


def _mode(event: Any) -> str | None:
    attrs = getattr(event, "attributes", None) or {}
    if "mode" in attrs:
        return attrs["mode"]
    key = getattr(event, "key", "")
    if isinstance(key, str):
        return "permanent" if "poison" in key else "retry" if "flaky" in key else None
    return None


def on_job(event: Any) -> None:
    """Queue consumer (used end to end): writes the job to Firestore, or fails as told."""
    body = event.json()
    if body.get("mode") == "permanent":
        raise PermanentError(f"job {body.get('id')!r} is invalid")
    if body.get("mode") == "retry":
        raise RuntimeError(f"job {body.get('id')!r}: downstream unavailable")
    items.put({"id": body["id"], "status": "done", "attempt": event.attempt, "source": event.source})


def get_item(request: Any) -> Any:
    found = items.get(request.path_params["id"])
    if found is None:
        raise HttpError(404, f"no item {request.path_params['id']!r}")
    return found


def echo(request: Any) -> Any:
    if request.arg("crash"):
        raise RuntimeError("boom")
    return {"path": request.path, "params": dict(request.path_params), "query": {k: list(v) for k, v in request.query.items()},
            "body": request.text(), "cookie": request.cookies.get("session"), "id": request.id,
            "ip": request.source_ip, "route": request.route, "type": request.headers["content-type"]}


app.function("tests.gcp.sample:record", trigger=uploads.on_created(), name="on-upload")
app.function("tests.gcp.sample:record", trigger=orders.on_event(max_attempts=5), name="on-order")
app.function("tests.gcp.sample:record", trigger=nightly.on_tick(), name="on-tick")
app.function("tests.gcp.sample:on_job", trigger=jobs.on_message(max_attempts=5), uses=[items.writer])
app.function("tests.gcp.sample:get_item", trigger=api.route("GET /items/{id}"), uses=[items.reader])
app.function("tests.gcp.sample:echo", trigger=api.route("POST /echo/{name}"))
