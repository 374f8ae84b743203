"""Event sourcing, the read models: `order-summaries` is a projection of the order log.

``project_order`` keeps it current from the `orders` topic, by replaying the order's log
(not by applying the one event it got), so duplicates and out-of-order deliveries converge
on the same row. Because the log is the truth, projections can be dropped and rebuilt:
``POST /admin/rebuild-projections`` queues one job per day, and ``rebuild_day`` replays
every order of that day (a queue spreads a long rebuild over many short invocations).
Put the admin route behind your API's authorizer in production.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from handlers.app import order_index, order_summaries, rebuild_jobs
from handlers.orderlog import replay
from handlers.schemas import ORDER_EVENT_TYPES, read_order_event
from portside import HttpError, HttpRequest, HttpResponse, Message, PermanentError

MAX_DAYS = 366


def summary(state: dict[str, Any]) -> dict[str, Any]:
    """The projection row: what a listing page needs, without the history."""
    return {"order_id": state["order_id"], "status": state["status"], "version": state["version"],
            "customer": state.get("customer"), "total_cents": state.get("total_cents", 0),
            "day": state.get("day"), "tracking": state.get("tracking")}


def refresh(order_id: str) -> bool:
    """Replay one order into its summary; never overwrite a newer one. True if written."""
    state = replay(order_id)
    if state is None:
        return False
    existing = order_summaries.get(order_id)
    if existing is not None and int(existing.get("version", 0)) > state["version"]:
        return False
    order_summaries.put(summary(state))
    return True


def project_order(message: Message) -> None:
    _, data = read_order_event(message, *ORDER_EVENT_TYPES)
    refresh(data["order_id"])


def _day(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise HttpError(422, f"{name} must be a date like 2026-01-31, got {value!r}") from None


def request_rebuild(request: HttpRequest) -> HttpResponse:
    """POST /admin/rebuild-projections {"from": "2026-01-01", "to": "2026-01-31"}: 202, jobs queued."""
    try:
        body = request.json() if request.body else {}
    except PermanentError:
        raise HttpError(400, "body must be JSON") from None
    if not isinstance(body, dict):
        raise HttpError(400, "body must be a JSON object")
    today = request.time.date()
    first = _day(body["from"], "from") if "from" in body else today
    last = _day(body["to"], "to") if "to" in body else today
    if last < first:
        raise HttpError(422, f"to ({last}) is before from ({first})")
    if (last - first).days >= MAX_DAYS:
        raise HttpError(422, f"rebuild at most {MAX_DAYS} days per request")
    days = [(first + timedelta(d)).isoformat() for d in range((last - first).days + 1)]
    for day in days:
        rebuild_jobs.send({"day": day})
    return HttpResponse.json_body({"queued_days": days}, status=202)


def rebuild_day(message: Message) -> None:
    """Replay every order placed on one day into `order-summaries`."""
    job = message.json()
    day = job.get("day") if isinstance(job, dict) else None
    try:
        date.fromisoformat(day)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PermanentError(f"rebuild job {message.id} needs a 'day' like 2026-01-31, got {day!r}") from None
    for row in order_index.query(day):
        refresh(row["order_id"])
