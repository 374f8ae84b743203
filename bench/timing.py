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


def figure(baseline: Callable[[], object], candidate: Callable[[], object], budget: float | None = None,
           rounds: int = 41, number: int = 200) -> dict[str, object]:
    """``paired`` as the figure bench/results.py records: the candidate's ratio to the baseline
    (median of the per-round ratios) with the quartiles as its spread, both sides' µs per call,
    and the budget it is held to."""
    baseline(), candidate()
    ratios, base, cand = [], [], []
    for _ in range(rounds):
        b = per_call_us(baseline, number)
        c = per_call_us(candidate, number)
        base.append(b)
        cand.append(c)
        ratios.append(c / b)
    q1, q2, q3 = statistics.quantiles(ratios, n=4)
    out: dict[str, object] = {"ratio": round(statistics.median(ratios), 3), "spread": [round(q1, 3), round(q3, 3)],
                              "us": round(statistics.median(cand), 2), "baseline_us": round(statistics.median(base), 2)}
    if budget is not None:
        out["budget"] = budget
    return out
