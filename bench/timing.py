"""Per-call timings of two functions, paired so that a shared machine's noise hits both alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def per_call_us(fn: Callable[[], object], number: int) -> float:
    """Microseconds per call of ``fn``, over ``number`` calls."""
    t = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t) / number * 1e6


def paired(baseline: Callable[[], object], candidate: Callable[[], object],
           rounds: int = 61, number: int = 300) -> tuple[float, float, float]:
    """(baseline µs, candidate µs, ratio), each the median over ``rounds`` rounds that alternate
    the two; the ratio is the median of the per-round ratios, so a burst of load from another
    process shifts both sides of a round, not the figure."""
    baseline(), candidate()  # warm up
    base, cand = [], []
    for _ in range(rounds):
        base.append(per_call_us(baseline, number))
        cand.append(per_call_us(candidate, number))
    return statistics.median(base), statistics.median(cand), statistics.median(c / b for b, c in zip(base, cand))
