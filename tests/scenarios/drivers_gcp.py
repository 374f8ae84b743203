"""The ``gcp`` target: the app's handlers through portside.gcp's functions-framework entries, on emulators.

What each side carries:

emulators (started once per session on free 127.0.0.1 ports):
  the Pub/Sub emulator (``gcloud beta emulators pubsub start``): topics, subscriptions, delivery
  attempts, redelivery of nacked messages, dead-letter policies; the Firestore emulator
  (``gcloud emulators firestore start``): every table; gcp-storage-emulator (in process): every
  bucket. Every port call a handler makes goes to them through google-cloud-* clients.
functions-framework: ``create_app("on_http" | "on_cloud_event", main.py)`` exactly as Cloud Run
  serves the deployed source (its test client: no socket); the environment of each function is
  the one infra/gcp/function.py writes (PORTSIDE_APP, PORTSIDE_FUNCTION, PORTSIDE_RESOURCES,
  PORTSIDE_DEAD_LETTER_TOPIC, GOOGLE_CLOUD_PROJECT), as an ``portside.gcp.Deployment``.
the driver (what Google runs and the emulators do not):
  - provisions as infra/gcp does: a topic per queue/topic, one subscription per consumer with
    infra's retry policy, dead-letter policy (max_attempts) and filter, a dead-letter topic per
    function with a retained subscription; a Firestore database id per table; a bucket per bucket;
  - plays Pub/Sub push: pulls each subscription, POSTs the push body Pub/Sub sends (message,
    subscription, deliveryAttempt) to the function, acks on 2xx and nacks otherwise, so the
    emulator redelivers and counts attempts. (The emulator's own push omits deliveryAttempt,
    which would hide the attempt number from the adapter; its pull carries it.)
    The emulator accepts subscription filters but does not evaluate them (a message of another
    ``ce-type`` is delivered), so the driver acks unmatched messages without delivering them,
    as Pub/Sub would never have delivered them. Time is compressed: the retry policy is infra's
    (the declared backoff) times tests/scenarios/timing.SCALE; the emulator honours it, but
    waits about 2 s between deliveries at least;
  - plays Eventarc for Cloud Storage: the storage emulator has no notifications, so after each
    write the driver reads the object's resource back from the emulator's JSON API and POSTs a
    binary-mode ``google.cloud.storage.object.v1.finalized`` CloudEvent built from it to each
    function triggered by that bucket (Eventarc filters on the bucket only), retrying non-2xx;
  - routes HTTP calls to the function whose declared route matches (one Cloud Function per route).
portside.gcp keeps one deployment per process (as a Cloud Run instance runs one function), so
the driver switches it with ``portside.gcp.configure`` and runs one invocation at a time.
Not exercised: IAM/OIDC push authentication, Eventarc's 24 h retry window, Cloud Scheduler,
object deletions (no scenario deletes; ``upload`` plays ``finalized`` only).
"""

from __future__ import annotations

import base64
import json as jsonlib
import os
import shutil
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from portside import Event
from portside.app import load_app
from portside.declarations import (
    Bucket,
    Function,
    HttpTrigger,
    ObjectCreatedTrigger,
    Queue,
    QueueTrigger,
    Table,
    Topic,
    TopicTrigger,
)
from portside.handles import encode_body, event_attributes
from tests.scenarios.drivers import DeadLetter, EventSource, PollingDriver, Reply, register
from tests.scenarios.timing import SCALE

APP_SPEC = "handlers.app:app"
EMULATOR_VARS = ("PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT")


def _missing() -> str | None:
    if shutil.which("gcloud") is None:
        return "gcloud (Google Cloud CLI, which ships the Pub/Sub and Firestore emulators) is not on PATH"
    if shutil.which("java") is None:
        return "java is not on PATH (the gcloud Pub/Sub and Firestore emulators run on it)"
    for module, package in (("functions_framework", "functions-framework"), ("google.cloud.pubsub_v1",
                            "google-cloud-pubsub"), ("google.cloud.firestore", "google-cloud-firestore"),
                            ("google.cloud.storage", "google-cloud-storage"),
                            ("gcp_storage_emulator.server", "gcp-storage-emulator")):
        try:
            __import__(module)
        except ImportError:
            return f"{package} is not installed"
    try:
        from tests.gcp.conftest import Emulator  # noqa: F401
    except ImportError as e:
        return f"tests/gcp/conftest.py's emulator launcher cannot be imported ({e})"
    return None


def _duration(seconds: float) -> dict[str, int]:
    return {"seconds": int(seconds), "nanos": int((seconds % 1) * 1e9)}


@dataclass
class Subscription:
    """A consumer's Pub/Sub subscription, and the push the driver plays for it."""

    function: Function
    path: str


@register
class GcpDriver(PollingDriver):
    """The reference app on the Pub/Sub, Firestore and Cloud Storage emulators."""

    name = "gcp"
    poll_max = 0.25  # a check is a few emulator calls: cheap next to a second of waiting
    quiet = 3.0  # settle: the emulator redelivers a nacked message ~2 s later

    @classmethod
    def unavailable(cls) -> str | None:
        return _missing()

    def __init__(self, app: str = APP_SPEC) -> None:
        from functions_framework import create_app
        from gcp_storage_emulator.server import create_server

        from tests.gcp.conftest import Emulator, free_port

        self._invoke = threading.Lock()
        self.source = EventSource(lambda error: self.errors.append(error))
        self._generation = 0
        self.subscriptions: list[Subscription] = []
        self._dead: list[DeadLetter] = []
        self.errors: list[str] = []
        self._saved = {k: os.environ.get(k) for k in EMULATOR_VARS}
        self.app_spec, self.app = app, load_app(app)
        self.tmp = tempfile.mkdtemp(prefix="portside-scenarios-gcp-")
        self.emulators = [Emulator(["beta", "emulators", "pubsub", "start", "--project=ps-scn-0",
                                    f"--data-dir={self.tmp}"], "pubsub",
                                   Path(self.tmp)),
                          Emulator(["emulators", "firestore", "start"], "firestore", Path(self.tmp))]
        port = free_port()
        self.storage = create_server("127.0.0.1", port, in_memory=True)
        self.storage.start()
        self.storage_url = f"http://127.0.0.1:{port}"
        try:
            pubsub, firestore = (e.wait() for e in self.emulators)
        except Exception:
            self.close()
            raise
        os.environ.update({"PUBSUB_EMULATOR_HOST": pubsub.host, "FIRESTORE_EMULATOR_HOST": firestore.host,
                           "STORAGE_EMULATOR_HOST": self.storage_url})
        main = os.path.join(self.tmp, "main.py")  # the generated source of a deployed function
        with open(main, "w") as f:
            f.write("from portside.gcp import on_cloud_event, on_http  # noqa: F401\n")
        self.clients = {"http": create_app("on_http", main, "http").test_client(),
                        "event": create_app("on_cloud_event", main, "cloudevent").test_client()}
        try:
            self._deploy()
        except BaseException:
            self.close()
            raise

    # -- provisioning, as infra/gcp does it, in a fresh project per scenario --
    def _deploy(self) -> None:
        from google.cloud import pubsub_v1, storage

        from portside import gcp
        from portside.gcp import ports
        from portside.infra.expressions import pubsub_filter
        from portside.infra.naming import Names

        self._generation += 1
        self.project = f"ps-scn-{self._generation}"
        os.environ["GOOGLE_CLOUD_PROJECT"] = self.project
        ports.reset_clients()
        n = self.names = Names("ps-scn", "gcp", self.project)
        self.publisher, self.subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        self.gcs = storage.Client(project=self.project)
        self.physical: dict[str, Any] = {}
        self.buckets: dict[str, str] = {}
        self.tables: dict[str, tuple[str, str]] = {}
        for r in self.app.resources.values():
            if isinstance(r, (Queue, Topic)):
                path = self.physical[r.name] = f"projects/{self.project}/topics/{n(r.name)}"
                self.publisher.create_topic(name=path)
            elif isinstance(r, Bucket):
                name = self.buckets[r.name] = self.physical[r.name] = n.bucket(r.name)
                self.gcs.create_bucket(name)
            elif isinstance(r, Table):
                self.tables[r.name] = (n(r.name), r.name)
                self.physical[r.name] = {"database": n(r.name), "collection": r.name}
        self.deployments: dict[str, Any] = {}
        self.dead_letter_subs: dict[str, str] = {}
        for fn in self.app.functions.values():
            t = fn.trigger
            dlq = None
            if t.asynchronous and t.dead_letter:
                dlq = f"projects/{self.project}/topics/{n(fn.name, 'dlq')}"
                self.publisher.create_topic(name=dlq)
                keep = self.dead_letter_subs[fn.name] = f"projects/{self.project}/subscriptions/{n(fn.name, 'dlq')}"
                self.subscriber.create_subscription(request={"name": keep, "topic": dlq})
            self.deployments[fn.name] = gcp.Deployment.from_env(self.environment(fn, dlq))
            if isinstance(t, (QueueTrigger, TopicTrigger)):
                name = t.source.name if isinstance(t, QueueTrigger) else f"{t.source.name}-{fn.name}"
                request: dict[str, Any] = {
                    "name": f"projects/{self.project}/subscriptions/{n(name)}", "topic": self.physical[t.source.name],
                    "ack_deadline_seconds": min(600, max(10, fn.timeout)),
                    "retry_policy": {"minimum_backoff": _duration(t.backoff.initial * SCALE),
                                     "maximum_backoff": _duration(t.backoff.maximum * SCALE)}}
                if dlq:
                    request["dead_letter_policy"] = {"dead_letter_topic": dlq, "max_delivery_attempts": t.max_attempts}
                if isinstance(t, TopicTrigger) and t.filter:
                    request["filter"] = pubsub_filter(dict(t.filter))
                self.subscriber.create_subscription(request=request)
                self.subscriptions.append(Subscription(fn, request["name"]))
        for sub in self.subscriptions:
            self.source.poll(sub.function.name, lambda sub=sub: self._pull(sub), lambda got, sub=sub: self._settle(sub, got))

    def environment(self, fn: Function, dead_letter_topic: str | None) -> dict[str, str]:
        """The Cloud Function's environment as infra/gcp/function.py writes it."""
        from portside import deployment as env

        visible = {u.resource.name for u in fn.uses} | {fn.trigger.source.name}
        out = {env.APP: self.app_spec, env.FUNCTION: fn.name, env.PROJECT: self.project,
               env.RESOURCES: jsonlib.dumps({k: self.physical[k] for k in sorted(visible) if k in self.physical})}
        if dead_letter_topic:
            out[env.DEAD_LETTER_TOPIC] = dead_letter_topic
        return out

    # -- calling a function as Cloud Run would --
    def _call(self, fn: Function, kind: str, **request: Any) -> Any:
        """One request to ``fn``'s functions-framework app; one at a time (one deployment per process)."""
        from portside import gcp

        with self._invoke:
            gcp.configure(self.deployments[fn.name])
            try:
                return self.clients[kind].open(**request)
            finally:
                gcp.configure(None)

    # -- Pub/Sub push, played by pull --
    def _pull(self, sub: Subscription) -> list[Any]:
        return list(self.subscriber.pull(request={"subscription": sub.path, "max_messages": 10,
                                                  "return_immediately": True}, timeout=10).received_messages)

    def _settle(self, sub: Subscription, got: list[Any]) -> None:
        """Push each message, then ack what the function took and nack the rest, as Pub/Sub would."""
        trigger = sub.function.trigger
        ack, nack = [], []
        for m in got:
            attrs = dict(m.message.attributes)
            if isinstance(trigger, TopicTrigger) and not trigger.matches(attrs):
                ack.append(m.ack_id)  # the subscription's filter, which the emulator skips
            elif self._push(sub, m):
                ack.append(m.ack_id)
            else:
                nack.append(m.ack_id)
        if ack:
            self.subscriber.acknowledge(request={"subscription": sub.path, "ack_ids": ack})
        if nack:
            self.subscriber.modify_ack_deadline(request={"subscription": sub.path, "ack_ids": nack,
                                                         "ack_deadline_seconds": 0})

    def _push(self, sub: Subscription, received: Any) -> bool:
        """POST the body Pub/Sub push sends; True when the function acknowledged (2xx)."""
        m = received.message
        published = m.publish_time.isoformat().replace("+00:00", "Z")
        message: dict[str, Any] = {"data": base64.b64encode(m.data).decode(), "attributes": dict(m.attributes),
                                   "messageId": m.message_id, "message_id": m.message_id,
                                   "publishTime": published, "publish_time": published}
        if m.ordering_key:
            message["orderingKey"] = m.ordering_key
        body: dict[str, Any] = {"message": message, "subscription": sub.path}
        if received.delivery_attempt:
            body["deliveryAttempt"] = received.delivery_attempt
        r = self._call(sub.function, "http", path="/", method="POST", data=jsonlib.dumps(body),
                       headers={"content-type": "application/json", "user-agent": "APIs-Google"})
        return 200 <= r.status_code < 300

    # -- Eventarc for Cloud Storage --
    def _object_resource(self, bucket: str, key: str) -> dict[str, Any]:
        url = f"{self.storage_url}/storage/v1/b/{bucket}/o/{quote(key, safe='')}"
        with urllib.request.urlopen(url, timeout=10) as r:
            return jsonlib.loads(r.read())

    def _eventarc(self, bucket: str, key: str, kind: str) -> None:
        data = self._object_resource(self.buckets[bucket], key)
        now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        headers = {"ce-specversion": "1.0", "ce-id": uuid.uuid4().hex,
                   "ce-type": f"google.cloud.storage.object.v1.{kind}",
                   "ce-source": f"//storage.googleapis.com/projects/_/buckets/{data.get('bucket', self.buckets[bucket])}",
                   "ce-subject": f"objects/{data.get('name', key)}", "ce-time": data.get("updated") or now,
                   "ce-bucket": data.get("bucket", self.buckets[bucket]), "content-type": "application/json"}
        trigger_type = ObjectCreatedTrigger if kind == "finalized" else None
        for fn in self.app.functions.values():
            t = fn.trigger
            if t.source.name == bucket and trigger_type is not None and isinstance(t, trigger_type):
                self.source.spawn(f"eventarc-{fn.name}", self._deliver_storage, fn, headers, jsonlib.dumps(data))

    def _deliver_storage(self, fn: Function, headers: dict[str, str], body: str) -> None:
        """Eventarc with RETRY_POLICY_RETRY: non-2xx is retried (here up to max_attempts, backoff compressed)."""
        with self.source.working():
            for attempt in range(1, fn.trigger.max_attempts + 1):
                r = self._call(fn, "event", path="/", method="POST", data=body, headers=headers)
                if 200 <= r.status_code < 300:
                    return
                time.sleep(min(2.0, 0.1 * 2 ** attempt))
            # Eventarc would go on retrying for up to 24 h: no dead letter is invented here

    # -- lifecycle --
    def _stop_pollers(self) -> None:
        self.source.stop()
        self.subscriptions = []

    def reset(self) -> None:
        """A fresh project (topics, subscriptions, databases, buckets): nothing carries over."""
        self._stop_pollers()
        self._dead, self.errors = [], []
        self._deploy()

    def close(self) -> None:
        from portside.gcp import ports

        self._stop_pollers()
        for e in getattr(self, "emulators", []):
            e.stop()
        if getattr(self, "storage", None) is not None:
            self.storage.stop()
        for k, v in self._saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        ports.reset_clients()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- acting --
    def upload(self, bucket: str, key: str, data: bytes, content_type: str | None = None) -> None:
        self.gcs.bucket(self.buckets[bucket]).blob(key).upload_from_string(data, content_type=content_type)
        self._eventarc(bucket, key, "finalized")

    def http(self, method: str, path: str, *, json: Any = None, body: bytes = b"",
             headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None) -> Reply:
        hdrs = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json).encode()
            hdrs.setdefault("content-type", "application/json")
        fn = next((f for f in self.app.functions.values()
                   if isinstance(f.trigger, HttpTrigger) and f.trigger.match(method, path) is not None), None)
        if fn is None:
            return Reply(404, b'{"error":"no function serves this path"}', {"content-type": "application/json"})
        r = self._call(fn, "http", path=path + (f"?{urlencode(query)}" if query else ""), method=method,
                       data=body, headers=hdrs)
        self.source.kick()
        return Reply(r.status_code, r.get_data(), dict(r.headers.items()))

    def publish(self, topic: str, event: Event, attributes: Mapping[str, str] | None = None) -> None:
        from portside.gcp import ports

        ports.publish(self.physical[topic], encode_body(event), event_attributes(event, attributes), None)
        self.source.kick()

    def send(self, queue: str, body: bytes | Mapping[str, Any], attributes: Mapping[str, str] | None = None) -> None:
        """A queue is a Pub/Sub topic with one push subscription (infra/gcp)."""
        from portside.gcp import ports

        ports.publish(self.physical[queue], encode_body(body), event_attributes(body, attributes), None)
        self.source.kick()

    # -- waiting --
    def snapshot(self) -> Any:
        return self.source.busy, self.source.activity

    # -- observing --
    def objects(self, bucket: str) -> dict[str, bytes]:
        b = self.gcs.bucket(self.buckets[bucket])
        return {blob.name: blob.download_as_bytes() for blob in self.gcs.list_blobs(b)}

    def items(self, table: str) -> list[dict[str, Any]]:
        from portside.gcp import ports

        database, collection = self.tables[table]
        docs = ports.firestore_client(self.project, database).collection(collection).stream()
        return [ports.plain(d.to_dict()) for d in docs]

    def dead_letters(self) -> list[DeadLetter]:
        """Drain each dead-letter topic's retained subscription: the adapter's error attributes,
        or those of the subscription's own dead-letter policy."""
        for fname, path in self.dead_letter_subs.items():
            while True:
                got = self.subscriber.pull(request={"subscription": path, "max_messages": 10,
                                                    "return_immediately": True}, timeout=10).received_messages
                if not got:
                    break
                for m in got:
                    a = dict(m.message.attributes)
                    if "portside-function" in a:
                        self._dead.append(DeadLetter(a["portside-function"], a.get("portside-error-type", ""),
                                                     a.get("portside-error", ""), int(a.get("portside-attempts") or 0),
                                                     a.get("portside-event-id", "")))
                    else:
                        self._dead.append(DeadLetter(fname, "", "moved by the subscription's dead-letter policy",
                                                     int(a.get("CloudPubSubDeadLetterSourceDeliveryCount") or 0),
                                                     m.message.message_id))
                self.subscriber.acknowledge(request={"subscription": path, "ack_ids": [m.ack_id for m in got]})
        return list(self._dead)
