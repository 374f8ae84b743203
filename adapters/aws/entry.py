"""The Lambda entry point: one raw event in, the declared handler run by portside's delivery rules.

``handler(event, context)`` finds its function from ``PORTSIDE_FUNCTION``, maps the raw event
(``portside.aws.events``), runs each normalized event through ``portside.delivery.invoke`` and
acts on ``decide``:

* batches (SQS, Kinesis, DynamoDB Streams): a retryable failure becomes a batch item failure; a
  permanent one (or the last attempt) is sent to ``PORTSIDE_DLQ_URL`` with the error as message
  attributes and acknowledged, so a poison message neither burns retries nor blocks neighbours;
* asynchronous sources (S3, SNS, EventBridge, schedules): a retryable failure re-raises so
  Lambda's asynchronous retries and on-failure destination apply; a permanent one is sent to the
  dead-letter queue and the invocation returns normally;
* HTTP (API Gateway REST/HTTP API, Function URLs): the handler's response, or a JSON error.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from portside import deployment as env
from portside.app import App, load_app
from portside.aws.events import (
    BATCH_SOURCES,
    Names,
    batch_result,
    classify,
    http_flavour,
    http_result,
    http_target,
    items,
    receive_count,
    record_mapper,
    refused,
    scheduler_attempt,
    set_default_names,
    single,
    sqs_record,
)
from portside.capabilities import AWS
from portside.declarations import Bucket, Function, HttpTrigger, Queue, Resource, Table, Topic
from portside.delivery import Action, Outcome, dead_letter_attributes, decide, http_response, invoke, settle_batch
from portside.errors import DeclarationError, UnsupportedEvent
from portside.events import AnyEvent, HttpResponse, Message
from portside.ports import PortCache
from portside.routing import Router
from portside.telemetry import Logger

TYPE_CHECKING = False  # typing, dataclasses and logging stay out of a cold start (bench/startup.py)
if TYPE_CHECKING:
    from typing import Any

log = Logger("portside.aws")
UTC = timezone.utc


class AwsTarget(PortCache):
    """The ``Target`` handlers run on in Lambda: ports are boto3-backed, created on first use."""

    name = "aws"

    def __init__(self, names: Names) -> None:
        super().__init__()
        self.names = names

    def now(self) -> datetime:
        return datetime.now(UTC)

    def physical(self, resource: Resource) -> dict[str, str]:
        """The resource's physical identifiers from ``PORTSIDE_RESOURCES`` as {name, url, arn}."""
        value = self.names.resources.get(resource.name)
        if value is None:
            raise DeclarationError(
                f"{resource.kind} {resource.name!r} has no physical name in {env.RESOURCES} "
                f"(it lists {sorted(self.names.resources)}); is it in the function's uses?")
        if isinstance(value, str):
            if value.startswith("arn:"):
                return {"arn": value}
            if value.startswith(("https://", "http://")):
                return {"url": value}
            return {"name": value}
        return {k: v for k, v in value.items() if isinstance(v, str) and v}

    def make_port(self, resource: Resource) -> Any:
        from portside.aws import ports  # boto3 loads here, on the first port a handler uses

        ids = self.physical(resource)
        if isinstance(resource, Bucket):
            name = ids.get("name") or ids.get("arn", "").rpartition(":")[2]
            return ports.S3Bucket(self._need(resource, name, "a bucket name"))
        if isinstance(resource, Queue):
            url = ids.get("url")
            if not url:
                name = ids.get("name") or ids.get("arn", "").rpartition(":")[2]
                owner = ids.get("arn", "").split(":")[4] if ids.get("arn", "").count(":") >= 5 else None
                args = {"QueueName": self._need(resource, name, "a queue URL or name")}
                if owner:
                    args["QueueOwnerAWSAccountId"] = owner
                url = ports.client("sqs").get_queue_url(**args)["QueueUrl"]
            return ports.SqsQueue(url)
        if isinstance(resource, Topic):
            return ports.SnsTopic(self._need(resource, ids.get("arn"), "a topic ARN"))
        if isinstance(resource, Table):
            name = ids.get("name") or ids.get("arn")
            return ports.DynamoTable(self._need(resource, name, "a table name"), resource.key, resource.sort_key)
        raise TypeError(f"{resource!r} has no port: handlers reach it through its trigger")

    @staticmethod
    def _need(resource: Resource, value: str | None, what: str) -> str:
        if not value:
            raise DeclarationError(f"{env.RESOURCES}[{resource.name!r}] needs {what}")
        return value


def _str_attr(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value or "-"}


def _original_attributes(rec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """An SQS record's message attributes in SendMessage's shape, so a redrive is faithful
    (mistyped ones are skipped: the record's JSON in the body keeps them anyway)."""
    import base64
    import binascii

    raw = rec.get("messageAttributes")
    out: dict[str, dict[str, Any]] = {}
    for name, v in (raw.items() if isinstance(raw, dict) else ()):
        kind = v.get("dataType") if isinstance(v, dict) else None
        if not isinstance(kind, str) or not kind:
            continue
        if kind.startswith("Binary") and isinstance(v.get("binaryValue"), str):
            try:
                out[name] = {"DataType": kind, "BinaryValue": base64.b64decode(v["binaryValue"], validate=True)}
            except (binascii.Error, ValueError):
                continue
        elif isinstance(v.get("stringValue"), str) and v["stringValue"]:
            out[name] = {"DataType": kind, "StringValue": v["stringValue"]}
    return out


class Runtime:
    """Everything one Lambda function needs, built once per process (cold start)."""

    def __init__(self, app: App, function: Function, names: Names, target: AwsTarget, dlq_url: str | None) -> None:
        self.app, self.function, self.names, self.target, self.dlq_url = app, function, names, target, dlq_url
        self.router = Router([self.function])

    @classmethod
    def from_env(cls, environ: Any = None) -> Runtime:
        environ = os.environ if environ is None else environ
        spec = environ.get(env.APP)
        if not spec:
            raise DeclarationError(f"{env.APP} is not set: the deployment must name the app (module:attribute)")
        app = load_app(spec)
        name = environ.get(env.FUNCTION)
        if name:
            function = app.get_function(name)
        elif len(app.functions) == 1:
            function = next(iter(app.functions.values()))
        else:
            raise DeclarationError(f"{env.FUNCTION} is not set and app {app.name!r} has "
                                   f"{len(app.functions)} functions: {sorted(app.functions)}")
        names = Names.from_env(environ, default_source=function.trigger.source.name)
        return cls(app, function, names, AwsTarget(names), environ.get(env.DLQ_URL) or None)

    # -- entry --
    def __call__(self, event: Any, context: Any = None) -> Any:
        request_id = getattr(context, "aws_request_id", None)
        try:
            kind = classify(event)
        except UnsupportedEvent as e:
            if refused(event):  # a synchronous caller (authorizer, WebSocket) gets the error itself
                log.error("%s: %s", self.function.name, e)
                raise
            return self._unsupported(event, e)
        if kind in BATCH_SOURCES:
            return self._batch(event, kind)
        if kind.startswith("http"):
            return self._http(event, kind, request_id)
        return self._async(event, kind, request_id)

    # -- HTTP --
    def _http(self, raw: dict[str, Any], kind: str, request_id: str | None) -> dict[str, Any]:
        flavour = http_flavour(raw)
        matched = None
        target = http_target(raw, kind) if isinstance(self.function.trigger, HttpTrigger) else None
        if target is not None:  # API Gateway routed the request already (it names the route); a Function URL or ALB does not
            route = self.router.match(*target)
            if isinstance(route, HttpResponse):
                return http_result(route, flavour)
            matched = (route.params, route.name)
        try:
            request = single(raw, kind, self.names, request_id, matched)
        except UnsupportedEvent as e:
            log.warning("bad HTTP event: %s", e)
            return http_result(HttpResponse(400, {"content-type": "application/json"},
                                            json.dumps({"error": str(e)}).encode()), flavour)
        return http_result(http_response(invoke(self.function, self.target, request)), flavour)

    # -- batches --
    def _batch(self, raw: dict[str, Any], kind: str) -> dict[str, Any]:
        # FIFO groups with an earlier failure in the batch keep their order; streams resume from
        # the first failure, so later records come again, in order (portside.delivery.settle_batch)
        if kind == "sqs":
            again, held = settle_batch(raw["Records"], self._sqs_item, group=_group)
            failures = [_item_id(rec, kind) for rec in again + held]
        else:
            again, _ = settle_batch(items(raw, kind, self.names), lambda pair: self._item(pair[0], kind, pair[1]),
                                    ordered=True)
            failures = [_item_id(rec, kind) for rec, _ in again]
        if failures:
            log.warning("%d of %d %s records will be retried", len(failures), len(raw["Records"]), kind,
                        extra={"batch_item_failures": failures[:20]})
        return batch_result(failures)  # type: ignore[arg-type]

    def _sqs_item(self, rec: Any) -> bool:
        if rec.__class__ is dict and rec.get("eventSource") == "aws:sqs":  # the common case, as _item finds it
            ident = rec.get("messageId")
            if ident.__class__ is str and ident:
                return self._record(rec, "sqs", sqs_record, ident)
        return self._item(rec, "sqs", record_mapper(rec, "sqs"))

    def _item(self, rec: Any, kind: str, mapper: Any) -> bool:
        """Deliver one record of a batch; False if it must be retried."""
        ident = _item_id(rec, kind)
        if ident is None:
            log.error("%s record without an id cannot be reported or retried; dead-lettering it: %s",
                      kind, sorted(rec) if isinstance(rec, dict) else rec)
            self._dead_letter(rec, kind, Outcome(_placeholder(rec, kind, self.names, "unknown"), 1, None,
                                                 UnsupportedEvent(f"{kind} record without an id")))
            return True
        return self._record(rec, kind, mapper, ident)

    def _record(self, rec: dict[str, Any], kind: str, mapper: Any, ident: str) -> bool:
        """Deliver one record's events; False if the record must be retried."""
        try:
            events = mapper(rec, self.names)
        except UnsupportedEvent as e:
            outcome = Outcome(_placeholder(rec, kind, self.names, ident), _attempt(rec, kind), None, e)
            return self._settle(rec, kind, outcome)
        for event in events:  # a Message carries its attempt (the receive count); other events take the record's
            outcome = invoke(self.function, self.target, event,
                             event.attempt if event.__class__ is Message else _attempt(rec, kind))
            if outcome.error is not None and not self._settle(rec, kind, outcome):  # decide acks every success
                return False
        return True

    def _settle(self, rec: Any, kind: str, outcome: Outcome) -> bool:
        """Act on ``decide``: True when the event is done with (acked, dead-lettered or dropped)."""
        decision = decide(self.function, outcome)
        if decision.action is Action.RETRY:
            return False
        if decision.action is Action.DEAD_LETTER:
            return self._dead_letter(rec, kind, outcome)
        return True

    # -- asynchronous sources --
    def _async(self, raw: dict[str, Any], kind: str, request_id: str | None) -> dict[str, Any]:
        """Run each event; the result counts events handled and dead-lettered (Lambda logs it)."""
        done = dead = 0
        if kind in ("s3", "sns"):
            pairs = [(rec, mapper) for rec, mapper in items(raw, kind, self.names)]
        else:
            pairs = [(raw, lambda r, n: [single(r, kind, n, request_id)])]
        attempt = scheduler_attempt(raw) if kind == "scheduler" else 1
        for rec, mapper in pairs:
            try:
                events = mapper(rec, self.names)
            except UnsupportedEvent as e:
                events = []
                outcome = Outcome(_placeholder(rec, kind, self.names, request_id or "unknown"), attempt, None, e)
                if not self._settle(rec, kind, outcome):
                    raise e
                dead += 1
            for event in events:
                outcome = invoke(self.function, self.target, event, attempt)
                if not self._settle(rec, kind, outcome):
                    raise outcome.error  # type: ignore[misc]  # Lambda retries, then its on-failure destination
                if outcome.ok:
                    done += 1
                else:
                    dead += 1
        return {"processed": done, "dead_lettered": dead} if dead else {"processed": done}

    # -- dead letters --
    def _dead_letter(self, rec: Any, kind: str, outcome: Outcome) -> bool:
        """Send the failed record, intact, to the DLQ with the error; False if that is impossible."""
        if not self.dlq_url:
            log.error("%s: event %s failed for good but %s is not set: leaving it to the source's retries",
                      self.function.name, outcome.event.id, env.DLQ_URL)
            return False
        attributes = {k: _str_attr(v) for k, v in dead_letter_attributes(self.function, outcome).items()}
        attributes["portside-source"] = _str_attr(kind)
        group = None
        if kind == "sqs" and isinstance(rec, dict) and isinstance(rec.get("body"), str):
            body = rec["body"]
            group = _group(rec)
            original = _original_attributes(rec)
            if len(original) + len(attributes) <= AWS.message_attributes:
                attributes.update(original)
            elif original:
                attributes["portside-original-attributes"] = _str_attr(json.dumps(rec.get("messageAttributes")))
        else:
            body = _json(rec)
        try:
            from portside.aws import ports

            ports.send_dead_letter(self.dlq_url, body, attributes, group)
        except Exception:  # noqa: BLE001 - the event is not lost: the source retries it
            log.exception("%s: could not dead-letter event %s", self.function.name, outcome.event.id)
            return False
        log.warning("%s: event %s dead-lettered after %d attempt(s): %s: %s", self.function.name,
                    outcome.event.id, outcome.attempt, type(outcome.error).__name__, outcome.error,
                    extra={"outcome": "dead-letter"})
        return True

    def _unsupported(self, raw: Any, error: UnsupportedEvent) -> dict[str, Any]:
        log.error("%s: %s", self.function.name, error)
        placeholder = Message("unsupported", _json(raw)[:1024].encode(errors="replace") or b"-", "unknown")
        if self._dead_letter(raw, "unknown", Outcome(placeholder, 1, None, error)):
            return {"dead_lettered": 1, "error": str(error)}
        raise error


def _item_id(rec: Any, kind: str) -> str | None:
    """What ``batchItemFailures`` names: the SQS message id, or the stream sequence number."""
    if not isinstance(rec, dict):
        return None
    if kind == "sqs":
        value = rec.get("messageId")
    else:
        inner = rec.get("kinesis" if kind == "kinesis" else "dynamodb")
        value = inner.get("sequenceNumber" if kind == "kinesis" else "SequenceNumber") if isinstance(inner, dict) else None
    return value if isinstance(value, str) and value else None


def _system(rec: Any, name: str) -> str | None:
    """An SQS record's system attribute as text, None when absent or mistyped."""
    attrs = rec.get("attributes") if isinstance(rec, dict) else None
    value = attrs.get(name) if isinstance(attrs, dict) else None
    return value if isinstance(value, str) and value else None


def _group(rec: Any) -> str | None:
    return _system(rec, "MessageGroupId")


def _attempt(rec: Any, kind: str) -> int:
    return receive_count(_system(rec, "ApproximateReceiveCount")) if kind == "sqs" else 1


def _json(value: Any) -> str:
    """``value`` as JSON text for a dead letter; one nested deeper than Python can encode (never
    from Lambda, whose runtime could not have parsed it) is described instead."""
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (RecursionError, ValueError):
        keys = sorted(map(str, value))[:12] if isinstance(value, dict) else type(value).__name__
        return json.dumps({"portside-unencodable": f"nested too deep to encode as JSON; keys {keys}"})


def _placeholder(rec: Any, kind: str, names: Names, ident: str) -> AnyEvent:
    """A Message standing for a record that could not be mapped, so delivery can dead-letter it."""
    body = rec.get("body") if isinstance(rec, dict) and isinstance(rec.get("body"), str) else _json(rec)
    source = names.logical(rec.get("eventSourceARN") if isinstance(rec, dict) else None)
    return Message(ident or "unknown", body.encode(errors="replace"), source or kind)


_runtime: Runtime | None = None


def runtime() -> Runtime:
    """The process's Runtime, built on first use from the environment."""
    global _runtime
    if _runtime is None:
        from portside.telemetry import setup_logging

        setup_logging()
        rt = Runtime.from_env()
        set_default_names(rt.names)
        _runtime = rt
    return _runtime


def reset() -> None:
    """Forget the cached runtime (tests that change the environment)."""
    global _runtime
    _runtime = None
    set_default_names(None)


def handler(event: Any, context: Any = None) -> Any:
    """The Lambda handler (``portside.aws.handler``)."""
    return runtime()(event, context)
