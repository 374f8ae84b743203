"""Put an event into the app from outside: a message on a queue or topic, an upload, a schedule tick.

One function for ``portside emit`` and the console's form, so both refuse the same things: a
resource that takes no events, an option that does not apply to the resource's kind.
"""

from __future__ import annotations

import json
from typing import Any

from portside.declarations import Api, Bucket, Function, Queue, Schedule, Topic
from portside.errors import PortsideError
from portside.events import Event
from portside.local.errors import LocalError
from portside.local.runtime import LocalCloud
from portside.runtime import load_handler

# What each kind takes besides a body; the names are the CLI's options.
OPTIONS = {"key": "--key", "ce_type": "--type", "attributes": "--attr", "content_type": "--content-type"}
TAKES = {Queue: {"attributes"}, Topic: {"attributes", "ce_type"}, Bucket: {"key", "content_type"}, Schedule: set()}


def inject(cloud: LocalCloud, name: str, body: bytes, *, key: str | None = None, ce_type: str | None = None,
           attributes: dict[str, str] | None = None, content_type: str | None = None) -> str:
    """Store the event durably (the running runtime delivers it); say what was stored."""
    res = cloud.app.resource(name)
    takes = next((v for k, v in TAKES.items() if isinstance(res, k)), None)
    if takes is None:
        hint = " (send it an HTTP request instead: `portside invoke`)" if isinstance(res, Api) else ""
        raise LocalError(f"{res.kind} {res.name!r} takes no events: emit to a queue, topic, bucket or schedule{hint}")
    given = {"key": key, "ce_type": ce_type, "attributes": attributes, "content_type": content_type}
    wrong = [OPTIONS[k] for k, v in given.items() if v and k not in takes]
    if wrong:
        fits = ", ".join(OPTIONS[k] for k in sorted(takes)) or "no option"
        raise LocalError(f"{' and '.join(wrong)} do{'es' if len(wrong) == 1 else ''} not apply to {res.kind} "
                         f"{res.name!r} (a {res.kind} takes {fits})")
    if isinstance(res, Queue):
        return f"message {cloud.send(res.name, body, attributes)} on queue {res.name}"
    if isinstance(res, Topic):
        message: Any = body
        if ce_type:
            try:
                data: Any = json.loads(body) if body else None
            except ValueError:
                data = body.decode("utf-8", "replace")
            message = Event(ce_type, "portside-local", data)
        return f"message {cloud.publish(res.name, message, attributes)} on topic {res.name}"
    if isinstance(res, Bucket):
        if not key:
            raise LocalError(f"an upload to bucket {res.name!r} needs a key (--key KEY, or DATA as @file)")
        cloud.upload(res.name, key, body, content_type)
        return f"object {key!r} ({len(body)} bytes) in bucket {res.name}"
    return f"tick of schedule {res.name} to {cloud.tick(res.name)} function(s)"


def example(fn: Function) -> str:
    """A request body to try a route with: the first JSON object in its handler's docstring, if any
    (``Example: {"name": "Ada"}``), so neither the CLI nor the console names an app's routes."""
    try:
        doc = load_handler(fn).__doc__ or ""
    except PortsideError:
        return ""
    return example_from(doc)


def example_from(doc: str) -> str:
    """The first ``{...}`` in ``doc`` that parses as JSON (a handler documents what it accepts)."""
    for start in (i for i, c in enumerate(doc) if c == "{"):
        depth = 0
        for end in range(start, len(doc)):
            depth += {"{": 1, "}": -1}.get(doc[end], 0)
            if depth == 0:
                try:
                    value = json.loads(doc[start:end + 1])
                except ValueError:
                    break
                return json.dumps(value) if isinstance(value, dict) else ""
    return ""
