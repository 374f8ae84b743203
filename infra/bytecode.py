"""Compiled bytecode for a function archive, made by the runtime's own Python version.

A deployed function's code directory is read-only (Lambda's /var/task), so Python cannot cache
what it compiles: without ``.pyc`` files in the archive every cold start compiles portside, the
adapter and the handlers again (bench/aws.py measures ~15 ms of a ~25 ms start-up). The files
are compiled in ``unchecked-hash`` mode (PEP 552): no timestamps, so the same source gives the
same bytes and the archive's content hash stays stable, and the runtime loads them without
reading the source first. Compiling needs an interpreter of the runtime's exact version, because
bytecode differs between versions; without one the archive ships sources only, with a warning.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def cache_dir() -> Path:
    """Where compiled files are kept: the project's build/ folder, else the user's cache."""
    from portside.project import find

    project = find()
    return (project.root / "build" if project else Path.home() / ".cache" / "portside") / "bytecode"
OVERRIDE = "PORTSIDE_BYTECODE_PYTHON"  # path of the interpreter to compile with

_COMPILE = """
import json, py_compile, sys
for src, dst, shown in json.load(sys.stdin):
    py_compile.compile(src, cfile=dst, dfile=shown, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
"""


@functools.cache
def interpreter(version: str) -> str | None:
    """A Python ``version`` (e.g. "3.12") that runs here: $PORTSIDE_BYTECODE_PYTHON, this one,
    ``python3.12`` on PATH, or a pyenv-installed 3.12; None if there is none."""
    candidates = [os.environ.get(OVERRIDE), shutil.which(f"python{version}")]
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        candidates.insert(0, sys.executable)
    pyenv = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(f"{pyenv}/versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in filter(None, candidates):
        try:
            found = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                   capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if found.returncode == 0 and found.stdout.strip() == version:
            return candidate
    return None


def compile_sources(sources: dict[str, Path], version: str, python: str) -> dict[str, Path]:
    """``{archive path of x.py: its source}`` -> ``{archive path of its .pyc: the compiled file}``.

    Each file is compiled once per (archive path, content) and kept under build/bytecode.
    """
    tag = f"cpython-{version.replace('.', '')}"
    cache = cache_dir()
    out: dict[str, Path] = {}
    todo: list[tuple[str, str, str]] = []
    for arc, src in sources.items():
        key = hashlib.sha256(arc.encode() + b"\0" + src.read_bytes()).hexdigest()
        cached = cache / tag / f"{key}.pyc"
        folder, _, name = arc.rpartition("/")
        out[f"{folder}/__pycache__/{name[:-3]}.{tag}.pyc".lstrip("/")] = cached
        if not cached.is_file():
            todo.append((str(src), str(cached), arc))
    if todo:
        (cache / tag).mkdir(parents=True, exist_ok=True)
        done = subprocess.run([python, "-c", _COMPILE], input=json.dumps(todo), capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": "0"}, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"compiling the function archive with {python} failed: {done.stderr.strip()}")
    return out
