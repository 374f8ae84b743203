"""The handlers of tests/contract/client_app.py."""

from __future__ import annotations

from portside import HttpRequest, Message, ObjectCreated, PermanentError, Tick
from tests.contract.client_app import groups, log, news


def on_upload(event: ObjectCreated) -> None:
    log.put({"id": f"upload:{event.key}", "size": event.size})


def work(message: Message) -> None:
    job = message.json()
    if job.get("poison"):
        raise PermanentError(f"job {job['n']} is poison")
    log.put({"id": f"job:{job['n']}:{message.id}", "attempt": message.attempt})
    news.publish({"done": job["n"]}, {"ce-type": "job.done"})


def record(message: Message) -> None:
    """Appends each message's n to its group, in the order the group's messages arrive."""
    job = message.json()
    if job.get("fail_once") and message.attempt == 1:
        raise RuntimeError(f"{message.ordering_key} {job['n']}: failing its first attempt")
    groups.put({"group": message.ordering_key, "n": f"{len(groups.query(message.ordering_key)):04d}",
                "value": job["n"]})


def audit(message: Message) -> None:
    log.put({"id": f"audit:{message.id}", "type": message.attributes.get("ce-type", "")})


def nightly(tick: Tick) -> None:
    log.put({"id": f"tick:{tick.schedule}"})


def hello(request: HttpRequest) -> dict:
    return {"hello": request.path_params["name"]}
