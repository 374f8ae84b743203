"""Function archives: the portside core + the one adapter for the cloud + the app's packages.

The archive's name is a hash of its content, so changed code redeploys and unchanged code
does not. No infra/, tests or pulumi ever goes in. It carries the bytecode of its sources for
the runtime's Python (infra/bytecode.py), so a cold start does not compile them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import pulumi

from portside import deployment
from portside.app import App
from portside.errors import DeclarationError
from portside.infra.bytecode import compile_sources, interpreter

EXCLUDED_TOP = {"infra", "tests", "pulumi", "bench", "scripts"}
TARGETS = ("aws", "gcp", "local", "fake", "infra")  # portside's subpackages that are not the core
SKIP_PARTS = {"__pycache__", ".pytest_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo"}
PYTHON = "3.12"  # the functions' runtime on both clouds (python3.12 on Lambda, python312 on GCP)


@dataclass(frozen=True)
class Package:
    files: dict[str, bytes | Path]  # archive path -> content or source file
    digest: str

    @property
    def name(self) -> str:
        return f"portside-{self.digest[:20]}.zip"

    def archive(self) -> pulumi.AssetArchive:
        return pulumi.AssetArchive({
            path: pulumi.FileAsset(str(src)) if isinstance(src, Path) else pulumi.StringAsset(src.decode())
            for path, src in self.files.items()
        })


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise DeclarationError(f"cannot package {name!r}: no package of that name is importable (is the "
                               "project's folder the working directory, or on sys.path?)")
    return Path(next(iter(spec.submodule_search_locations)))


def _tree(directory: Path, arc_root: str, skip: frozenset[str] = frozenset()) -> dict[str, Path]:
    """Every file under ``directory`` as ``arc_root/...``, leaving out the folders named in ``skip``."""
    out = {}
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if rel.parts[0] in skip or SKIP_PARTS & set(rel.parts) or not path.is_file() or path.suffix in SKIP_SUFFIXES:
            continue
        out[f"{arc_root}/{rel.as_posix()}"] = path
    return out


def handler_packages(app: App, app_spec: str) -> list[str]:
    tops = {app_spec.split(":")[0].split(".")[0]} | {f.handler.split(".")[0].split(":")[0]
                                                     for f in app.functions.values()}
    bad = sorted(tops & EXCLUDED_TOP)
    if bad:
        raise DeclarationError(f"handlers live in {bad}, which never ships in a function archive; "
                               "move them to a handlers package")
    return sorted(tops - {"portside"})


def requirements(*extras: str) -> str:
    """The installed portside distribution's requirements for ``extras`` (e.g. "gcp")."""
    from importlib.metadata import requires

    out = []
    for text in requires("portside") or []:
        spec, _, marker = text.partition(";")
        m = re.fullmatch(r'\s*extra\s*==\s*"([\w-]+)"\s*', marker)
        if m and m.group(1) in extras:
            out.append(spec.strip())
    return "\n".join(out) + "\n"


def build_package(app: App, cloud: str, app_spec: str, *, bytecode: bool = True) -> Package:
    files: dict[str, bytes | Path] = {}
    files.update(_tree(_package_dir("portside"), "portside", frozenset(TARGETS)))
    files.update(_tree(_package_dir(f"portside.{cloud}"), f"portside/{cloud}"))
    for top in handler_packages(app, app_spec):
        files.update(_tree(_package_dir(top), top))
    if cloud == "gcp":
        files["main.py"] = deployment.gcp_main().encode()
        files["requirements.txt"] = requirements("gcp", "app").encode()
    if bytecode:
        files.update(_bytecode(files))
    digest = hashlib.sha256()
    for path in sorted(files):
        src = files[path]
        data = src.read_bytes() if isinstance(src, Path) else src
        digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    return Package(files, digest.hexdigest())


def _bytecode(files: dict[str, bytes | Path]) -> dict[str, Path]:
    python = interpreter(PYTHON)
    if python is None:
        pulumi.log.warn(f"no Python {PYTHON} found to compile the function archive (python{PYTHON} on PATH, "
                        f"or set PORTSIDE_BYTECODE_PYTHON): it ships sources only, which every cold start compiles")
        return {}
    return compile_sources({p: src for p, src in files.items() if p.endswith(".py") and isinstance(src, Path)},
                           PYTHON, python)
