"""Run the scenario suite on every target and print the scenario x target matrix (Markdown).

    .venv/bin/python -m tests.scenarios.matrix            # the table README.md shows
    .venv/bin/python -m tests.scenarios.matrix -k "aws"   # extra arguments go to pytest

The table comes from pytest's JUnit XML of that very run: nothing is typed by hand, a failure
shows as "fail" and a skipped target as "skip" with the reason its driver gave.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITE = "tests/scenarios/test_scenarios.py"


def run(extra: list[str]) -> tuple[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "junit.xml"
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytest", SUITE, "-q", "-p", "no:cacheprovider",
                               f"--junitxml={xml}", *extra], cwd=ROOT, capture_output=True, text=True)
        seconds = time.monotonic() - started
        if not xml.exists():
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"pytest produced no report (exit {proc.returncode})")
        return render(ET.parse(xml).getroot(), seconds), proc.returncode


def render(root: ET.Element, seconds: float) -> str:
    cells: dict[str, dict[str, str]] = defaultdict(dict)
    targets: list[str] = []
    reasons: dict[str, str] = {}
    for case in root.iter("testcase"):
        m = re.match(r"(test_\w+)\[(.+)\]$", case.get("name", ""))
        if not m:
            continue
        scenario, target = m.groups()
        if target not in targets:
            targets.append(target)
        if case.find("skipped") is not None:
            reason = case.find("skipped").get("message", "")
            reasons[target] = reason.removeprefix("Skipped: ")
            cells[scenario][target] = "skip¹"
        elif case.find("failure") is not None or case.find("error") is not None:
            cells[scenario][target] = "**fail**"
        else:
            cells[scenario][target] = f"pass ({float(case.get('time', 0)):.1f} s)"
    lines = ["| scenario | " + " | ".join(targets) + " |", "|---|" + "---|" * len(targets)]
    for scenario, row in cells.items():
        title = scenario.removeprefix("test_").replace("_", " ")
        lines.append(f"| {title} | " + " | ".join(row.get(t, "") for t in targets) + " |")
    lines.append("")
    lines.append(f"Whole run: {seconds:.0f} s (servers and emulators started once per target, included).")
    for target, reason in reasons.items():
        lines.append(f"¹ {target}: skipped: {reason}")
    return "\n".join(lines)


if __name__ == "__main__":
    table, code = run(sys.argv[1:])
    print(table)
    raise SystemExit(code)
