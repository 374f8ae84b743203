"""`portside new`: the project it writes works on its own, with the commands its README gives.

The end-to-end test does what a newcomer does: in a fresh virtualenv, install portside from this
checkout, `portside new shop`, then run the new README's commands as written (install, tests, dev)
and the plan of both clouds. To stay fast and offline, the fresh virtualenv sees the test
environment's third-party packages (pulumi, pytest...) through a .pth file; portside itself and the
new project are installed into it with pip.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from portside import project
from portside.local.cli import cli
from portside.local.new import render, template_files
from tests.local.conftest import request, wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_new_writes_a_project_that_names_its_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["new", "shop"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "shop"
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert written == sorted(template_files()) and {
        "Pulumi.yaml", "Pulumi.aws-dev.yaml", "Pulumi.gcp-dev.yaml", "pyproject.toml", "README.md", ".gitignore",
        "infra/__main__.py", "handlers/app.py", "tests/test_notes.py"} <= set(written)
    assert not [p for p in written if "{{" in (folder / p).read_text()], "a placeholder was left unfilled"
    config = tomllib.loads((folder / "pyproject.toml").read_text())
    assert any(d.startswith("portside") for d in config["project"]["dependencies"])
    assert 'App("shop")' in (folder / "handlers/app.py").read_text()
    assert "main: infra/" in (folder / "Pulumi.yaml").read_text()
    found = project.find(folder / "tests")  # from any subfolder, as every command looks for it
    assert found is not None and found.root == folder and found.app == "handlers.app:app"
    assert "cd shop" in result.output


@pytest.mark.parametrize("name, says", [("Shop", "invalid"), ("x", "invalid"), ("my_shop", "invalid")])
def test_new_refuses_a_name_the_clouds_would_refuse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     name: str, says: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["new", name])
    assert result.exit_code == 1 and says in result.output and "names the new folder" in result.output
    assert list(tmp_path.iterdir()) == []


def test_new_never_writes_into_a_folder_that_has_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["new", "shop"])
    assert result.exit_code == 1 and "already exists" in result.output
    assert [p.name for p in (tmp_path / "shop").iterdir()] == ["notes.txt"]


def test_an_unknown_placeholder_is_an_error_not_a_silent_blank() -> None:
    with pytest.raises(KeyError, match="nme"):
        render("name = {{nme}}", {"name": "shop"})


# -- end to end: a fresh environment, the README's own commands ------------------------------------
def readme_commands(readme: str) -> dict[str, list[str]]:
    """Each command of the README's bash blocks, by its first two words (comments dropped)."""
    commands: dict[str, list[str]] = {}
    for block in re.findall(r"```bash\n(.*?)```", readme, re.S):
        for line in block.splitlines():
            argv = shlex.split(line, comments=True)
            if argv:
                commands.setdefault(" ".join(argv[:2]) if argv[0] != "python" else " ".join(argv[:3]), argv)
    return commands


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with portside installed from this checkout (`pip install -e`)."""
    where = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    purelib = Path(sysconfig.get_paths(vars={"base": str(where), "platbase": str(where)})["purelib"])
    inherited = sysconfig.get_paths()["purelib"]  # the test environment's packages, pip included
    (purelib / "_inherit_test_env.pth").write_text(f"import site; site.addsitedir({inherited!r})\n")
    python = where / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(ROOT)],
                   check=True, timeout=300, env=_env(where))
    assert (where / "bin" / "portside").exists(), "pip install did not create the portside command"
    return where


def _env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTSIDE_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "VIRTUAL_ENV": str(venv),
            "PYTHONUNBUFFERED": "1"}


def _run(venv: Path, argv: list[str], cwd: Path, timeout: float = 300) -> str:
    exe = shutil.which(argv[0], path=str(venv / "bin"))
    assert exe, f"{argv[0]} is not in the new environment"
    done = subprocess.run([exe, *argv[1:]], cwd=cwd, env=_env(venv), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{shlex.join(argv)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_a_new_project_installs_tests_runs_and_plans_with_its_readme_commands(venv: Path, tmp_path: Path) -> None:
    out = _run(venv, ["portside", "new", "shop"], cwd=tmp_path)
    shop = tmp_path / "shop"
    assert "cd shop" in out
    commands = readme_commands((shop / "README.md").read_text())
    assert {"python -m pip", "portside dev", "python -m pytest", "python -m portside.infra.plan"} <= set(commands), \
        f"the README lost a command: {sorted(commands)}"

    _run(venv, commands["python -m pip"], cwd=shop)  # install the project (and its dependencies)
    assert "4 passed" in _run(venv, commands["python -m pytest"], cwd=shop)

    dev = subprocess.Popen([shutil.which("portside", path=str(venv / "bin")), *commands["portside dev"][1:],
                            "--port", "0"], cwd=shop / "handlers", env=_env(venv),  # from a subfolder, too
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(line.rstrip() for line in dev.stdout), daemon=True).start()
    try:
        http = wait_for(lambda: next((l for l in lines if " HTTP " in f" {l}"), None) or dev.poll() is not None, 30,
                        "the HTTP line of `portside dev`")
        assert http is not True, f"portside dev exited {dev.returncode}: {lines}"
        url = http.split()[-1]
        try_line = next(line for line in lines if line.split()[:1] == ["try"])  # what a newcomer pastes
        sample = json.loads(shlex.split(try_line)[-1])
        assert sample.get("text"), f"the try line sends no usable note: {try_line}"
        status, body = request(url, "POST", "/notes", sample)
        assert status == 202, body
        href = json.loads(body)["href"]
        stored = wait_for(lambda: (r := request(url, "GET", href))[0] == 200 and r, 20, "the queued note in the table")
        assert json.loads(stored[1])["text"] == sample["text"]
    finally:
        dev.send_signal(signal.SIGTERM)
        try:
            dev.wait(15)
        except subprocess.TimeoutExpired:
            dev.kill()
            dev.wait(10)
    assert dev.returncode == 0, lines
    assert (shop / ".portside").is_dir(), "the runtime keeps its data in the project, found from a subfolder"

    plan = _run(venv, [*commands["python -m portside.infra.plan"], "--quiet"], cwd=shop)
    for cloud in ("aws", "gcp"):
        assert f"shop on {cloud} (stack {cloud}-dev)" in plan
    # a write-only table use is a custom write-only role on GCP (datastore.user would also read)
    assert len(re.findall(r"^Function store$", plan, re.M)) == 2 and "dynamodb" in plan and "_entityWriter" in plan
