"""End to end: `portside dev` as a subprocess; HTTP, an upload through the bucket port, a publish,
results in the table and bucket, a poison message in the dead letters, a live line per event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from portside.local import LocalCloud
from tests.local.conftest import Dev, cli, request, wait_for

APP = "tests.local.e2e_app:app"


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    d = Dev(APP, tmp_path_factory.mktemp("e2e") / "data")
    try:
        yield d
    finally:
        assert d.stop() == 0


def reader(dev: Dev) -> LocalCloud:
    """A client of the subprocess's data dir (no start): reads its tables and buckets."""
    from tests.local.e2e_app import app

    return LocalCloud(app, Path(dev.proc.args[dev.proc.args.index("--data-dir") + 1]))


def test_dev_prints_the_url_and_a_line_to_try(dev: Dev) -> None:
    assert dev.url.startswith("http://127.0.0.1:")
    assert any(l.split()[:1] == ["try"] and f"curl -sS -X POST {dev.url}/notes" in l for l in dev.lines)


def test_http_upload_publish_and_poison_end_to_end(dev: Dev, tmp_path: Path) -> None:
    data_dir = dev.proc.args[dev.proc.args.index("--data-dir") + 1]
    status, body = request(dev.url, "POST", "/notes", {"id": "e2e-1", "text": "from curl"})
    assert status == 202, body
    (tmp_path / "up.txt").write_text("upload me")
    up = cli("emit", "--app", APP, "--data-dir", data_dir, "inbox", f"@{tmp_path / 'up.txt'}", "--key", "in/up.txt")
    assert up.returncode == 0 and "object 'in/up.txt' (9 bytes) in bucket inbox" in up.stdout, up.stderr
    pub = cli("emit", "--app", APP, "--data-dir", data_dir, "alert-events", '{"level": "warn"}', "--type", "alert.raised")
    assert pub.returncode == 0, pub.stderr
    status, _ = request(dev.url, "POST", "/notes", {"id": "e2e-poison", "poison": True})
    assert status == 202

    c = reader(dev)
    wait_for(lambda: c.table("notes").get({"id": "e2e-1"}) and c.objects("outbox") and c.items("alerts")
             and c.dead_letters(), 10, "every effect")
    assert c.table("notes").get({"id": "e2e-1"})["text"] == "from curl"
    assert c.objects("outbox") == {"up.txt": b"UPLOAD ME"}
    assert [a["level"] for a in c.items("alerts")] == ["warn"]
    [dl] = c.dead_letters()
    assert (dl.function, dl.error_type, dl.error) == ("store-note", "PermanentError", "note e2e-poison is poison")
    assert json.loads(dl.event.body)["id"] == "e2e-poison"
    c.store.close()
    status, body = request(dev.url, "GET", "/notes/e2e-1")
    assert status == 200 and json.loads(body)["text"] == "from curl"

    listed = cli("dlq", "list", "--app", APP, "--data-dir", data_dir)
    assert "note e2e-poison is poison" in listed.stdout

    wait_for(lambda: any("dead-letter" in l for l in dev.lines), what="the live lines")
    text = "\n".join(dev.lines)
    assert "http POST /notes -> post-note -> 202" in text
    assert "queue note-jobs -> store-note -> ok (attempt 1," in text
    assert "bucket inbox -> shout -> ok" in text
    assert "topic alert-events -> record-alert -> ok" in text
    assert "queue note-jobs -> store-note -> dead-letter (attempt 1," in text and "PermanentError" in text


def test_the_reference_app_runs_under_portside_dev(tmp_path: Path) -> None:
    """README's main command runs handlers.app: the printed curl line works and an order flows to 'shipped'."""
    import shlex
    import subprocess

    ref = Dev("handlers.app:app", tmp_path / "data")
    try:
        line = next(l for l in ref.lines if l.strip().startswith("try "))
        curl = subprocess.run(shlex.split(line.strip()[len("try"):].strip()), capture_output=True, text=True, timeout=10)
        assert curl.returncode == 0 and "request_id" in curl.stdout, curl.stderr
        status, body = request(ref.url, "POST", "/orders", {"customer": "ada@example.com", "payment_token": "tok_visa",
                                                             "items": [{"sku": "leash", "qty": 1}]})
        assert status == 202, body
        href = json.loads(body)["href"]
        wait_for(lambda: json.loads(request(ref.url, "GET", href)[1]).get("status") == "shipped", 10, "order shipped")
        wait_for(lambda: any("queue contact-jobs -> store -> ok" in l for l in ref.lines), what="the contact stored")
    finally:
        assert ref.stop() == 0
