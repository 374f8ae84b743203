"""The benchmark environment of the adapters' benchmarks: Python 3.12 (what both clouds run) with
portside installed from this checkout, as a function gets it, and the baselines a user would pick
instead: aws-lambda-powertools and functions-framework. A venv under build/, for the benchmarks
only; none of it is a project dependency.

``ensure("bench.aws")`` at the top of a benchmark's main re-runs it there (creating the venv on the
first run, reinstalling portside when its sources changed) unless it already runs there.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "build" / "bench-baselines"
BASELINES = ["aws-lambda-powertools==3.37.0", "functions-framework==3.10.2", "cloudevents==1.12.0", "google-events>=0.11",
             "googleapis-common-protos"]  # google-events needs google.type and does not say so


def _sources_hash() -> str:
    digest = hashlib.sha256()
    for folder in ("portside", "adapters/aws", "adapters/gcp"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            digest.update(path.read_bytes())
    digest.update((ROOT / "pyproject.toml").read_bytes())
    return digest.hexdigest()[:16]


def python() -> str:
    """The venv's interpreter, built or refreshed as needed."""
    from portside.infra.bytecode import interpreter

    exe = VENV / "bin" / "python"
    baselines = VENV / f".baselines-{hashlib.sha256(' '.join(BASELINES).encode()).hexdigest()[:12]}"
    if not baselines.is_file():
        found = interpreter("3.12")
        if found is None:
            sys.exit("no Python 3.12 here (python3.12 on PATH, pyenv, or PORTSIDE_BYTECODE_PYTHON)")
        subprocess.run([found, "-m", "venv", "--clear", str(VENV)], check=True)
        print(f"installing {', '.join(BASELINES)} into {VENV.relative_to(ROOT)} (first run only)...", file=sys.stderr)
        subprocess.run([str(exe), "-m", "pip", "install", "-q", "--disable-pip-version-check", *BASELINES], check=True)
        baselines.touch()
    installed = VENV / f".portside-{_sources_hash()}"
    if not installed.is_file():
        for stale in VENV.glob(".portside-*"):
            stale.unlink()
        subprocess.run([str(exe), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                        "--force-reinstall", str(ROOT)], check=True, stdout=subprocess.DEVNULL)
        installed.touch()
    return str(exe)


def ensure(module: str) -> None:
    """Re-run ``python -m module`` with this process's arguments in the benchmark venv, unless this
    is it. ``-P`` keeps the checkout's ``portside/`` folder from shadowing the installed package (the
    adapters install under it); the checkout is appended to sys.path only to find ``bench``."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    exe = python()
    code = (f"import runpy, sys; sys.path.append({str(ROOT)!r}); sys.argv[0] = {module!r}; "
            f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")
    os.execv(exe, [exe, "-P", "-c", code, *sys.argv[1:]])
