"""The console's test app: a request whose work fans out, and a poison message that can be fixed.

POST /orders -> queue order-jobs -> work -> topic order-events -> notify (table notices) and audit
(table audit). An order with "poison": true fails for good (a dead letter) until an object named
after the order is uploaded to bucket fixes; then a redrive succeeds.
"""

from __future__ import annotations

from portside import App, HttpRequest, HttpResponse, Message, PermanentError

app = App("console-test")
api = app.api("public")
jobs = app.queue("order-jobs")
events = app.topic("order-events")
fixes = app.bucket("fixes")
notices = app.table("notices")
audit_log = app.table("audit", key="order", sort_key="seq")

app.function("tests.local.console_app:place", trigger=api.route("POST /orders"), uses=[jobs.sender])
app.function("tests.local.console_app:work", trigger=jobs.on_message(), uses=[events.publisher, fixes.reader])
app.function("tests.local.console_app:notify", trigger=events.on_event(), uses=[notices.writer])
app.function("tests.local.console_app:audit", trigger=events.on_event(), uses=[audit_log.writer])


def place(request: HttpRequest) -> HttpResponse:
    """Accept an order.

    Example: {"id": "o-1", "item": "kibble"}
    """
    order = request.json()
    jobs.send(order)
    return HttpResponse.json_body({"accepted": order["id"]}, status=202)


def work(message: Message) -> None:
    order = message.json()
    if order.get("poison") and not fixes.exists(order["id"]):
        raise PermanentError(f"order {order['id']} is poison until fixes/{order['id']} exists")
    events.publish(order)


def notify(message: Message) -> None:
    notices.put({"id": message.json()["id"], "sent": True})


def audit(message: Message) -> None:
    audit_log.put({"order": message.json()["id"], "seq": "001", "what": "placed"})
