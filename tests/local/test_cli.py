"""The `portside` command through click's CliRunner, against a runtime running in this process."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from portside.local import LocalCloud
from portside.local.cli import cli, mermaid, try_line
from tests.local.conftest import wait_for

APP = "tests.local.e2e_app:app"


def run(*args: str, input: bytes | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_emit_to_a_queue_is_delivered_by_the_running_runtime(cloud: LocalCloud) -> None:
    code, out = run("emit", "--app", APP, "--data-dir", str(cloud.store.dir), "note-jobs", '{"id": "cli-1"}')
    assert code == 0 and "stored message" in out and "on queue note-jobs" in out and "runtime pid" in out
    wait_for(lambda: cloud.table("notes").get({"id": "cli-1"}), what="the emitted note")


def test_emit_a_cloud_event_on_a_topic_with_attributes(cloud: LocalCloud) -> None:
    code, out = run("emit", "--app", APP, "--data-dir", str(cloud.store.dir), "alert-events", '{"level": "high"}',
                    "--type", "alert.raised", "--attr", "severity=critical")
    assert code == 0, out
    wait_for(lambda: cloud.items("criticals") and cloud.items("alerts"), what="both subscribers")
    assert cloud.items("alerts")[0]["level"] == "high"


def test_emit_an_upload_from_a_file_and_a_tick(cloud: LocalCloud, tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello")
    d = str(cloud.store.dir)
    assert run("emit", "--app", APP, "--data-dir", d, "inbox", f"@{tmp_path / 'hello.txt'}", "--key", "in/h.txt")[0] == 0
    assert run("emit", "--app", APP, "--data-dir", d, "every-minute")[0] == 0
    wait_for(lambda: cloud.items("ticks") and cloud.objects("outbox"), what="the upload and the tick handled")
    assert cloud.objects("outbox") == {"h.txt": b"HELLO"}


def test_emit_refuses_what_takes_no_events(cloud: LocalCloud) -> None:
    code, out = run("emit", "--app", APP, "--data-dir", str(cloud.store.dir), "notes", "{}")
    assert code == 1 and out.startswith("Error: table 'notes' takes no events")
    code, out = run("emit", "--app", APP, "--data-dir", str(cloud.store.dir), "nothing-here", "{}")
    assert code == 1 and "has no resource 'nothing-here'" in out


def test_emit_without_a_runtime_keeps_the_event_for_the_next_one(tmp_path: Path) -> None:
    code, out = run("emit", "--app", APP, "--data-dir", str(tmp_path), "note-jobs", '{"id": "later"}')
    assert code == 0 and "no runtime is running" in out
    from tests.local.e2e_app import app

    with LocalCloud(app, tmp_path).start(http=False) as c:
        wait_for(lambda: c.table("notes").get({"id": "later"}), what="the note kept for later")


def test_invoke_sends_http_to_the_running_app(cloud: LocalCloud) -> None:
    code, out = run("invoke", "--data-dir", str(cloud.store.dir), "POST", "/notes", "-d", '{"id": "inv"}')
    assert code == 0 and out.splitlines()[0] == "202" and '"accepted":"inv"' in out
    code, out = run("invoke", "--data-dir", str(cloud.store.dir), "GET", "/notes/none")
    assert code == 1 and out.startswith("404")


def test_invoke_without_a_runtime_says_how_to_start_one(tmp_path: Path) -> None:
    code, out = run("invoke", "--data-dir", str(tmp_path), "GET", "/")
    assert code == 1 and "no portside runtime" in out and "portside dev" in out


def test_dlq_list_and_redrive(cloud: LocalCloud) -> None:
    d = str(cloud.store.dir)
    assert run("dlq", "list", "--app", APP, "--data-dir", d)[1].strip() == "no dead letters"
    cloud.send("note-jobs", {"id": "bad", "poison": True})
    wait_for(cloud.dead_letters, what="a dead letter")
    code, out = run("dlq", "list", "--app", APP, "--data-dir", d)
    assert code == 0 and "queue note-jobs -> store-note: PermanentError: note bad is poison (after 1 attempt)" in out
    assert '{"id":"bad","poison":true}' in out
    [row] = [json.loads(l) for l in run("dlq", "list", "--app", APP, "--data-dir", d, "--json")[1].splitlines()]
    assert row["error_type"] == "PermanentError" and row["event"]["kind"] == "Message"
    assert run("dlq", "redrive", "--app", APP, "--data-dir", d)[0] == 1  # must say which
    code, out = run("dlq", "redrive", "--app", APP, "--data-dir", d, str(row["id"]))
    assert code == 0 and out.startswith("redrove 1 dead letter")
    wait_for(lambda: cloud.dead_letters() and cloud.dead_letters()[0].attempts == 1, what="dead again")
    code, out = run("dlq", "redrive", "--app", APP, "--data-dir", d, "--function", "no-such-fn")
    assert code == 1 and "has no function 'no-such-fn'" in out


def test_graph_of_the_reference_app_is_mermaid_from_the_declarations() -> None:
    code, out = run("graph")
    assert code == 0 and out.startswith("flowchart LR")
    assert 'api_public -->|"POST /contact"| fn_accept' in out
    assert "fn_accept -.->|sends| queue_contact_jobs" in out
    assert 'queue_contact_jobs -->|"batch 10"| fn_store' in out
    assert "fn_store -.->|writes| table_contacts" in out
    from handlers.schemas import FRAUD_BAND, PAYMENT_CAPTURED

    band = FRAUD_BAND if isinstance(FRAUD_BAND, str) else " or ".join(FRAUD_BAND)
    assert f'topic_orders -->|"{PAYMENT_CAPTURED} amount-band={band}"| fn_check_payment' in out
    assert "fn_check_payment -.->|publishes| topic_alerts" in out
    assert "bucket_uploads" in out and "schedule_daily_report" in out
    assert run("graph", "--markdown")[1].startswith("```mermaid\nflowchart LR")


def test_graph_labels_filters_and_prefixes() -> None:
    from tests.local.e2e_app import app

    text = mermaid(app)
    assert 'bucket_inbox -->|"created in/* *.txt"| fn_shout' in text
    assert 'topic_alert_events -->|"alert.raised severity=critical"| fn_record_critical' in text


def test_try_line_is_a_curl_for_a_post_route() -> None:
    from handlers.app import app

    line = try_line(app, "http://127.0.0.1:8000")
    assert line.startswith("curl -sS -X POST http://127.0.0.1:8000/contact ") and '"email": "ada@example.com"' in line


def test_user_text_with_brackets_prints_literally_plain_and_rich() -> None:
    import io

    from rich.console import Console

    from portside.local.cli import _out, esc

    buf = io.StringIO()
    Console(file=buf, highlight=False).print(f"[red]x[/red] {esc('KeyError: [items][0] [bold]')}")
    assert buf.getvalue().strip() == "x KeyError: [items][0] [bold]"
    runner = CliRunner()
    with runner.isolation() as (out, _, _):
        _out()(f"[green]ok[/green] {esc('list [1, 2] [red]')}")
    assert out.getvalue().decode().strip() == "ok list [1, 2] [red]"


def test_live_line_says_when_a_handler_ran_over_its_timeout() -> None:
    from portside.delivery import Action, Decision, Outcome
    from portside.events import Message
    from portside.local.cli import _line
    from portside.local.runtime import Report

    report = Report("queue q", "slow-fn", Outcome(Message("m", b"", "q"), 1, seconds=2.5), Decision(Action.ACK))
    assert "over its 2 s timeout" in _line(report, 2)
    assert "timeout" not in _line(report, 30) and "-> [green]ok[/green] (attempt 1, 2500.0 ms)" in _line(report, 30)


# -- a CLI that guides (issue 14) ------------------------------------------------------------------
def one_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in out, out
    return lines[0]


def test_version() -> None:
    from importlib.metadata import version

    code, out = run("--version")
    assert code == 0 and out.strip() == f"portside {version('portside')}"


def test_usage_errors_are_one_line_too() -> None:
    code, out = run("emit")
    assert code == 2 and "Missing argument 'RESOURCE'" in one_line(out) and "portside emit --help" in out
    code, out = run("dlq", "list", "--nope")
    assert code == 2 and "No such option" in one_line(out) and "--nope" in out
    code, out = run("tabel")
    assert code == 2 and "No such command 'tabel'" in one_line(out)


def project(tmp_path: Path, app: str = APP) -> Path:
    """A project whose [tool.portside] app is the test app, with a subfolder to run commands from."""
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.portside]\napp = "{app}"\n')
    (tmp_path / "src" / "deep").mkdir(parents=True)
    return tmp_path


def test_commands_find_the_project_and_its_data_dir_from_a_subfolder(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path)
    monkeypatch.chdir(root / "src" / "deep")
    code, out = run("dlq", "list")  # nothing has run yet: no data dir, and none is created
    assert code == 1 and f"no data directory at '{root / '.portside'}'" in one_line(out) and "portside dev" in out
    assert not (root / ".portside").exists() and not (root / "src" / "deep" / ".portside").exists()
    from tests.local.e2e_app import app

    with LocalCloud(app, root / ".portside").start(http=False) as cloud:
        code, out = run("emit", "note-jobs", '{"id": "from-deep"}')
        assert code == 0 and "runtime pid" in out, out
        wait_for(lambda: cloud.table("notes").get({"id": "from-deep"}), what="the note emitted from a subfolder")
    assert not (root / "src" / "deep" / ".portside").exists()


def test_outside_a_project_a_command_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run("dlq", "list")
    assert code == 1 and "no data directory" in one_line(out) and "--data-dir" in out
    assert not (tmp_path / ".portside").exists()


def test_commands_use_the_app_the_running_runtime_recorded(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, app="no_such_module:app")  # the project's own app would not even import
    monkeypatch.chdir(root)
    with LocalCloud(APP, root / ".portside").start(http=False) as cloud:
        code, out = run("emit", "note-jobs", '{"id": "recorded"}')
        assert code == 0, out
        wait_for(lambda: cloud.table("notes").get({"id": "recorded"}), what="the note")
        code, out = run("table", "get", "notes", "recorded")
        assert code == 0 and json.loads(out)["id"] == "recorded"


def test_a_command_that_did_nothing_says_so_and_fails(cloud: LocalCloud) -> None:
    d = str(cloud.store.dir)
    code, out = run("dlq", "redrive", "--app", APP, "--data-dir", d, "999")
    assert code == 1 and "no dead letter #999" in one_line(out)
    code, out = run("dlq", "list", "--app", APP, "--data-dir", d, "--function", "nope")
    assert code == 1 and "has no function 'nope'" in one_line(out)
    code, out = run("dlq", "redrive", "--app", APP, "--data-dir", d, "--all")
    assert code == 1 and "no dead letters to redrive" in one_line(out)
    code, out = run("dlq", "discard", "--app", APP, "--data-dir", d, "7")
    assert code == 1 and "no dead letter #7" in one_line(out)


def test_options_that_do_not_apply_are_refused(cloud: LocalCloud) -> None:
    d = str(cloud.store.dir)
    code, out = run("emit", "--app", APP, "--data-dir", d, "note-jobs", "{}", "--key", "k")
    assert code == 1 and "--key does not apply to queue 'note-jobs'" in one_line(out)
    code, out = run("emit", "--app", APP, "--data-dir", d, "note-jobs", "{}", "--type", "t", "--content-type", "x")
    assert code == 1 and "--type and --content-type do not apply to queue" in one_line(out)
    code, out = run("emit", "--app", APP, "--data-dir", d, "inbox", "hello", "--attr", "a=b", "--key", "in/a.txt")
    assert code == 1 and "--attr does not apply to bucket 'inbox'" in one_line(out)
    code, out = run("emit", "--app", APP, "--data-dir", d, "every-minute", "--key", "k")
    assert code == 1 and "(a schedule takes no option)" in one_line(out)
    assert cloud.store.pending() == 0  # nothing was stored by a refused command


def test_dlq_discard(cloud: LocalCloud) -> None:
    d = str(cloud.store.dir)
    cloud.send("note-jobs", {"id": "gone", "poison": True})
    wait_for(cloud.dead_letters, what="a dead letter")
    [row] = cloud.store.dead_letters()
    code, out = run("dlq", "discard", "--app", APP, "--data-dir", d, str(row.seq))
    assert code == 0 and out.strip() == "discarded 1 dead letter(s)" and cloud.dead_letters() == []


def test_table_get_query_and_scan(cloud: LocalCloud) -> None:
    d = str(cloud.store.dir)
    cloud.send("note-jobs", {"id": "t1", "text": "one"})
    cloud.send("note-jobs", {"id": "42", "text": "a string key of digits"})
    wait_for(lambda: cloud.table("notes").get({"id": "42"}), what="the notes")
    code, out = run("table", "get", "--app", APP, "--data-dir", d, "notes", "t1")
    assert code == 0 and json.loads(out)["text"] == "one"
    code, out = run("table", "get", "--app", APP, "--data-dir", d, "notes", "42")  # a key of digits is still a string
    assert code == 0 and json.loads(out)["id"] == "42"
    code, out = run("table", "get", "--app", APP, "--data-dir", d, "notes", "none")
    assert code == 1 and 'has no item {"id": "none"}' in one_line(out)
    code, out = run("table", "query", "--app", APP, "--data-dir", d, "notes", "t1")
    assert code == 0 and [json.loads(line)["id"] for line in out.splitlines()] == ["t1"]
    code, out = run("table", "scan", "--app", APP, "--data-dir", d, "notes")
    assert code == 0 and {json.loads(line)["id"] for line in out.splitlines()} == {"t1", "42"}
    code, out = run("table", "get", "--app", APP, "--data-dir", d, "notes", "t1", "extra")
    assert code == 1 and "has no sort key" in one_line(out)
    code, out = run("table", "get", "--app", APP, "--data-dir", d, "note-jobs", "t1")
    assert code == 1 and "'note-jobs' is a queue, not a table" in one_line(out)


def test_bucket_ls_get_rm(cloud: LocalCloud, tmp_path: Path) -> None:
    d = str(cloud.store.dir)
    cloud.upload("inbox", "in/a.txt", b"hello", "text/plain")
    wait_for(lambda: cloud.objects("outbox"), what="the shouted copy")
    code, out = run("bucket", "ls", "--app", APP, "--data-dir", d, "inbox")
    assert code == 0 and out.split() == ["5", "text/plain", "in/a.txt"]
    code, out = run("bucket", "ls", "--app", APP, "--data-dir", d, "inbox", "out/")
    assert code == 1 and "has no object under 'out/'" in one_line(out)
    code, out = run("bucket", "get", "--app", APP, "--data-dir", d, "outbox", "a.txt")
    assert code == 0 and out == "HELLO"
    code, out = run("bucket", "get", "--app", APP, "--data-dir", d, "inbox", "in/a.txt", "-o", str(tmp_path / "a"))
    assert code == 0 and (tmp_path / "a").read_bytes() == b"hello"
    code, out = run("bucket", "rm", "--app", APP, "--data-dir", d, "inbox", "in/a.txt", "in/none.txt")
    assert code == 1 and "deleted 1 object(s)" in out and "has no object 'in/none.txt'" in out
    assert "in/a.txt" not in cloud.objects("inbox")


def test_topic_tail_prints_what_the_running_runtime_publishes(cloud: LocalCloud) -> None:
    import threading

    from portside.local.console import Console

    console = Console(cloud).start(0)
    try:
        d = str(cloud.store.dir)
        result: dict[str, tuple[int, str]] = {}
        tail = threading.Thread(target=lambda: result.setdefault("tail", run(
            "topic", "tail", "--app", APP, "--data-dir", d, "alert-events", "-n", "2")))
        tail.start()
        time.sleep(0.5)
        cloud.publish("alert-events", b'{"not": "a cloud event"}')
        from portside.events import Event

        cloud.publish("alert-events", Event("alert.raised", "test", {"level": "low"}))
        tail.join(15)
        code, out = result["tail"]
        lines = [line for line in out.splitlines() if "subscriber(s)" in line]
        assert code == 0 and len(lines) == 2, out
        assert "-> 0 subscriber(s): {\"not\": \"a cloud event\"}" in lines[0] and "-> 1 subscriber(s)" in lines[1]
    finally:
        console.stop()


def test_topic_tail_needs_the_console(cloud: LocalCloud) -> None:
    code, out = run("topic", "tail", "--app", APP, "--data-dir", str(cloud.store.dir), "alert-events")
    assert code == 1 and "no portside runtime is serving a console" in one_line(out)
