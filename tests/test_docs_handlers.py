"""docs/guides/handlers.md, "Everything a first handler and its test touch": every one-line example in
it, run on the fake cloud, so the guide cannot drift from the API."""

from __future__ import annotations

from portside import (
    App,
    Backoff,
    Event,
    HttpError,
    HttpRequest,
    HttpResponse,
    InProgress,
    Message,
    NotFound,
    ObjectCreated,
    PermanentError,
    context,
    idempotent,
)
from portside.fake import FakeCloud

app = App("docs-shop")
orders = app.table("orders")
lines = app.table("lines", key="order", sort_key="n")
seen = app.table("seen", ttl="expires_at")
jobs = app.queue("jobs")
events = app.topic("events")
uploads = app.bucket("uploads")
thumbs = app.bucket("thumbs")
api = app.api("public")
nightly = app.schedule("nightly", cron="5 0 * * *")
M = "tests.test_docs_handlers"
app.function(f"{M}:place", trigger=api.route("POST /orders"), uses=[orders.read_write, lines.writer, events.publisher,
                                                                      jobs.sender])
app.function(f"{M}:show", trigger=api.route("GET /orders/{id}"), uses=[orders.reader, lines.reader])
app.function(f"{M}:misc", trigger=api.route("GET /misc"))
app.function(f"{M}:charge", trigger=events.on_event(types=["OrderPlaced"]), uses=[seen.read_write, orders.writer])
app.function(f"{M}:work", trigger=jobs.on_message(max_attempts=6, backoff=Backoff(1, 60), dead_letter=True),
             uses=[orders.writer])
app.function(f"{M}:thumb", trigger=uploads.on_created(prefix="in/", suffix=".png"),
             uses=[uploads.reader, uploads.writer, thumbs.writer])
app.function(f"{M}:count", trigger=nightly.on_tick(), uses=[orders.writer])


def place(request: HttpRequest) -> HttpResponse:
    body = request.json()
    if not body.get("items"):
        raise HttpError(422, "items must not be empty")
    order_id = request.headers.get("idempotency-key") or "o-1"
    assert request.query.get("page", ("1",))[0] == "1" and request.cookies == {}
    orders.put({"id": order_id, "total": 4998})
    assert orders.put_if_absent({"id": order_id}) is False
    for n, item in enumerate(body["items"], 1):
        lines.put({"order": order_id, "n": f"{n:03}", "sku": item})
    events.publish(Event("OrderPlaced", "/shop/orders", {"order_id": order_id}))
    events.publish({"id": order_id}, attributes={"band": "large"})
    jobs.send({"id": 1})
    jobs.send(b"raw", attributes={"kind": "x"}, delay=30)
    jobs.send_batch([{"id": 2}, {"id": 3}])
    return HttpResponse.json_body({"id": order_id}, status=201)


def show(request: HttpRequest) -> HttpResponse | dict:
    order = orders.get(request.path_params["id"])
    if order is None:
        raise HttpError(404, f"no order {request.path_params['id']}")
    assert order == orders.get({"id": request.path_params["id"]})
    return {"order": order, "lines": lines.query(order["id"], limit=10), "line": lines.get({"order": order["id"], "n": "002"})}


def misc(request: HttpRequest) -> object:
    what = request.query.get("what", ("",))[0]
    answers: dict[str, object] = {"text": "pong", "none": None, "redirect": HttpResponse(302, {"location": "/orders"})}
    return answers.get(what, {"ok": True})


@idempotent(seen, key=lambda m: m.event().data["order_id"])
def charge(message: Message) -> None:
    inv = context()
    assert inv.function.name == "charge" and inv.attempt == message.attempt and inv.correlation_id and inv.trace.trace_id
    orders.update(message.event().data["order_id"], {"status": "paid"})


def work(message: Message) -> None:
    if message.text() == "raw":
        raise PermanentError("raw jobs are not accepted")
    if message.json()["id"] == 3:
        raise RuntimeError("payment API down")


def thumb(event: ObjectCreated) -> None:
    data = uploads.get(event.key)
    assert uploads.exists(event.key) and list(uploads.list("in/")) == [event.key]
    try:
        uploads.get("in/missing.png")
    except NotFound:
        pass
    thumbs.put(event.key.removeprefix("in/"), data, content_type="image/png")
    assert uploads.signed_url(event.key, expires=600)
    uploads.delete(event.key)


def count(tick: object) -> None:
    orders.put({"id": "nightly", "ran": True})
    orders.delete("nightly")


def test_every_line_of_the_guide_runs() -> None:
    cloud = FakeCloud(app)
    assert cloud.http("POST", "/orders", json={"items": []}).status == 422
    created = cloud.http("POST", "/orders", json={"items": ["kibble", "leash"]}, headers={"idempotency-key": "o-9"})
    assert created.status == 201 and created.json() == {"id": "o-9"}
    cloud.upload("uploads", "in/a.png", b"\x89PNG")
    cloud.tick("nightly")
    cloud.inject(duplicates=1)
    cloud.run_until_idle()
    shown = cloud.http("GET", "/orders/o-9").json()
    assert shown["order"]["status"] == "paid" and [x["sku"] for x in shown["lines"]] == ["kibble", "leash"]
    assert shown["line"]["sku"] == "leash"
    assert cloud.http("GET", "/orders/none").status == 404
    assert cloud.http("GET", "/misc", query={"what": ["text"]}).body == b"pong"
    assert cloud.http("GET", "/misc", query={"what": ["none"]}).status == 204
    assert cloud.http("GET", "/misc", query={"what": ["redirect"]}).status == 302
    assert cloud.http("POST", "/orders", body=b"{nope").status == 400
    assert cloud.objects("thumbs") == {"a.png": b"\x89PNG"} and cloud.objects("uploads") == {}
    dead = {d.error_type: d for d in cloud.dead_letters("work")}
    assert dead["PermanentError"].attempts == 1 and dead["RuntimeError"].attempts == 6
    assert len(cloud.published("events")) == 2 and len(cloud.sent("jobs")) == 4
    assert len([o for o in cloud.invocations("charge") if o.ok]) >= 1
    assert issubclass(InProgress, Exception)
