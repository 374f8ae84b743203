"""Google Cloud Functions (2nd gen) adapter: functions-framework entry points, events, ports.

The deployed source's generated ``main.py`` re-exports the entry points by name::

    from portside.gcp import on_cloud_event, on_http

- ``on_cloud_event``: Eventarc CloudEvents (Cloud Storage finalized/deleted, Pub/Sub
  messagePublished, Firestore document events, any other type as ``Event``);
- ``on_http``: HTTP routes, Pub/Sub push bodies (queues and topics), Cloud
  Scheduler calls, and CloudEvents sent over HTTP.

Which declared function runs and the physical -> logical names come from the variables in
``adapters/gcp/env.py``. Answers: 2xx acknowledges; a retryable failure answers 500 so Pub/Sub
push, Eventarc and Cloud Scheduler retry; a ``PermanentError`` (or the last attempt) publishes the
event to the trigger's dead-letter topic with the error as attributes and acknowledges; a
malformed payload answers 400 naming the problem. Client libraries load on first port use.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Mapping
from typing import Any

import flask  # functions-framework is a Flask app: importing it costs nothing more
import functions_framework

from portside import deployment as env
from portside.app import load_app
from portside.capabilities import GCP
from portside.declarations import Function, HttpTrigger, ScheduleTrigger, Table
from portside.delivery import Action, Outcome, dead_letter_attributes, decide, http_response, invoke, settle_batch
from portside.errors import DeclarationError, UnsupportedEvent
from portside.events import AnyEvent, Headers, HttpRequest, HttpResponse, Message, Tick
from portside.gcp.convert import Names, is_scheduler, resources_from_env, tick_of, to_events
from portside.routing import Router

__all__ = ["Deployment", "Names", "Reply", "configure", "deployment", "on_cloud_event", "on_http", "to_events"]

log = logging.getLogger("portside.gcp")
JSON = {"content-type": "application/json"}
ATTR_VALUE_LIMIT = GCP.attribute_value_bytes  # Pub/Sub attribute values (portside.capabilities)


class Reply:
    """An answer for functions-framework: status, JSON body, headers. (Plain classes here: a
    dataclass costs its decoration at every cold start.)"""

    __slots__ = ("status", "body")

    def __init__(self, status: int, body: Mapping[str, Any] | None = None) -> None:
        self.status = status
        self.body = body if body is not None else {}

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body!r})"

    def flask(self) -> tuple[bytes, int, dict[str, str]]:
        return json.dumps(self.body, separators=(",", ":")).encode(), self.status, JSON


class Deployment:
    """The one declared function this Cloud Function runs, its target, names and dead-letter topic."""

    def __init__(self, function: Function, target: Any, names: Names, dead_letter_topic: str | None = None) -> None:
        self.function = function
        self.target = target
        self.names = names
        self.dead_letter_topic = dead_letter_topic

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Deployment:
        from portside.gcp.ports import GcpTarget

        fname = environ.get(env.FUNCTION)
        if not fname:
            raise DeclarationError(f"{env.FUNCTION} is not set: the deployment must name the declared function to run")
        spec = environ.get(env.APP)
        if not spec:
            raise DeclarationError(f"{env.APP} is not set: the deployment must name the app (module:attribute)")
        app = load_app(spec)
        function = app.get_function(fname)
        resources = resources_from_env(environ)
        return cls(function, GcpTarget(resources, environ.get(env.PROJECT)), names_for(function, resources),
                   environ.get(env.DEAD_LETTER_TOPIC) or None)

    # -- delivery ------------------------------------------------------------------------------
    def deliver(self, event: AnyEvent, body: bytes, attributes: Mapping[str, str]) -> Reply:
        """Run the handler on one asynchronous event; ``body``/``attributes`` are what a dead
        letter carries (the message as published, or the CloudEvent as received)."""
        outcome = invoke(self.function, self.target, event)
        decision = decide(self.function, outcome)
        if decision.action in (Action.ACK, Action.DROP):
            return Reply(200, {"ok": outcome.ok, "id": event.id} if outcome.ok else
                         {"ok": False, "id": event.id, "dropped": type(outcome.error).__name__})
        if decision.action is Action.RETRY:
            return Reply(500, {"error": f"{type(outcome.error).__name__}: retry", "id": event.id,
                               "attempt": outcome.attempt})
        return self.dead_letter(outcome, body, attributes)

    def dead_letter(self, outcome: Outcome, body: bytes, attributes: Mapping[str, str]) -> Reply:
        """Publish to the trigger's dead-letter topic and acknowledge; if that fails, answer 500 so
        Pub/Sub's own dead-letter policy moves the message after its max attempts."""
        from portside.gcp.ports import publish, topic_path

        event = outcome.event
        if not self.dead_letter_topic:
            log.error("%s: event %s failed for good but %s is not set: answering 500 so the "
                      "subscription's dead-letter policy can move it", self.function.name, event.id,
                      env.DEAD_LETTER_TOPIC)
            return Reply(500, {"error": "dead-letter topic not configured", "id": event.id})
        attrs = {k: _fit(v) for k, v in {**attributes, **dead_letter_attributes(self.function, outcome)}.items()}
        try:
            mid = publish(topic_path(self.dead_letter_topic, getattr(self.target, "project", None)), body, attrs, None)
        except Exception as e:  # noqa: BLE001 - any failure to dead-letter means: let Pub/Sub retry
            log.error("%s: could not publish event %s to dead-letter topic %s: %s: %s", self.function.name,
                      event.id, self.dead_letter_topic, type(e).__name__, e)
            return Reply(500, {"error": "dead-letter publish failed", "id": event.id})
        log.warning("%s: event %s dead-lettered as %s", self.function.name, event.id, mid,
                    extra={"outcome": "dead-letter", "dead_letter_id": mid})
        return Reply(200, {"ok": False, "id": event.id, "dead_letter_id": mid})


def _fit(value: str) -> str:
    raw = value.encode()
    return value if len(raw) <= ATTR_VALUE_LIMIT else raw[:ATTR_VALUE_LIMIT].decode(errors="ignore")


def names_for(function: Function, resources: Mapping[str, Any]) -> Names:
    """Names for ``function``: its trigger's logical source and its app's table keys."""
    app = function.trigger.source.app
    keys = {t.name: (t.key,) if t.sort_key is None else (t.key, t.sort_key)
            for t in (app.of_kind(Table) if app is not None else [])}
    return Names.from_resources(resources, source=function.trigger.source.name,
                                schedule=isinstance(function.trigger, ScheduleTrigger), keys=keys)


_deployment: Deployment | None = None
_lock = threading.Lock()


def deployment() -> Deployment:
    """The deployment, loaded from the environment on the first request (not at import)."""
    global _deployment
    if _deployment is None:
        with _lock:
            if _deployment is None:
                from portside.telemetry import setup_logging

                setup_logging()
                _deployment = Deployment.from_env()
    return _deployment


def configure(dep: Deployment | None) -> None:
    """Use ``dep`` instead of the environment (tests, or an embedding server); None resets."""
    global _deployment
    _deployment = dep


# -- CloudEvent entry --------------------------------------------------------------------------

def _abort(reply: Reply) -> None:
    from werkzeug.exceptions import abort

    abort(_response(*reply.flask()))


def _response(body: bytes, status: int, headers: Any) -> Any:
    import flask

    return flask.Response(body, status, headers)


def _structured(cloud_event: Any) -> bytes:
    """The CloudEvent as received, structured mode JSON: what its dead letter carries."""
    raw = dict(cloud_event.get_attributes()) if hasattr(cloud_event, "get_attributes") else dict(cloud_event)
    data = getattr(cloud_event, "data", None) if hasattr(cloud_event, "get_attributes") else raw.pop("data", None)
    if isinstance(data, (bytes, bytearray, memoryview)):
        import base64

        raw["data_base64"] = base64.b64encode(bytes(data)).decode()
    elif data is not None:
        raw["data"] = data
    return json.dumps(raw, separators=(",", ":"), default=str).encode()


def _dead_letter_payload(event: AnyEvent, received: Any) -> tuple[bytes, dict[str, str]]:
    if isinstance(event, Message):
        return event.body, dict(event.attributes)  # intact: redrive = publish it again
    return _structured(received), {"content-type": "application/cloudevents+json"}


@functions_framework.cloud_event
def on_cloud_event(cloud_event: Any) -> None:
    """Eventarc's CloudEvent -> normalized event -> handler; 4xx for a malformed event."""
    flask.g.portside_entered = True  # per request: _unreadable tells our errors from the framework's
    try:
        dep = deployment()
    except (DeclarationError, RuntimeError) as e:
        log.error("deployment misconfigured: %s", e)
        _abort(Reply(500, {"error": f"deployment misconfigured: {e}"}))
        return
    try:
        events = to_events(cloud_event, dep.names)
    except UnsupportedEvent as e:
        log.warning("%s: unsupported CloudEvent: %s", dep.function.name, e)
        _abort(Reply(400, {"error": str(e)}))
        return
    replies: list[Reply] = []

    def run(event: AnyEvent) -> bool:
        replies.append(dep.deliver(event, *_dead_letter_payload(event, cloud_event)))
        return replies[-1].status < 300

    if settle_batch(events, run, ordered=True)[0]:  # a payload's events in order: the first failure answers
        _abort(replies[-1])


def _unreadable(error: Exception) -> Any:
    """functions-framework reads the CloudEvent before ``on_cloud_event`` runs: a request it cannot
    read was answered in HTML (400, 415), or with a 500 where it crashes (a JSON list where it
    expects a background event's object, a list as an attribute). Answer those as every malformed
    input is answered, a JSON 4xx naming the problem; an error after portside took the request
    stays a 500."""
    from werkzeug.exceptions import HTTPException

    if isinstance(error, HTTPException):
        if error.response is not None:  # portside's own answers (_abort)
            return error.response
        if error.code is not None and error.code < 500:
            return _response(*Reply(error.code, {"error": f"not a CloudEvent: {error.description}"[:2000]}).flask())
    if getattr(flask.g, "portside_entered", False):
        log.exception("internal error in %s", on_cloud_event.__name__)
        return _response(*Reply(500, {"error": "internal error"}).flask())
    return _response(*Reply(400, {"error": f"cannot read the request as a CloudEvent: {type(error).__name__}: "
                                           f"{error}"[:2000]}).flask())


def json_errors() -> None:
    """Register ``_unreadable`` on the functions-framework app being created: runs when the
    deployed main.py imports this package (functions-framework creates the app first); outside
    an app it does nothing."""
    functions_framework.errorhandler(Exception)(_unreadable)


json_errors()


# -- HTTP entry --------------------------------------------------------------------------------

def http_request(request: Any, function: Function | None = None) -> HttpRequest | HttpResponse:
    """A Flask request -> HttpRequest (or a 404/405 answer when no declared route matches)."""
    headers = request.headers
    params: dict[str, str] = {}
    route = None
    if function is not None:
        found = Router([function]).match(request.method, request.path)
        if isinstance(found, HttpResponse):
            return found
        params, route = found.params, found.name
    trace = headers.get("X-Cloud-Trace-Context", "")
    rid = headers.get("Function-Execution-Id") or (trace.split(";")[0].replace("/", "-") if trace else "") \
        or str(uuid.uuid4())
    forwarded = headers.get("X-Forwarded-For", "")
    return HttpRequest(rid, request.method, request.path, Headers(list(headers.items())),
                       {k: v for k, v in request.args.lists()}, request.get_data(), params,
                       dict(request.cookies), forwarded.split(",")[0].strip() or request.remote_addr, route)


def _flask_http(resp: HttpResponse) -> tuple[bytes, int, list[tuple[str, str]]]:
    headers = list(resp.headers.items()) + [("Set-Cookie", c) for c in resp.cookies]
    return resp.body, resp.status, headers


def _is_cloudevent(headers: Any) -> bool:
    return "ce-specversion" in headers or \
        str(headers.get("content-type", "")).startswith("application/cloudevents+json")


@functions_framework.http
def on_http(request: Any) -> Any:
    """HTTP routes, Pub/Sub push bodies, Cloud Scheduler calls and CloudEvents over HTTP."""
    flask.g.portside_entered = True
    try:
        dep = deployment()
    except (DeclarationError, RuntimeError) as e:
        log.error("deployment misconfigured: %s", e)
        return Reply(500, {"error": f"deployment misconfigured: {e}"}).flask()
    trigger = dep.function.trigger
    if isinstance(trigger, HttpTrigger):
        try:
            req = http_request(request, dep.function)
        except (TypeError, ValueError) as e:
            return Reply(400, {"error": f"malformed HTTP request: {e}"}).flask()
        if isinstance(req, HttpResponse):
            return _flask_http(req)
        return _flask_http(http_response(invoke(dep.function, dep.target, req)))
    body = request.get_data()
    received: Any = body
    try:
        if is_scheduler(request.headers):
            events: list[AnyEvent] = [tick_of(dict(request.headers.items()), body, dep.names)]
        elif _is_cloudevent(request.headers):
            from cloudevents.http import from_http

            try:
                received = from_http(dict(request.headers.items()), body)
            except Exception as e:  # noqa: BLE001 - cloudevents raises its own errors, and TypeError/ValueError on odd shapes
                raise UnsupportedEvent(f"malformed CloudEvent over HTTP: {type(e).__name__}: {e}") from None
            events = to_events(received, dep.names)
        else:
            events = to_events(body, dep.names)
    except UnsupportedEvent as e:
        log.warning("%s: unsupported payload: %s", dep.function.name, e)
        return Reply(400, {"error": str(e)}).flask()
    replies = [Reply(200, {"ok": True})]

    def run(event: AnyEvent) -> bool:
        if isinstance(event, Message) or not isinstance(received, (bytes, bytearray)):
            payload = _dead_letter_payload(event, received)
        else:  # a scheduler call or a tick over push: the request body as received
            payload = (body, {"content-type": request.headers.get("content-type", "application/octet-stream"),
                              **({"portside-schedule": event.schedule} if isinstance(event, Tick) else {})})
        replies.append(dep.deliver(event, *payload))
        return replies[-1].status < 300

    settle_batch(events, run, ordered=True)  # a payload's events in order: the first failure answers
    reply = replies[-1]
    return reply.flask()
