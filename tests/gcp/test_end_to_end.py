"""End to end on real components: publish to a topic on the Pub/Sub emulator -> a push
subscription (with the dead-letter and retry policies infra sets) -> a functions-framework
server on 127.0.0.1, started as Cloud Run starts it (``functions-framework --target on_http``
with the variables infra writes) -> the handler writes to Firestore on the emulator.

A ``PermanentError`` is dead-lettered by the adapter on the first delivery, with the error as
attributes. A message that fails every time is moved by the EMULATOR's dead-letter policy after
``max_delivery_attempts`` (the emulator's push bodies carry no ``deliveryAttempt``, so the adapter
always sees attempt 1 and keeps answering 500: the subscription's policy is the one that acts;
in production Pub/Sub sends ``deliveryAttempt`` and the adapter dead-letters the 5th attempt
itself, which test_entries covers with real push bodies). The emulator redelivers after about
1 s then every 3 s whatever the retry policy says, so the poison message is published when the
module starts and checked last, while the other tests run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from portside import deployment as env
from tests.gcp.conftest import PROJECT, ROOT, free_port, wait_until

MAX_ATTEMPTS = 5  # the sample's on-job trigger: max_attempts=5, as the subscription's policy
MAIN = f"from portside.gcp import {env.GCP_TARGETS['http']}  # noqa: F401\n"


def _answers_at_all(url: str) -> bool:
    """Any HTTP answer (a bare GET is a malformed push body: 400) means the server is up."""
    try:
        urllib.request.urlopen(url, timeout=0.5).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@dataclass
class Deployed:
    """The queue consumer ``on-job`` deployed: its server, and the Pub/Sub wiring infra builds."""

    url: str
    topic: str
    subscription: str
    dead_letter_topic: str
    dead_letters: str  # a pull subscription on the dead-letter topic, to observe it
    database: str
    proc: subprocess.Popen
    log: Path
    poison: dict[str, Any] = field(default_factory=dict)  # published at start, checked last
    kept: list[Any] = field(default_factory=list)  # dead letters pulled so far

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def dead_letter(self, match: Any, timeout: float) -> Any:
        """Poll the dead-letter subscription until a message satisfying ``match`` arrives."""
        from google.cloud import pubsub_v1

        subscriber = pubsub_v1.SubscriberClient()

        def check() -> Any:
            r = subscriber.pull(request={"subscription": self.dead_letters, "max_messages": 10}, timeout=5)
            if r.received_messages:
                subscriber.acknowledge(request={"subscription": self.dead_letters,
                                                "ack_ids": [m.ack_id for m in r.received_messages]})
                self.kept.extend(m.message for m in r.received_messages)
            return next((m for m in self.kept if match(m)), None)
        return wait_until(check, timeout, f"a dead letter on {self.dead_letters}")


def start_server(tmp: Path, environ: dict[str, str]) -> tuple[str, subprocess.Popen, Path]:
    """``functions-framework`` as Cloud Run runs the deployed source (a main.py re-exporting the
    entry point), on a free 127.0.0.1 port, in its own process group."""
    source = tmp / "main.py"
    source.write_text(MAIN)
    port = free_port()
    log = tmp / "functions-framework.log"
    exe = Path(sys.executable).with_name("functions-framework")
    proc = subprocess.Popen([str(exe), "--target", env.GCP_TARGETS["http"], "--source", str(source),
                             "--signature-type", "http", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=environ, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    return f"http://127.0.0.1:{port}/", proc, log


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture(scope="module")
def deployed(pubsub_emulator: str, firestore_emulator: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """The server with its env exactly as infra writes it (adapters/gcp/env.py names) plus the
    emulator variables; its topic; a push subscription to it with the dead-letter policy (max 5
    attempts) and retry policy; the dead-letter topic with a retaining pull subscription."""
    from google.cloud import pubsub_v1
    from google.protobuf import duration_pb2

    tag = f"e2e-{os.getpid()}"
    topic, dlq = (f"projects/{PROJECT}/topics/{tag}-{n}" for n in ("jobs", "on-job-dlq"))
    database = f"{tag}-items"
    environ = {**os.environ, "PYTHONPATH": str(ROOT),
               "PUBSUB_EMULATOR_HOST": pubsub_emulator, "FIRESTORE_EMULATOR_HOST": firestore_emulator,
               env.APP: "tests.gcp.sample:app", env.FUNCTION: "on-job", env.PROJECT: PROJECT,
               env.RESOURCES: json.dumps({"jobs": topic, "items": database}), env.DEAD_LETTER_TOPIC: dlq}
    url, proc, log = start_server(tmp_path_factory.mktemp("e2e"), environ)
    try:
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        for t in (topic, dlq):
            publisher.create_topic(name=t)
        dead_letters = subscriber.create_subscription(name=f"projects/{PROJECT}/subscriptions/{tag}-dlq-retained",
                                                      topic=dlq).name
        subscription = subscriber.create_subscription(request={
            "name": f"projects/{PROJECT}/subscriptions/{tag}-on-job", "topic": topic, "ack_deadline_seconds": 10,
            "push_config": {"push_endpoint": url},
            "dead_letter_policy": {"dead_letter_topic": dlq, "max_delivery_attempts": MAX_ATTEMPTS},
            "retry_policy": {"minimum_backoff": duration_pb2.Duration(nanos=100_000_000),
                             "maximum_backoff": duration_pb2.Duration(seconds=1)},
        }).name
        wait_until(lambda: _answers_at_all(url), 30, "functions-framework", proc, log)
        d = Deployed(url, topic, subscription, dlq, dead_letters, database, proc, log)
        # the poison message goes first: the emulator takes ~13 s to use up its 5 attempts
        d.poison = {"id": publish(topic, {"id": "job-flaky", "mode": "retry"}, kind="poison")}
        yield d
    finally:
        stop(proc)


def publish(topic: str, payload: dict, **attributes: str) -> str:
    """Publish through the adapter's own port code (what a handler's topic.publish does)."""
    from portside.gcp.ports import publish as send

    return send(topic, json.dumps(payload).encode(), attributes, None)


def firestore_doc(database: str, doc: str, timeout: float = 20) -> dict:
    """Poll the emulator until the handler's document appears."""
    from google.cloud import firestore

    ref = firestore.Client(project=PROJECT, database=database).collection("items").document(doc)

    def check() -> dict | None:
        snap = ref.get()
        return snap.to_dict() if snap.exists else None
    return wait_until(check, timeout, f"document items/{doc} in Firestore database {database}")


def deliveries(d: Deployed, event_id: str) -> int:
    """How many times the function ran on ``event_id`` (one JSON log line per failed run)."""
    return sum(1 for line in d.logs().splitlines()
               if '"logger": "portside"' in line and f'"event_id": "{event_id}"' in line and "failed on" in line)


def test_published_message_is_pushed_to_the_function_which_writes_to_firestore(deployed: Deployed) -> None:
    publish(deployed.topic, {"id": "job-1"}, traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    try:
        item = firestore_doc(deployed.database, "job-1")
    except TimeoutError:
        pytest.fail(f"no document; server log:\n{deployed.logs()[-3000:]}")
    # source: the logical queue (a push body names only its subscription); attempt from the push
    assert item == {"id": "job-1", "status": "done", "attempt": 1, "source": "jobs"}


def test_permanent_error_is_dead_lettered_by_the_adapter_on_the_first_delivery(deployed: Deployed) -> None:
    mid = publish(deployed.topic, {"id": "job-bad", "mode": "permanent"}, kind="invalid")
    m = deployed.dead_letter(lambda m: m.attributes.get("portside-event-id") == mid, 20)
    assert json.loads(m.data) == {"id": "job-bad", "mode": "permanent"}  # intact: redrive = publish again
    attrs = dict(m.attributes)
    assert attrs["kind"] == "invalid" and attrs["portside-function"] == "on-job"
    assert attrs["portside-error-type"] == "PermanentError" and attrs["portside-error"] == "job 'job-bad' is invalid"
    assert attrs["portside-attempts"] == "1"
    assert not any(k.startswith("CloudPubSubDeadLetter") for k in attrs)  # the adapter moved it, not Pub/Sub
    deployed.poison["permanent"] = mid  # its single delivery is checked last, once a redelivery would show


def test_poison_message_is_moved_by_the_emulators_dead_letter_policy_after_max_attempts(deployed: Deployed) -> None:
    mid = deployed.poison["id"]
    m = deployed.dead_letter(lambda m: json.loads(m.data).get("id") == "job-flaky", 40)
    attrs = dict(m.attributes)
    assert json.loads(m.data) == {"id": "job-flaky", "mode": "retry"} and attrs["kind"] == "poison"
    assert attrs["CloudPubSubDeadLetterSourceDeliveryCount"] == str(MAX_ATTEMPTS)
    assert attrs["CloudPubSubDeadLetterSourceSubscription"] == deployed.subscription.rsplit("/", 1)[-1]
    assert "portside-error" not in attrs  # moved by the subscription's policy, not by the adapter
    assert deliveries(deployed, mid) == MAX_ATTEMPTS  # each one answered 500 (a nack), none acked
    if "permanent" in deployed.poison:  # ran >= 10 s ago: acknowledged once, never redelivered
        assert deliveries(deployed, deployed.poison["permanent"]) == 1
