"""Function archives: only portside, the cloud's one adapter and the handlers; named by content."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pulumi
import pytest

import portside.infra.bytecode
from portside import App, DeclarationError, deployment
from portside.infra.bytecode import interpreter
from portside.infra.package import PYTHON, build_package
from tests.infra.apps import full_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_archive_holds_the_sdk_one_adapter_and_the_handlers(cloud: str) -> None:
    package = build_package(full_app(), cloud, "handlers.app:app")
    tops = {p.split("/")[0] for p in package.files}
    expected = {"portside", "handlers"} | ({"main.py", "requirements.txt"} if cloud == "gcp" else set())
    assert tops == expected
    subpackages = {p.split("/")[1] for p in package.files if p.startswith("portside/") and p.count("/") > 1}
    assert subpackages - {"__pycache__"} == {cloud}  # the one adapter; never infra, local, fake or the other cloud
    assert f"portside/{cloud}/__init__.py" in package.files
    assert "portside/delivery.py" in package.files and "handlers/app.py" in package.files
    sources = {p for p in package.files if p.endswith(".py")}
    for pyc in [p for p in package.files if "__pycache__" in p or p.endswith(".pyc")]:
        folder, _, name = pyc.partition("/__pycache__/")  # only the bytecode infra compiled, for 3.12
        assert name.endswith(".cpython-312.pyc") and f"{folder}/{name.split('.')[0]}.py" in sources, pyc
    assert package.name.startswith("portside-") and package.name.endswith(".zip")
    assert isinstance(package.archive(), pulumi.AssetArchive)


def test_gcp_gets_a_generated_main_and_requirements() -> None:
    package = build_package(full_app(), "gcp", "handlers.app:app")
    main = package.files["main.py"].decode()
    for target in deployment.GCP_TARGETS.values():
        assert target in main and "from portside.gcp import" in main
    compile(main, "main.py", "exec")
    reqs = package.files["requirements.txt"].decode().splitlines()
    assert any(r.startswith("functions-framework") for r in reqs) and any(r.startswith("google-cloud-pubsub") for r in reqs)
    assert not [r for r in reqs if r.startswith(("pulumi", "boto3", "pytest"))]


def test_the_name_follows_the_content(tmp_path: Path) -> None:
    pkg = f"hs_{uuid.uuid4().hex[:8]}"
    (tmp_path / pkg).mkdir()
    (tmp_path / pkg / "__init__.py").write_text("")
    handler = tmp_path / pkg / "work.py"
    handler.write_text("def run(event):\n    return None\n")
    sys.path.insert(0, str(tmp_path))
    try:
        app = App("hashes")
        app.function(f"{pkg}.work:run", trigger=app.queue("jobs").on_message())
        first = build_package(app, "aws", f"{pkg}.work:app").name
        assert build_package(app, "aws", f"{pkg}.work:app").name == first  # same code, same name
        (tmp_path / pkg / "__pycache__").mkdir()
        (tmp_path / pkg / "__pycache__" / "work.cpython-311.pyc").write_bytes(b"\0junk")
        assert build_package(app, "aws", f"{pkg}.work:app").name == first  # bytecode never ships
        handler.write_text("def run(event):\n    return 1\n")
        changed = build_package(app, "aws", f"{pkg}.work:app").name
        assert changed != first
        handler.write_text("def run(event):\n    return None\n")
        assert build_package(app, "aws", f"{pkg}.work:app").name == first
        assert build_package(app, "gcp", f"{pkg}.work:app").name != first  # another adapter, another archive
    finally:
        sys.path.remove(str(tmp_path))


def test_handlers_under_tests_or_infra_are_refused() -> None:
    app = App("misplaced")
    app.function("tests.infra.apps:full_app", trigger=app.queue("jobs").on_message())
    with pytest.raises(DeclarationError, match=r"handlers live in \['tests'\], which never ships"):
        build_package(app, "aws", "handlers.app:app")


def test_a_missing_handler_package_is_named() -> None:
    app = App("missing")
    app.function("nowhere_pkg_xyz.mod:run", trigger=app.queue("jobs").on_message())
    with pytest.raises(DeclarationError, match=r"cannot package 'nowhere_pkg_xyz'"):
        build_package(app, "aws", "handlers.app:app")


def test_the_entry_points_the_deployment_names_exist() -> None:
    import portside.aws
    import portside.gcp

    module, _, attr = deployment.AWS_HANDLER.rpartition(".")
    assert module == "portside.aws" and callable(getattr(portside.aws, attr))
    for target in deployment.GCP_TARGETS.values():
        assert callable(getattr(portside.gcp, target))


RUNTIME_PYTHON = interpreter(PYTHON)
needs_runtime_python = pytest.mark.skipif(
    RUNTIME_PYTHON is None, reason=f"no Python {PYTHON} (the functions' runtime) here to compile bytecode for")


@needs_runtime_python
def test_the_runtime_loads_the_shipped_bytecode_without_reading_sources(tmp_path: Path) -> None:
    package = build_package(full_app(), "aws", "handlers.app:app")
    for path, src in package.files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(src.read_bytes() if isinstance(src, Path) else src)
    (tmp_path / "portside" / "errors.py").write_text("raise SystemExit('the source was compiled at import')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run([RUNTIME_PYTHON, "-c", "import portside.aws, handlers.app, portside.errors"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


@needs_runtime_python
def test_bytecode_is_the_same_bytes_every_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds = []
    for run in ("first", "second"):
        monkeypatch.setattr(portside.infra.bytecode, "cache_dir", lambda run=run: tmp_path / run)
        package = build_package(full_app(), "aws", "handlers.app:app")
        builds.append((package.name, {p: s.read_bytes() for p, s in package.files.items() if p.endswith(".pyc")}))
    assert builds[0][1] and builds[0] == builds[1]
