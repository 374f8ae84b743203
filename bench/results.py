"""Where benchmark figures go: one JSON file per benchmark in bench/results/, with the date, the
machine and the command that produced them. The documentation includes these files when it is
built, so a figure the docs show is always the last one measured, never a number typed by hand.

    from bench.results import record
    record("aws-coldstart", "python -m bench.aws coldstart", {
        "import portside.aws": {"ratio": 2.31, "spread": [2.2, 2.4], "ms": 46.1, "baseline_ms": 20.0,
                                "budget": 2.5, "unit": "x bare interpreter"},
    })
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform(terse=True),
            "python": platform.python_version(), "load_1m": round(os.getloadavg()[0], 2)}


def commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=RESULTS.parent, capture_output=True,
                             text=True, timeout=5)
    except OSError:
        return None
    return out.stdout.strip() or None


def record(name: str, command: str, figures: dict[str, Any], notes: str | None = None) -> Path:
    """Write ``bench/results/<name>.json`` and return its path. ``figures`` maps a case to its numbers
    (a ratio with its spread, the two sides' times, the budget it is held to)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"name": name, "command": command, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "commit": commit(), "machine": machine(), "figures": figures}
    if notes:
        data["notes"] = notes
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    print(f"recorded {path.relative_to(RESULTS.parent.parent)}", file=sys.stderr)
    return path
