"""A function's cold start imports only what its entry needs (bench/startup.py measures the time).

Checked on the function archive as the project's packaging builds it, in a fresh interpreter with
that folder alone on ``sys.path`` (``-I -S``: no site-packages, so no development install or
``.pth`` file pre-imports anything), as a difference from the same interpreter importing nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from portside.app import load_app
from portside.project import app_spec

# Each costs a cold start milliseconds (python3.12 -X importtime); none is needed to import an entry.
HEAVY = ("dataclasses", "typing", "logging", "inspect", "ast", "urllib.parse", "ipaddress", "base64", "uuid",
         "traceback", "contextlib", "boto3", "botocore")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("pulumi", reason="the archive is built by portside.infra (the infra extra)")
    from portside.infra.package import build_package

    spec = app_spec()
    folder = tmp_path_factory.mktemp("aws-archive")
    for path, src in build_package(load_app(spec), "aws", spec, bytecode=False).files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(src.read_bytes() if isinstance(src, Path) else src)
    return folder


def added(folder: Path, code: str) -> set[str]:
    dump = "; import sys as _s; print(' '.join(sorted(_s.modules)))"
    path = f"import sys; sys.path.insert(0, {str(folder)!r})"
    before, after = (set(subprocess.run([sys.executable, "-I", "-S", "-c", path + c + dump], capture_output=True,
                                        text=True, check=True).stdout.split()) for c in ("", f"; {code}"))
    return after - before


@pytest.mark.parametrize("entry", ["portside", "portside.aws", "portside.idempotency", "portside.outbox"])
def test_importing_an_entry_loads_no_heavy_module(archive: Path, entry: str) -> None:
    loaded = added(archive, f"import {entry}")
    assert entry in loaded
    assert sorted(m for m in loaded if m in HEAVY) == []


def test_the_package_alone_imports_nothing_else(archive: Path) -> None:
    assert added(archive, "import portside") <= {"portside", "__future__"}


def test_public_names_load_on_first_use(archive: Path) -> None:
    code = "import portside; assert portside.App.__name__ == 'App' and portside.Message.__name__ == 'Message'"
    loaded = added(archive, code)
    assert {"portside.app", "portside.events"} <= loaded
    assert "portside.aws" not in loaded


def test_an_unknown_name_is_an_attribute_error() -> None:
    import portside

    with pytest.raises(AttributeError, match="module 'portside' has no attribute 'Nope'"):
        portside.Nope  # noqa: B018
    assert {"App", "Message", "context"} <= set(dir(portside))
    assert all(getattr(portside, name) is not None for name in portside.__all__)
