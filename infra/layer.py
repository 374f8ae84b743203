"""The AWS dependency layer: the app's pinned requirements installed for Lambda's platform.

``pip install --platform ... --implementation cp --python-version 3.12 --only-binary=:all:``
fetches the wheels built for the functions' architecture and Python, whatever this machine is,
into ``python/`` (what Lambda puts on ``sys.path`` from a layer, /opt/python:
docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html). Lambda's python3.12 runs on Amazon
Linux 2023, whose glibc is 2.34 (binaries needing GLIBC_2.38 fail there: aws-lambda-rust-runtime
#932), so wheels for manylinux2014 up to manylinux_2_34 fit: Pillow 11 and later
publish manylinux_2_27/2_28 wheels only, which ``--platform manylinux2014_<arch>`` alone refuses.

The layer is cached under the project's build/deps by a hash of (architecture, Python, pins): an
unchanged set is neither installed nor uploaded again. Its zip is written with fixed timestamps and
order, so the same pins give the same bytes on every machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from portside.errors import DeclarationError
from portside.infra.deps import MACHINES, PYTHON

GLIBC_MINORS = range(17, 35)  # manylinux_2_17 (= manylinux2014) .. manylinux_2_34 (Amazon Linux 2023)
EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


@dataclass(frozen=True)
class Layer:
    name: str  # portside-deps-<arch>-<hash>.zip
    zip: Path
    root: Path  # the unpacked tree (python/...)


def cache_dir() -> Path:
    from portside.project import find

    project = find()
    return (project.root / "build" if project else Path.home() / ".cache" / "portside") / "deps"


def platforms(architecture: str) -> list[str]:
    machine = MACHINES[architecture]
    return [f"manylinux2014_{machine}", *(f"manylinux_2_{n}_{machine}" for n in GLIBC_MINORS)]


def build_layer(pins: dict[str, str], architecture: str) -> Layer:
    """Install ``pins`` for Lambda on ``architecture`` (arm64 or x86_64) and zip them, once per set."""
    key = hashlib.sha256(json.dumps([architecture, PYTHON, sorted(pins.items())]).encode()).hexdigest()[:20]
    name = f"portside-deps-{architecture}-{key}.zip"
    cache = cache_dir()
    root, archive = cache / name.removesuffix(".zip"), cache / name
    if archive.is_file():
        return Layer(name, archive, root)
    staging = cache / f".{name}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
               "--no-compile", "--only-binary=:all:", "--implementation", "cp", "--python-version", PYTHON,
               *(arg for p in platforms(architecture) for arg in ("--platform", p)),
               "--target", str(staging / "python"), *(f"{n}=={v}" for n, v in sorted(pins.items()))]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        errors = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("WARNING: Location"))
        raise DeclarationError(f"could not fetch the app's packages for Lambda ({architecture}, Python {PYTHON}): "
                               f"{errors.strip()}\n(ran: {' '.join(command)}; is PyPI reachable, and does each "
                               "pinned version publish a manylinux wheel for this architecture?)")
    _zip(staging, staging.with_suffix(".zip"))
    shutil.rmtree(root, ignore_errors=True)
    staging.rename(root)
    staging.with_suffix(".zip").replace(archive)
    return Layer(name, archive, root)


def _zip(folder: Path, out: Path) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), EPOCH)
            executable = path.stat().st_mode & stat.S_IXUSR
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())
