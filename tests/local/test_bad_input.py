"""Bad input: each a one-line error naming the problem and what to do; malformed HTTP gets a 4xx with a reason."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from portside.local import LocalCloud, LocalError
from portside.local.cli import cli


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def one_line_error(output: str) -> str:
    lines = [l for l in output.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    assert "Traceback" not in output
    return lines[0]


def test_port_already_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out = run("dev", "--app", "tests.local.e2e_app:app", "--data-dir", str(tmp_path), "--port", str(port))
    line = one_line_error(out)
    assert code == 1 and f"port {port} on 127.0.0.1 is already in use" in line and "--port" in line


def test_unwritable_data_dir(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    code, out = run("dev", "--app", "tests.local.e2e_app:app", "--data-dir", str(tmp_path / "file" / "data"))
    line = one_line_error(out)
    assert code == 1 and "is not writable" in line and "--data-dir" in line


def test_corrupt_sqlite_file(tmp_path: Path) -> None:
    (tmp_path / "portside.db").write_bytes(b"this is not a database, just text" * 200)
    code, out = run("dev", "--app", "tests.local.e2e_app:app", "--data-dir", str(tmp_path), "--port", "0")
    line = one_line_error(out)
    assert code == 1 and "is not a usable SQLite database" in line and "move it aside" in line


def test_handler_module_that_does_not_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_handlers.py").write_text("import no_such_package_xyz\n")
    (tmp_path / "broken_app.py").write_text(
        "from portside import App\napp = App('broken')\nq = app.queue('jobs')\n"
        "app.function('broken_handlers:work', trigger=q.on_message())\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out = run("dev", "--app", "broken_app:app", "--data-dir", str(tmp_path / "data"), "--port", "0")
    line = one_line_error(out)
    assert code == 1 and "cannot import handler module 'broken_handlers'" in line and "no_such_package_xyz" in line
    assert "python -c 'import broken_handlers'" in line
    assert not (tmp_path / "data" / "runtime.json").exists()  # nothing started


def test_app_module_that_does_not_import(tmp_path: Path) -> None:
    code, out = run("graph", "--app", "no_such_app_module:app")
    line = one_line_error(out)
    assert code == 1 and "cannot import app module 'no_such_app_module'" in line and "python -c" in line


def test_a_second_runtime_on_the_same_data_dir(cloud: LocalCloud) -> None:
    with pytest.raises(LocalError, match="another portside runtime .* is running on data dir"):
        LocalCloud(cloud.app, cloud.store.dir).start(0)


def raw(url: str, data: bytes) -> tuple[int, dict]:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


@pytest.mark.parametrize("data, status, reason", [
    (b"GARBAGE\r\n\r\n", 400, "Start line is invalid"),
    (b"POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, "Content-Length is invalid"),
    (b"POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413, "exceeds max_body of 6291456"),
    (b"POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{nope", 400, "JSON"),
    (b"POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n[]", 422, "a note is a JSON object"),
    (b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404, "no route for GET /nowhere"),
    (b"DELETE /notes HTTP/1.1\r\nHost: x\r\n\r\n", 405, "DELETE is not allowed on /notes"),
    (b"BREW /notes HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method 'BREW' is not supported"),
])
def test_malformed_http_gets_a_4xx_with_a_reason(cloud: LocalCloud, data: bytes, status: int, reason: str) -> None:
    got, body = raw(cloud.url, data)
    assert got == status and reason in body["error"], body


def test_a_broken_handler_answers_500_without_internals(cloud: LocalCloud) -> None:
    got, body = raw(cloud.url, b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
    assert got == 500 and body["error"] == "internal error" and "secret" not in json.dumps(body)
