"""Cold start: what importing a module adds to a fresh interpreter's start, as a ratio.

    .venv/bin/python -m bench.startup                  # portside and the app declaration
    .venv/bin/python -m bench.startup portside.aws     # any modules

Each case runs in fresh interpreters, interleaved with the bare baseline so that machine noise
hits both alike; the figure is the median of many runs. Two ways, because a deployed function's
code directory is read-only and Python cannot cache what it compiles there:
- "as deployed": the .pyc files are already there (infra ships them, infra/bytecode.py);
- "sources only": every source is compiled at import (an archive built without bytecode).
The standard library's own .pyc files are used in both ways, as on the clouds' runtimes.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_ms(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return (time.perf_counter() - t) * 1000


def compare(cases: dict[str, str], baseline: str = "pass", runs: int = 30) -> dict[str, float]:
    """Median start-up milliseconds of each case and of ``baseline``, runs interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in ["baseline", *cases]}
    for name, code in [("baseline", baseline), *cases.items()]:
        start_ms(code)  # warm the .pyc and page caches
    for _ in range(runs):
        samples["baseline"].append(start_ms(baseline))
        for name, code in cases.items():
            samples[name].append(start_ms(code))
    return {name: statistics.median(values) for name, values in samples.items()}


@contextmanager
def bytecode(cached: bool) -> Iterator[str]:
    """Run the fresh interpreters started inside with project .pyc files cached (a private
    pycache prefix, filled by the warm-up run) or compiled at every import. Yields the label."""
    saved = {k: os.environ.get(k) for k in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    with tempfile.TemporaryDirectory(prefix="bench-pyc-") as cache:
        os.environ.pop("PYTHONDONTWRITEBYTECODE" if cached else "PYTHONPYCACHEPREFIX", None)
        os.environ.update({"PYTHONPYCACHEPREFIX": cache} if cached else {"PYTHONDONTWRITEBYTECODE": "1"})
        try:
            yield "as deployed (.pyc shipped)" if cached else "sources only (compiled at every import)"
        finally:
            for k, v in saved.items():
                os.environ.pop(k, None)
                if v is not None:
                    os.environ[k] = v


def report(cases: dict[str, str], baseline: str = "pass", label: str = "bare interpreter", runs: int = 30) -> None:
    """Print each case's median start-up and its ratio to ``baseline``, both ways."""
    for cached in (True, False):
        with bytecode(cached) as way:
            medians = compare(cases, baseline, runs)
        base = medians.pop("baseline")
        print(f"{way}, median of {runs} fresh interpreters")
        print(f"  {label:<44} {base:7.1f} ms   1.00x")
        for name, ms in medians.items():
            print(f"  {name:<44} {ms:7.1f} ms   {ms / base:4.2f}x   (+{ms - base:.1f} ms)")


if __name__ == "__main__":
    modules = sys.argv[1:] or ["portside", "portside, handlers.app"]
    report({f"import {m}": f"import {m}" for m in modules})
