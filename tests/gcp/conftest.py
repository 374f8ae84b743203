"""Real components for the GCP adapter: the gcloud Pub/Sub and Firestore emulators, the
gcp-storage-emulator, and functions-framework. Each emulator starts once per session on a
free 127.0.0.1 port, is polled until it answers, and is stopped with its whole process group
(gcloud spawns java)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portside import deployment as env

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "portside-test"
GCLOUD = shutil.which("gcloud")
NO_GCLOUD = "gcloud (Google Cloud CLI, which ships the Pub/Sub and Firestore emulators) is not installed"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    """Poll ``check`` until it returns a truthy value; fail naming ``what`` (and its log)."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log.read_text()[-2000:] if log else ''}")
        value = check()
        if value:
            return value
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)
    raise TimeoutError(f"{what} did not answer within {timeout} s: {log.read_text()[-2000:] if log else ''}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as r:
            return r.status == 200
    except OSError:
        return False


class Emulator:
    """A gcloud emulator in its own process group."""

    def __init__(self, args: list[str], name: str, tmp: Path) -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log = tmp / f"{name}.log"
        self.name = name
        self.proc = subprocess.Popen([GCLOUD, *args, f"--host-port={self.host}"], stdout=self.log.open("wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self) -> Emulator:
        wait_until(lambda: answers(f"http://{self.host}/"), 60, f"{self.name} emulator", self.proc, self.log)
        return self

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@pytest.fixture(scope="session")
def _emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Emulator]]:
    """Both gcloud emulators, started together (they boot in parallel) the first time one is needed."""
    if GCLOUD is None:
        pytest.skip(NO_GCLOUD)
    tmp = tmp_path_factory.mktemp("emulators")
    # each run its own data dir: the default (~/.config/gcloud/emulators) is shared by concurrent runs
    started = {"pubsub": Emulator(["beta", "emulators", "pubsub", "start", f"--project={PROJECT}",
                                   f"--data-dir={tmp}"], "pubsub", tmp),
               "firestore": Emulator(["emulators", "firestore", "start"], "firestore", tmp)}
    try:
        yield started
    finally:
        for e in started.values():
            e.stop()


@pytest.fixture(scope="session")
def pubsub_emulator(_emulators: dict[str, Emulator]) -> Iterator[str]:
    host = _emulators["pubsub"].wait().host
    old = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = host
    from portside.gcp import ports

    ports.reset_clients()
    yield host
    _restore("PUBSUB_EMULATOR_HOST", old)


@pytest.fixture(scope="session")
def firestore_emulator(_emulators: dict[str, Emulator]) -> Iterator[str]:
    host = _emulators["firestore"].wait().host
    old = os.environ.get("FIRESTORE_EMULATOR_HOST")
    os.environ["FIRESTORE_EMULATOR_HOST"] = host
    from portside.gcp import ports

    ports.reset_clients()
    yield host
    _restore("FIRESTORE_EMULATOR_HOST", old)


@pytest.fixture(scope="session")
def storage_emulator() -> Iterator[str]:
    """gcp-storage-emulator in this process, in memory."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    old = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = f"http://127.0.0.1:{port}"
    from portside.gcp import ports

    ports.reset_clients()
    try:
        yield os.environ["STORAGE_EMULATOR_HOST"]
    finally:
        _restore("STORAGE_EMULATOR_HOST", old)
        server.stop()


def _restore(name: str, old: str | None) -> None:
    if old is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = old


@pytest.fixture(scope="session", autouse=True)
def _project() -> Iterator[None]:
    old = os.environ.get("GOOGLE_CLOUD_PROJECT")
    os.environ["GOOGLE_CLOUD_PROJECT"] = PROJECT
    yield
    _restore("GOOGLE_CLOUD_PROJECT", old)


@pytest.fixture
def pubsub(pubsub_emulator: str):
    """Admin helpers on the emulator: make topics and pull subscriptions, pull messages."""
    from google.cloud import pubsub_v1

    class Admin:
        publisher = pubsub_v1.PublisherClient()
        subscriber = pubsub_v1.SubscriberClient()

        def topic(self, name: str) -> str:
            path = self.publisher.topic_path(PROJECT, name)
            self.publisher.create_topic(name=path)
            return path

        def pull_subscription(self, topic: str, name: str) -> str:
            path = self.subscriber.subscription_path(PROJECT, name)
            self.subscriber.create_subscription(name=path, topic=topic)
            return path

        def pull(self, subscription: str, want: int = 1, timeout: float = 20) -> list:
            got: list = []

            def check() -> bool:
                r = self.subscriber.pull(request={"subscription": subscription, "max_messages": 10}, timeout=5)
                if r.received_messages:
                    self.subscriber.acknowledge(request={"subscription": subscription,
                                                         "ack_ids": [m.ack_id for m in r.received_messages]})
                    got.extend(m.message for m in r.received_messages)
                return len(got) >= want
            wait_until(check, timeout, f"{want} message(s) on {subscription}")
            return got

    return Admin()


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def unique() -> str:
    """A fresh suffix for topic, subscription and collection names (one emulator per session)."""
    return f"{os.getpid()}-{next(_counter)}"


@pytest.fixture(scope="module")
def main_py(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("source") / "main.py"
    path.write_text(env.gcp_main())
    return str(path)


@pytest.fixture
def deploy(main_py: str):
    """Deploy one declared function of the sample app: env as infra writes it -> a test client."""
    from functions_framework import create_app

    import portside.gcp as gcp
    from portside.gcp import Deployment
    from tests.gcp import payloads as P
    from tests.gcp import sample

    sample.SEEN.clear()

    def make(function: str, signature: str = "http", dead_letter_topic: str | None = None, **extra: str) -> Any:
        environ = {env.APP: "tests.gcp.sample:app", env.FUNCTION: function, env.PROJECT: PROJECT,
                   env.RESOURCES: json.dumps(P.RESOURCES), **extra}
        if dead_letter_topic:
            environ[env.DEAD_LETTER_TOPIC] = dead_letter_topic
        gcp.configure(Deployment.from_env(environ))
        target = env.GCP_TARGETS["http" if signature == "http" else "event"]
        app = create_app(target, main_py, "http" if signature == "http" else "cloudevent")
        gcp.json_errors()  # what main.py's import of portside.gcp does in a fresh process (test_hostile checks it)
        return app.test_client()

    yield make
    gcp.configure(None)


def binary(ce: dict[str, Any], data: bytes, content_type: str) -> tuple[dict[str, str], bytes]:
    headers = {f"ce-{k}": str(v) for k, v in ce.items() if k not in ("data", "datacontenttype")}
    headers["Content-Type"] = content_type
    return headers, data
