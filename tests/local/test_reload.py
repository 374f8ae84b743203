"""Hot reload under `portside dev` (a real subprocess, watchfiles): an edited handler changes the next
event's behaviour; work accepted before the edit is neither lost nor run twice; an edit that does not
load is reported and the last good version keeps serving."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.local.conftest import Dev, cli, request, wait_for

APP = """
from portside import App

app = App("reload-test")
api = app.api("public")
jobs = app.queue("jobs")
runs = app.table("runs")
app.function("shop.handlers:hello", trigger=api.route("GET /hello"))
app.function("shop.handlers:enqueue", trigger=api.route("POST /jobs"), uses=[jobs.sender])
app.function("shop.handlers:work", trigger=jobs.on_message(), uses=[runs.writer])
"""

HANDLERS = """
import time
import uuid

from portside import HttpResponse
from shop.app import jobs, runs

VERSION = {version}


def hello(request):
    return {{"version": VERSION}}


def enqueue(request):
    jobs.send(request.json())
    return HttpResponse(202)


def work(message):
    time.sleep(0.2)  # slow enough to be mid-run when the edit lands
    runs.put({{"id": uuid.uuid4().hex, "job": message.json()["id"], "version": VERSION}})
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n\n[tool.portside]\napp = "shop.app:app"\n')
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "app.py").write_text(APP)
    (tmp_path / "shop" / "handlers.py").write_text(HANDLERS.format(version=1))
    return tmp_path


@pytest.fixture
def dev(project: Path) -> Iterator[Dev]:
    d = Dev(None, None, cwd=project)
    try:
        yield d
    finally:
        d.stop()


def version(dev: Dev) -> int:
    status, body = request(dev.url, "GET", "/hello")
    assert status == 200, body
    return json.loads(body)["version"]


def edit(dev: Dev, path: Path, text: str, expect: str) -> None:
    """Write ``text`` to ``path`` and wait for the runtime's line saying it ``expect``s (reloaded / reload failed)."""
    seen = sum(expect in line for line in dev.lines)
    path.write_text(text)
    wait_for(lambda: sum(expect in line for line in dev.lines) > seen, 15, f"'{expect}' after editing {path.name}")


def test_editing_a_handler_changes_the_next_event_and_loses_or_reruns_nothing(dev: Dev, project: Path) -> None:
    assert version(dev) == 1
    assert any("hot reload on" in line for line in dev.lines)
    for i in range(12):
        assert request(dev.url, "POST", "/jobs", {"id": f"j{i}"})[0] == 202
    edit(dev, project / "shop" / "handlers.py", HANDLERS.format(version=2), "reloaded app 'reload-test'")
    assert version(dev) == 2  # the next request runs the edited handler

    def runs() -> list[dict]:
        out = cli("table", "scan", "runs", "--limit", "1000", cwd=project / "shop")  # from a subfolder, by the record
        return [json.loads(line) for line in out.stdout.splitlines()]

    wait_for(lambda: len(runs()) >= 12, 20, "every accepted job to run")
    done = runs()
    assert sorted(r["job"] for r in done) == sorted(f"j{i}" for i in range(12))  # each once: none lost, none re-run
    assert {r["version"] for r in done} <= {1, 2}


def test_an_edit_that_does_not_load_keeps_the_last_good_version(dev: Dev, project: Path) -> None:
    handlers = project / "shop" / "handlers.py"
    edit(dev, handlers, HANDLERS.format(version=2), "reloaded app")
    edit(dev, handlers, "def hello(:\n", "reload failed")
    line = next(line for line in reversed(dev.lines) if "reload failed" in line)
    assert "the previous version keeps running" in line and "shop/handlers.py" in line and "SyntaxError" in line
    assert version(dev) == 2
    assert request(dev.url, "POST", "/jobs", {"id": "during-error"})[0] == 202  # still accepting, still delivering

    edit(dev, handlers, HANDLERS.format(version=3), "reloaded app")
    assert version(dev) == 3

    broken_app = APP.replace("shop.handlers:work", "shop.handlers:no_such_handler")
    edit(dev, project / "shop" / "app.py", broken_app, "reload failed")
    assert "has no callable 'no_such_handler'" in next(line for line in reversed(dev.lines) if "reload failed" in line)
    assert version(dev) == 3

    edit(dev, project / "shop" / "app.py", APP + textwrap.dedent("""
        app.function("shop.handlers:hello", name="bye", trigger=api.route("GET /bye"))
        """), "reloaded app")  # a declaration edit: the new route is served
    assert request(dev.url, "GET", "/bye")[0] == 200 and version(dev) == 3
    wait_for(lambda: '"during-error"' in cli("table", "scan", "runs", cwd=project).stdout, 10, "the job sent meanwhile")


def test_the_console_shows_a_reload_error(dev: Dev, project: Path) -> None:
    import urllib.request

    assert dev.console_url
    edit(dev, project / "shop" / "handlers.py", "raise RuntimeError('half-written')\n", "reload failed")
    with urllib.request.urlopen(f"{dev.console_url}/api/app", timeout=5) as resp:
        info = json.loads(resp.read())
    assert "half-written" in info["error"] and "shop/handlers.py" in info["error"]
    edit(dev, project / "shop" / "handlers.py", HANDLERS.format(version=4), "reloaded app")
    with urllib.request.urlopen(f"{dev.console_url}/api/app", timeout=5) as resp:
        assert json.loads(resp.read())["error"] is None
