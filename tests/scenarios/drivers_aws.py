"""The ``aws`` target: the app's handlers through portside.aws (entry, to_events, boto3 ports) on moto.

There is no Lambda here (moto's needs Docker), so this driver plays the parts of AWS that moto
does not, and only those. What each side carries:

moto (a ThreadedMotoServer on 127.0.0.1, a free port; boto3 reaches it via AWS_ENDPOINT_URL):
  S3 buckets and objects; S3 -> SQS bucket notifications (moto builds the S3 event records and
  its s3:TestEvent); SQS queues, receive counts, visibility timeouts and the redrive policy to
  each DLQ; SNS topics, SQS subscriptions with raw delivery and filter policies on message
  attributes; DynamoDB tables (conditional writes included). Every port call a handler makes.
the driver (as infra/aws would have provisioned, and as Lambda would run it):
  - creates the resources infra/aws creates, with its physical names (portside.infra.naming.Names):
    a queue + DLQ (redrive after max_attempts receives) per declared queue, per bucket trigger
    (S3 notifies it, prefix/suffix filtered) and per topic subscriber (raw delivery, filter
    policy from ``types``/``filter``); one DynamoDB table (hash/range keys as strings) per table;
  - builds each function's environment as infra/aws/function.py does (PORTSIDE_APP,
    PORTSIDE_FUNCTION, PORTSIDE_RESOURCES for its uses and trigger source, PORTSIDE_DLQ_URL)
    and one ``portside.aws.Runtime`` from it: the object ``portside.aws.handler`` delegates to,
    one per function as Lambda keeps one sandbox per function;
  - plays the SQS event source mapping: ReceiveMessage (up to the trigger's batch size), the
    exact Lambda SQS event, the entry, then DeleteMessage for every record not in
    ``batchItemFailures``; failed ones come back when their visibility timeout ends, and SQS
    counts the receives (the attempt number the adapter reads);
  - plays API Gateway HTTP API: matches the route, sends a payload-format 2.0 event, maps the
    returned dict to the HTTP answer;
  - publishes from outside through the adapter's own SNS port (what a portside producer does).
Not exercised here: IAM (moto does not enforce policies; the grants are tested under Pulumi
mocks in tests/infra), encryption settings, Lambda concurrency/scaling, EventBridge Scheduler.
Time is compressed: visibility timeouts are VISIBILITY seconds instead of 6x the function
timeout, so a message retried five times takes seconds, not minutes.
"""

from __future__ import annotations

import base64
import json as jsonlib
import os
import time
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from portside import Event
from portside.app import load_app
from portside.declarations import (
    Api,
    Bucket,
    Function,
    HttpTrigger,
    ObjectCreatedTrigger,
    ObjectDeletedTrigger,
    Queue,
    QueueTrigger,
    Schedule,
    Table,
    Topic,
    TopicTrigger,
)
from portside.handles import encode_body, event_attributes
from tests.aws.conftest import lambda_sqs_event
from tests.scenarios.drivers import DeadLetter, EventSource, PollingDriver, Reply, register

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
VISIBILITY = 1  # seconds: the retry delay of every SQS-fed function (infra: max(30, 6 x timeout))
APP_SPEC = "handlers.app:app"
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}


@dataclass
class Inbox:
    """The SQS queue a function's event source mapping reads, and its dead-letter queue."""

    function: Function
    url: str
    arn: str
    dlq_url: str | None
    runtime: Any = None


@dataclass
class Context:
    """The few Lambda context attributes an entry may read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def http_api_event(method: str, path: str, route: str, params: dict[str, str], body: bytes,
                   headers: Mapping[str, str], query: Mapping[str, str]) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as API Gateway sends it."""
    now = datetime.now(timezone.utc)
    hdrs = {k.lower(): v for k, v in headers.items()}
    hdrs.setdefault("host", "abc123.execute-api.eu-west-1.amazonaws.com")
    hdrs.setdefault("user-agent", "portside-scenarios")
    hdrs["content-length"] = str(len(body))
    try:
        text, b64 = body.decode(), False
    except UnicodeDecodeError:
        text, b64 = base64.b64encode(body).decode(), True
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": urlencode(query or {}),
        "headers": hdrs,
        "requestContext": {
            "accountId": ACCOUNT, "apiId": "abc123", "domainName": hdrs["host"], "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": hdrs["user-agent"]},
            "requestId": uuid.uuid4().hex[:16] + "=", "routeKey": route, "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(now.timestamp() * 1000)},
        "isBase64Encoded": b64,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if params:
        event["pathParameters"] = params
    if body:
        event["body"] = text
    return event


def _moto_unavailable() -> str | None:
    try:
        import boto3  # noqa: F401
        from moto.server import ThreadedMotoServer  # noqa: F401
    except ImportError as e:
        return f"moto[server] and boto3 are needed ({e.name} is not installed)"
    return None


@register
class AwsDriver(PollingDriver):
    """The reference app on moto, each function run by portside.aws's entry."""

    name = "aws"
    poll_max = 0.25  # a check is a few emulator calls: cheap next to a second of waiting
    quiet = 1.0  # settle: the snapshot counts messages in flight or awaiting a retry, so little is needed

    @classmethod
    def unavailable(cls) -> str | None:
        return _moto_unavailable()

    def __init__(self, app: str = APP_SPEC) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        from portside.aws import ports
        from portside.infra.naming import Names

        self.app_spec, self.app = app, load_app(app)
        self.names = Names("ps-scn", "aws")
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        self._wait_for_moto()
        self._saved = {k: os.environ.get(k) for k in (*ENV, "AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE")}
        os.environ.update(ENV)
        os.environ["AWS_ENDPOINT_URL"] = self.url  # what the adapter's boto3 clients use
        os.environ["AWS_CONFIG_FILE"] = os.devnull
        os.environ.pop("AWS_PROFILE", None)
        ports.reset_clients()
        session = boto3.session.Session(region_name=REGION)
        self.s3, self.sqs, self.sns, self.ddb = (session.client(s, endpoint_url=self.url)
                                                  for s in ("s3", "sqs", "sns", "dynamodb"))
        self.source = EventSource(lambda error: self.errors.append(error))
        self._dead: list[DeadLetter] = []
        self.inboxes: list[Inbox] = []
        self.errors: list[str] = []  # driver-side failures (a poller that could not reach moto)
        try:
            self._deploy()
        except BaseException:
            self.close()
            raise

    def _wait_for_moto(self) -> None:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).read()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    # -- provisioning, as infra/aws does it --
    def _deploy(self) -> None:
        app, n = self.app, self.names
        self.physical: dict[str, Any] = {}  # logical -> what infra puts in PORTSIDE_RESOURCES
        self.buckets: dict[str, str] = {}
        self.topics: dict[str, str] = {}
        self.tables: dict[str, str] = {}
        suffix = uuid.uuid4().hex[:8]  # S3 appends a unique suffix to infra's bucket_prefix
        queue_pairs: dict[str, tuple[str, str, str | None]] = {}
        for r in app.resources.values():
            if isinstance(r, Bucket):
                name = self.buckets[r.name] = n.bucket(r.name) + suffix
                self.s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
                self.physical[r.name] = name
            elif isinstance(r, Table):
                keys = [(r.key, "HASH")] + ([(r.sort_key, "RANGE")] if r.sort_key else [])
                name = self.tables[r.name] = n(r.name)
                self.ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                      KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
                                      AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys])
                self.physical[r.name] = name
            elif isinstance(r, Topic):
                self.topics[r.name] = self.physical[r.name] = self.sns.create_topic(Name=n(r.name))["TopicArn"]
            elif isinstance(r, Queue):
                consumer = next(app.consumers(r), None)
                t = consumer.trigger if consumer else None
                pair = queue_pairs[r.name] = self._queue_pair(n(r.name), t.max_attempts if t else 5,
                                                               t.dead_letter if t else True, r.fifo)
                self.physical[r.name] = pair[0]  # infra: the queue URL
            elif isinstance(r, (Api, Schedule)):
                self.physical[r.name] = n(r.name)
        notifications: dict[str, list[dict[str, Any]]] = {}
        for fn in app.functions.values():
            t = fn.trigger
            if isinstance(t, QueueTrigger):
                url, arn, dlq = queue_pairs[t.source.name]
            elif isinstance(t, TopicTrigger):
                url, arn, dlq = self._queue_pair(n(t.source.name, fn.name), t.max_attempts, t.dead_letter)
                attrs = {"RawMessageDelivery": "true"}
                if t.filter:
                    attrs["FilterPolicy"] = jsonlib.dumps({k: list(v) for k, v in sorted(t.filter.items())},
                                                          sort_keys=True)
                    attrs["FilterPolicyScope"] = "MessageAttributes"
                self.sns.subscribe(TopicArn=self.topics[t.source.name], Protocol="sqs", Endpoint=arn,
                                   Attributes=attrs)
            elif isinstance(t, (ObjectCreatedTrigger, ObjectDeletedTrigger)):
                url, arn, dlq = self._queue_pair(n(t.source.name, fn.name), t.max_attempts, t.dead_letter)
                rules = [{"Name": k, "Value": v} for k, v in (("prefix", t.prefix), ("suffix", t.suffix)) if v]
                config: dict[str, Any] = {"Id": fn.name, "QueueArn": arn, "Events": [
                    "s3:ObjectCreated:*" if isinstance(t, ObjectCreatedTrigger) else "s3:ObjectRemoved:*"]}
                if rules:
                    config["Filter"] = {"Key": {"FilterRules": rules}}
                notifications.setdefault(t.source.name, []).append(config)
            else:
                continue  # HTTP: API Gateway, played in http(); schedules: not driven by these scenarios
            self.inboxes.append(Inbox(fn, url, arn, dlq))
        for bucket, configs in notifications.items():  # one configuration per bucket, as S3 requires
            self.s3.put_bucket_notification_configuration(
                Bucket=self.buckets[bucket], NotificationConfiguration={"QueueConfigurations": configs})
        from portside.aws.entry import Runtime

        self.runtimes: dict[str, Any] = {}
        for fn in app.functions.values():
            inbox = next((i for i in self.inboxes if i.function is fn), None)
            self.runtimes[fn.name] = Runtime.from_env(self.environment(fn, inbox.dlq_url if inbox else None))
            if inbox is not None:
                inbox.runtime = self.runtimes[fn.name]
        self._start_pollers()

    def _queue_pair(self, name: str, max_attempts: int, dead_letter: bool,
                    fifo: bool = False) -> tuple[str, str, str | None]:
        """Queue (+ DLQ redriven after ``max_attempts`` receives): infra/aws/queues.py's queue_pair."""
        sfx = ".fifo" if fifo else ""
        extra = {"FifoQueue": "true"} if fifo else {}
        attrs = {"VisibilityTimeout": str(VISIBILITY), **extra}
        dlq_url = None
        if dead_letter:
            dlq_url = self.sqs.create_queue(QueueName=f"{name}-dlq{sfx}", Attributes=extra)["QueueUrl"]
            dlq_arn = self._arn(dlq_url)
            attrs["RedrivePolicy"] = jsonlib.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_attempts})
        url = self.sqs.create_queue(QueueName=f"{name}{sfx}", Attributes=attrs)["QueueUrl"]
        return url, self._arn(url), dlq_url

    def _arn(self, url: str) -> str:
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def environment(self, fn: Function, dlq_url: str | None) -> dict[str, str]:
        """The Lambda environment infra/aws/function.py gives ``fn``."""
        from portside import deployment as env

        visible = {u.resource.name for u in fn.uses} | {fn.trigger.source.name}
        out = {env.APP: self.app_spec, env.FUNCTION: fn.name,
               env.RESOURCES: jsonlib.dumps({k: self.physical[k] for k in sorted(visible)})}
        if dlq_url:
            out[env.DLQ_URL] = dlq_url
        return out

    # -- the event source mappings --
    def _start_pollers(self) -> None:
        """One event source mapping per inbox: receive a batch, invoke, delete what did not fail."""
        for inbox in self.inboxes:
            size = min(10, inbox.function.trigger.batch_size)

            def receive(inbox: Inbox = inbox, size: int = size) -> list[dict[str, Any]]:
                return self.sqs.receive_message(QueueUrl=inbox.url, MaxNumberOfMessages=size, WaitTimeSeconds=0,
                                                AttributeNames=["All"], MessageAttributeNames=["All"],
                                                MessageSystemAttributeNames=["All"]).get("Messages", [])

            self.source.poll(inbox.function.name, receive, lambda got, inbox=inbox: self._deliver(inbox, got))

    def _deliver(self, inbox: Inbox, messages: list[dict[str, Any]]) -> None:
        event = lambda_sqs_event(messages, inbox.arn)
        try:
            result = inbox.runtime(event, Context(inbox.function.name))
        except Exception as e:  # noqa: BLE001 - Lambda: the whole batch comes back after its visibility timeout
            self.errors.append(f"{inbox.function.name}: invocation raised {type(e).__name__}: {e}")
            return
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages) if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=inbox.url, Entries=done)

    # -- lifecycle --
    def reset(self) -> None:
        """A fresh account: stop the mappings, reset moto, provision again, start the mappings."""
        from portside.aws import ports

        self.source.stop()
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")).read()
        ports.reset_clients()
        self.inboxes, self._dead, self.errors = [], [], []
        self._deploy()

    def close(self) -> None:
        from portside.aws import ports

        self.source.stop()
        self.server.stop()
        for k, v in self._saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        ports.reset_clients()

    # -- acting --
    def upload(self, bucket: str, key: str, data: bytes, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self.s3.put_object(Bucket=self.buckets[bucket], Key=key, Body=data, **extra)
        self.source.kick()

    def http(self, method: str, path: str, *, json: Any = None, body: bytes = b"",
             headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None) -> Reply:
        hdrs = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json).encode()
            hdrs.setdefault("content-type", "application/json")
        for fn in self.app.functions.values():
            t = fn.trigger
            if isinstance(t, HttpTrigger):
                params = t.match(method, path)
                if params is not None:
                    break
        else:  # what API Gateway answers for a route it does not have
            return Reply(404, b'{"message":"Not Found"}', {"content-type": "application/json"})
        raw = http_api_event(method, path, f"{t.method} {t.path}", params, body, hdrs, query or {})
        result = self.runtimes[fn.name](raw, Context(fn.name))
        self.source.kick()
        out = base64.b64decode(result.get("body", "")) if result.get("isBase64Encoded") else \
            result.get("body", "").encode()
        return Reply(result["statusCode"], out, dict(result.get("headers") or {}))

    def publish(self, topic: str, event: Event, attributes: Mapping[str, str] | None = None) -> None:
        from portside.aws import ports

        ports.SnsTopic(self.topics[topic]).publish(encode_body(event), event_attributes(event, attributes), None)
        self.source.kick()

    def send(self, queue: str, body: bytes | Mapping[str, Any], attributes: Mapping[str, str] | None = None) -> None:
        from portside.aws import ports

        ports.SqsQueue(self.physical[queue]).send(encode_body(body), event_attributes(body, attributes), 0, None)
        self.source.kick()

    # -- waiting --
    def snapshot(self) -> Any:
        """What changes while work is in flight: invocations running, and messages queued or in flight."""
        counts = []
        for inbox in self.inboxes:
            a = self.sqs.get_queue_attributes(QueueUrl=inbox.url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            counts.append((a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]))
        return self.source.busy, self.source.activity, tuple(counts)

    # -- observing --
    def objects(self, bucket: str) -> dict[str, bytes]:
        name = self.buckets[bucket]
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket=name).get("Contents", [])]
        return {k: self.s3.get_object(Bucket=name, Key=k)["Body"].read() for k in keys}

    def items(self, table: str) -> list[dict[str, Any]]:
        from portside.aws.events import plain_item

        return [plain_item(i) for i in self.ddb.scan(TableName=self.tables[table], ConsistentRead=True)["Items"]]

    def dead_letters(self) -> list[DeadLetter]:
        """Drain every DLQ into the driver's list: the adapter's error attributes, or SQS's redrive."""
        for inbox in self.inboxes:
            if not inbox.dlq_url:
                continue
            while True:
                got = self.sqs.receive_message(QueueUrl=inbox.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                               MessageAttributeNames=["All"], AttributeNames=["All"]
                                               ).get("Messages", [])
                if not got:
                    break
                for m in got:
                    a = {k: v.get("StringValue", "") for k, v in (m.get("MessageAttributes") or {}).items()}
                    if "portside-function" in a:
                        self._dead.append(DeadLetter(a["portside-function"], a.get("portside-error-type", ""),
                                                     a.get("portside-error", ""),
                                                     int(a.get("portside-attempts") or 0),
                                                     a.get("portside-event-id", "")))
                    else:  # redriven by SQS itself: no error recorded (the adapter did not see a last attempt)
                        self._dead.append(DeadLetter(inbox.function.name, "", "moved by the SQS redrive policy",
                                                     inbox.function.trigger.max_attempts, m["MessageId"]))
                self.sqs.delete_message_batch(QueueUrl=inbox.dlq_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
        return list(self._dead)
