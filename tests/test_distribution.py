"""The distribution a user installs: one top-level package, the files `portside new` needs, and extras
that each make sense on their own.

The wheel is built from the repository's files (tracked, or new and not ignored: what a commit holds),
copied away from the work tree so the build leaves nothing behind in it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("source")
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
                   check=True, capture_output=True, timeout=300)
    [path] = out.glob("portside-*.whl")
    return zipfile.ZipFile(path)


def metadata(wheel: zipfile.ZipFile) -> dict[str, list[str]]:
    """Requires-Dist by extra ("" for the base requirements)."""
    [name] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    message = Parser().parsestr(wheel.read(name).decode())
    extras: dict[str, list[str]] = {extra: [] for extra in message.get_all("Provides-Extra") or []}
    extras[""] = []
    for requirement in message.get_all("Requires-Dist") or []:
        m = re.search(r";\s*extra\s*==\s*['\"]([\w-]+)['\"]", requirement)
        extras[m[1] if m else ""].append(re.split(r"[\s;<>=!~\[]", requirement, maxsplit=1)[0].lower())
    return extras


def test_the_wheel_installs_portside_and_nothing_else_at_the_top(wheel: zipfile.ZipFile) -> None:
    top = {name.split("/")[0] for name in wheel.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"portside"}
    names = set(wheel.namelist())
    for module in ("portside/aws/__init__.py", "portside/gcp/__init__.py", "portside/local/cli.py",
                   "portside/fake/__init__.py", "portside/infra/program.py", "portside/local/new.py"):
        assert module in names
    assert not [n for n in names if n.startswith(("portside/handlers", "handlers/", "tests/", "bench/"))]


def test_the_wheel_holds_the_new_project_template(wheel: zipfile.ZipFile) -> None:
    """`portside new` reads its template from the installed package: a wheel without it makes nothing."""
    template = {n.removeprefix("portside/local/template/") for n in wheel.namelist()
                if n.startswith("portside/local/template/")}
    source = {str(p.relative_to(ROOT / "adapters/local/template")) for p in (ROOT / "adapters/local/template").rglob("*")
              if p.is_file()}
    assert template == source and "handlers/app.py.tmpl" in template and "dot-gitignore.tmpl" in template


def test_each_extra_serves_one_purpose(wheel: zipfile.ZipFile) -> None:
    extras = metadata(wheel)
    heavy = ("boto", "google", "functions-framework", "cloudevents", "pulumi", "mkdocs", "pytest", "moto")
    assert "click" in extras[""] and not [r for r in extras[""] if r.startswith(heavy)], \
        "installing portside alone brings no cloud SDK, no Pulumi and no tool: those are extras"
    assert {"aws", "gcp", "infra", "local", "otel", "docs", "dev"} <= set(extras)
    assert "boto3" in extras["aws"] and not [r for r in extras["aws"] if r.startswith(("google", "functions"))]
    assert "functions-framework" in extras["gcp"] and not [r for r in extras["gcp"] if r.startswith(("boto", "pulumi"))]
    assert {"pulumi", "pulumi-aws", "pulumi-gcp"} <= set(extras["infra"])
    assert "mkdocs" in extras["docs"] and not [r for r in extras["docs"] if r.startswith(("boto", "google", "pulumi"))]
    # dev is everything a contributor needs: every other extra, then the test tools
    assert set(extras["dev"]) >= {"portside", "pytest"}
    [dev_self] = [r for r in (ROOT / "pyproject.toml").read_text().splitlines() if r.strip().startswith('"portside[')]
    listed = set(re.search(r"\[(.*)\]", dev_self)[1].split(","))
    assert listed == set(extras) - {"", "dev"}, "the dev extra should pull in every other extra"
