"""README's table of budgets and measured figures, written from bench/results/*.json.

    .venv/bin/python -m bench.readme          # rewrite the table between README's markers

README is read on GitHub, where no build step can include a results file, so its figures are
written into it by this module; tests/docs/test_readme_figures.py fails when README's table is not
what the results files say, so a figure in README is always the last one measured.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
BEGIN, END = "<!-- figures: begin (python -m bench.readme) -->", "<!-- figures: end -->"

# (results file, case in it, what README calls it, whether higher is better)
RATIOS: list[tuple[str, str, str, bool]] = [
    ("coldstart", "aws: import portside.aws (the Lambda handler's module), over bare interpreter",
     "AWS cold start, the built archive under `python3.12 -I`, over a bare interpreter", False),
    ("coldstart", "gcp: import main (portside.gcp's entry points), over import functions_framework",
     "GCP cold start, over `import functions_framework`", False),
    ("aws-overhead", "SQS batch of 10 through handler(event, context), handler does nothing",
     "SQS batch of 10 through the Lambda handler, over Powertools' `process_partial_response`", False),
    ("aws-overhead", "HTTP API 2.0 request through handler(event, context)",
     "API Gateway v2 request through the Lambda handler, over Powertools' `APIGatewayHttpResolver`", False),
    ("aws-overhead", "SQS batch of 10 JSON messages: to_events", "normalizing SQS, over `json.loads`", False),
    ("aws-overhead", "SNS, 10 records: to_events", "normalizing SNS, over `json.loads`", False),
    ("aws-overhead", "S3, 10 records delivered directly: to_events", "normalizing S3, over `json.loads`", False),
    ("aws-overhead", "S3 via SQS, 10 notifications: to_events",
     "normalizing S3 notifications through SQS, over `json.loads`", False),
    ("gcp-overhead", "Pub/Sub push, 10 request bodies: to_events", "normalizing Pub/Sub push, over `json.loads`",
     False),
    ("aws-overhead", "HTTP API 2.0 request: to_events", "normalizing API Gateway v2, over `json.loads`", False),
    ("gcp-overhead", "Firestore update, protobuf DocumentEventData: to_events",
     "normalizing a Firestore protobuf event, over `json.loads`", False),
    ("local", "end to end", "local runtime end to end, of a bare SQLite pipeline", True),
    ("local", "drain", "local runtime draining a backlog, of a bare SQLite pipeline", True),
    ("fake", "10000 messages", "fake cloud at 10,000 messages, of its own rate at 100", True),
]


def load(name: str) -> dict[str, Any]:
    return json.loads((RESULTS / f"{name}.json").read_text())


def _ratio_row(name: str, case: str, label: str, higher: bool) -> str:
    data = load(name)
    fig = data["figures"][case]
    ratio, (low, high), budget = fig["ratio"], fig["spread"], fig["budget"]
    met = ratio >= budget if higher else ratio <= budget
    shown = f"{ratio:.3f}" if round(ratio, 2) == budget and not met else f"{ratio:.2f}"  # 1.303 is not 1.30
    return (f"| {label} | **{shown}x** [{low:.2f}-{high:.2f}] | {'at least' if higher else 'at most'} "
            f"{budget:g}x | {'met' if met else 'missed'} | `{data['command']}` |")


def _http_rows() -> list[str]:
    data = load("http-load")
    posts, gets = data["figures"]["burst_64_posts"], data["figures"]["burst_200_gets"]
    return [f"| 64 simultaneous POSTs to `portside dev` | **{posts['accepted_min']} of {posts['of']}** accepted "
            f"(worst of {data['figures']['rounds']} rounds) | all | {'met' if posts['pass'] else 'missed'} | "
            f"`{data['command']}` |",
            f"| 200 simultaneous GETs, p99 | **{gets['p99_ms']:.0f} ms** (max {gets['max_ms']:.0f} ms, "
            f"{gets['failed']} failed) | under 1,000 ms | {'met' if gets['pass'] else 'missed'} | "
            f"`{data['command']}` |"]


def _restart_row() -> str:
    data = load("restarts")
    f = data["figures"]
    drains = ", ".join(f"{r['ratio_to_normal']:.2f}" for r in f["restarts"])
    ok = f["lost"] == 0 and f["effects_twice"] == 0 and all(r["ratio_to_normal"] <= 1.5 for r in f["restarts"])
    return (f"| {f['accepted']:,} POSTs from 20 clients, kill -9 {len(f['restarts'])} times | **{f['lost']} lost, "
            f"{f['effects_twice']} applied twice**; restarts drain in {drains}x the time of an uncrashed run | "
            f"nothing lost, normal rate | {'met' if ok else 'missed'} | `{data['command']}` |")


def table(rows: list[Callable[[], list[str]]] | None = None) -> str:
    """The Markdown README shows between its markers."""
    lines = ["| what | measured (median [quartiles]) | budget | | command |", "|---|---|---|---|---|"]
    lines += [_ratio_row(*row) for row in RATIOS]
    lines += _http_rows()
    lines.append(_restart_row())
    dates = sorted({load(name)["date"][:10] for name in {r[0] for r in RATIOS} | {"http-load", "restarts"}})
    machine = load("coldstart")["machine"]
    lines.append("")
    lines.append(f"Measured {dates[0]}{' to ' + dates[-1] if dates[-1] != dates[0] else ''} on {machine['cores']} "
                 f"cores ({machine['cpu']}); each file under `bench/results/` has the date, machine, commit and "
                 "command of its figures, and [the benchmarks page](docs/benchmarks.md) shows them all.")
    return "\n".join(lines)


def _find(text: str) -> re.Match[str]:
    m = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), text, re.S)
    if m is None:
        raise ValueError(f"README.md has no {BEGIN} ... {END} block")
    return m


def block(text: str) -> str:
    """README's current table (between the markers)."""
    return _find(text)[1]


def main() -> None:
    text = README.read_text()
    m = _find(text)
    README.write_text(text[:m.start(1)] + table() + text[m.end(1):])
    print("README.md: figures rewritten from bench/results")


if __name__ == "__main__":
    main()
