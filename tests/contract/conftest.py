"""The contract suite's targets: ``cloud`` runs each test on fake, local, AWS (moto) and GCP (the
gcloud emulators and gcp-storage-emulator), in the manner of cloudpathlib's provider-parametrized
tests. Servers bind 127.0.0.1 on free ports, start once per session and stop at its end; a target
whose tools are missing is skipped with the reason."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from portside.app import App
from tests.aws.conftest import aws, moto_url  # noqa: F401  the AWS adapter's moto fixtures, reused
from tests.contract.app import contract_app
from tests.contract.harness import PROJECT, AwsHarness, FakeHarness, GcpHarness, Harness, LocalHarness

TARGETS = ["fake", "local", "aws", "gcp"]


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The Pub/Sub and Firestore emulators (gcloud) and gcp-storage-emulator, for the whole session."""
    if shutil.which("gcloud") is None or shutil.which("java") is None:
        pytest.skip("gcloud and java are needed for the Pub/Sub and Firestore emulators")
    from gcp_storage_emulator.server import create_server

    from tests.gcp.conftest import Emulator, free_port

    tmp = tmp_path_factory.mktemp("contract-emulators")
    started = [Emulator(["beta", "emulators", "pubsub", "start", f"--project={PROJECT}", f"--data-dir={tmp}"],
                        "pubsub", tmp), Emulator(["emulators", "firestore", "start"], "firestore", tmp)]
    port = free_port()
    storage = create_server("127.0.0.1", port, in_memory=True)
    storage.start()
    try:
        pubsub, firestore = (e.wait() for e in started)
        yield {"PUBSUB_EMULATOR_HOST": pubsub.host, "FIRESTORE_EMULATOR_HOST": firestore.host,
               "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}", "GOOGLE_CLOUD_PROJECT": PROJECT}
    finally:
        storage.stop()
        for e in started:
            e.stop()


def _aws(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Callable[[App], Harness]:
    request.getfixturevalue("aws")  # tests/aws/conftest.py: a clean moto server, boto3 pointed at it
    return AwsHarness


def _gcp(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Callable[[App], Harness]:
    from portside.gcp import ports

    for name, value in request.getfixturevalue("emulators").items():
        monkeypatch.setenv(name, value)
    ports.reset_clients()
    request.addfinalizer(ports.reset_clients)
    return GcpHarness


@pytest.fixture(params=TARGETS)
def make(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """``make(app)``: the harness of this test's target for ``app`` (closed after the test)."""
    kind = request.param
    factory: Callable[[App], Harness]
    if kind == "fake":
        factory = FakeHarness
    elif kind == "local":
        factory = lambda app: LocalHarness(app, tmp_path / f"data-{len(made)}")  # noqa: E731
    else:
        factory = (_aws if kind == "aws" else _gcp)(request, monkeypatch)
    made: list[Harness] = []

    def make(app: App) -> Harness:
        made.append(factory(app))
        return made[-1]

    make.target = kind  # type: ignore[attr-defined]
    yield make
    for h in made:
        h.close()


@pytest.fixture
def cloud(make: Any) -> Harness:
    """The contract app (both clouds targeted) on this test's target."""
    return make(contract_app())
