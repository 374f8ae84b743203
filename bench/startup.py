"""Cold start: what importing a module adds to a fresh interpreter's start, as a ratio.

    .venv/bin/python -m bench.startup                  # portside and the app declaration
    .venv/bin/python -m bench.startup adapters.aws     # any modules

Each case runs in fresh interpreters, interleaved with the bare baseline so that
machine noise hits both alike; the figure is the median of many runs.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
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


def report(cases: dict[str, str], baseline: str = "pass", label: str = "bare interpreter") -> None:
    medians = compare(cases, baseline)
    base = medians.pop("baseline")
    print(f"{label:<36} {base:7.1f} ms   1.00x")
    for name, ms in medians.items():
        print(f"{name:<36} {ms:7.1f} ms   {ms / base:4.2f}x   (+{ms - base:.1f} ms)")


if __name__ == "__main__":
    modules = sys.argv[1:] or ["portside", "portside, handlers.app"]
    report({f"import {m}": f"import {m}" for m in modules})
