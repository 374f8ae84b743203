"""Run the Pulumi program under mocks once per (app, cloud) and share the recorded result."""

from __future__ import annotations

import pytest

from portside.infra.mocks import Run, run
from tests.aws.conftest import moto_url  # noqa: F401 - the moto server fixture, for the archive that runs
from tests.infra.apps import full_app

CLOUDS = ("aws", "gcp")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # the provider packages warn about their own deprecated classes when a module loads
    for item in items:
        if "tests/infra" in str(item.fspath):
            item.add_marker(pytest.mark.filterwarnings("ignore::DeprecationWarning"))


@pytest.fixture(scope="module", params=CLOUDS)
def cloud(request: pytest.FixtureRequest) -> str:
    return request.param


_cache: dict[str, Run] = {}


def built_on(cloud: str) -> Run:
    """full_app() on ``cloud``, built once per cloud for the whole session (~1 s each)."""
    if cloud not in _cache:
        _cache[cloud] = run(cloud, full_app())
    return _cache[cloud]


_reference: dict[str, Run] = {}


def reference_on(cloud: str) -> Run:
    """The project's reference app (handlers/app.py) on ``cloud``, built once per session."""
    from portside import load_app

    if cloud not in _reference:
        _reference[cloud] = run(cloud, load_app("handlers.app:app"))
    return _reference[cloud]


@pytest.fixture
def built(cloud: str) -> Run:
    return built_on(cloud)


@pytest.fixture
def aws_run() -> Run:
    return built_on("aws")


@pytest.fixture
def gcp_run() -> Run:
    return built_on("gcp")
