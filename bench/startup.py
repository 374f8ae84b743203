"""Cold start as users get it: each cloud's entry imported from the built function archive alone.

    .venv/bin/python -m bench.startup              # AWS and GCP
    .venv/bin/python -m bench.startup aws --runs 80

For each cloud the project's own packaging builds the function archive
(``portside.infra.package.build_package``: the core, the cloud's adapter and the app's packages,
with unchecked-hash .pyc compiled by Python 3.12, the runtime's version), and the archive is
unpacked into an empty folder. Fresh ``python3.12 -I`` interpreters then put only that folder on
``sys.path`` and import the entry, interleaved with the baseline, which puts the same folder on
``sys.path`` and imports nothing of ours:

- AWS: ``import portside.aws`` (the Lambda handler's module) over a bare interpreter (the budget's
  baseline), and over one that has imported what Lambda's own runtime imports before the handler
  (json, logging, traceback...: what a Lambda function really adds); each alone and with the init
  phase a deployed function runs at import (the app declared, the function's runtime built);
- GCP: ``import main`` (the generated entry, which imports portside.gcp) over an interpreter that
  has imported ``functions_framework`` (installed, for the benchmark only, in a 3.12 venv under
  build/), as the Cloud Functions runtime has before it loads ``main.py``.

Each round runs the baseline and every case once (the order alternates between rounds); a case's
figure is the median of its per-round ratios to the baseline, with the quartiles as its spread,
for wall time and for CPU time (user + system, from ``wait4``: on a shared machine a process
waiting for a core adds wall time but no CPU time). A separate run checks which modules the entry
imported: no cloud SDK may be among them. The figures go to bench/results/coldstart.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "coldstart"
PYTHON = "3.12"  # the functions' runtime on both clouds (portside.infra.package.PYTHON)
BUDGETS = {"aws": 2.5, "gcp": 1.15}
SDKS = ("boto3", "botocore", "google.cloud", "google.api_core", "google.protobuf", "google.events", "grpc",
        "opentelemetry")


def python312() -> str:
    from portside.infra.bytecode import interpreter

    found = interpreter(PYTHON)
    if found is None:
        sys.exit(f"no Python {PYTHON} here (python{PYTHON} on PATH, pyenv, or PORTSIDE_BYTECODE_PYTHON)")
    return found


def unpack(cloud: str, app_spec: str | None = None) -> Path:
    """Build ``cloud``'s function archive as ``pulumi up`` would and unpack it into an empty folder."""
    from portside.app import load_app
    from portside.infra.package import PYTHON as RUNTIME
    from portside.infra.package import build_package
    from portside.project import app_spec as project_app

    assert RUNTIME == PYTHON, f"the archive is compiled for {RUNTIME}; measure with that Python"
    spec = app_spec or project_app()
    package = build_package(load_app(spec), cloud, spec)
    if not any(path.endswith(".pyc") for path in package.files):
        sys.exit("the archive has no .pyc files: no Python 3.12 to compile them (see portside.infra.bytecode)")
    folder = BUILD / cloud
    shutil.rmtree(folder, ignore_errors=True)
    for path, src in package.files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(src.read_bytes() if isinstance(src, Path) else src)
    return folder


def functions_framework_python() -> str:
    """A Python 3.12 venv under build/ with functions-framework only (the benchmark's, never the project's),
    at the version the dev environment has."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        want = f"functions-framework=={version('functions-framework')}"
    except PackageNotFoundError:
        want = "functions-framework"
    venv = BUILD / "venv-gcp"
    python = venv / "bin" / "python"
    stamp = venv / f".installed-{want}"
    if not stamp.is_file():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([python312(), "-m", "venv", str(venv)], check=True)
        print(f"installing {want} into {venv.relative_to(ROOT)} (first run only)...", file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", want], check=True)
        stamp.touch()
    return str(python)


ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": ":UTC"}  # the same for every run


def start(python: str, code: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, CPU ms) of one fresh ``python -I -c code``."""
    argv = [python, "-I", "-c", code]
    t = time.perf_counter()
    pid = os.posix_spawn(python, argv, env)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        failed = subprocess.run(argv, env=env, capture_output=True, text=True)
        raise RuntimeError(f"{code!r} failed:\n{failed.stderr}")
    return wall * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, q2, q3 = statistics.quantiles(values, n=4)
    return q1, statistics.median(values), q3


def compare(python: str, baseline: str, cases: dict[str, tuple[str, dict[str, str]]], runs: int) -> dict[str, Any]:
    """Run ``baseline`` and each case once per round, ``runs`` rounds; per-round ratios to the baseline."""
    order = [("baseline", baseline, ENV)] + [(name, code, {**ENV, **env}) for name, (code, env) in cases.items()]
    for _, code, env in order:
        start(python, code, env)  # warm the page cache
    wall: dict[str, list[float]] = {name: [] for name, _, _ in order}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in order}
    for i in range(runs):
        for name, code, env in order if i % 2 == 0 else order[::-1]:
            w, c = start(python, code, env)
            wall[name].append(w)
            cpu[name].append(c)
    out = {}
    for name in cases:
        ratio = [c / b for c, b in zip(wall[name], wall["baseline"])]
        cpu_ratio = [c / b for c, b in zip(cpu[name], cpu["baseline"])]
        q1, med, q3 = quartiles(ratio)
        c1, cmed, c3 = quartiles(cpu_ratio)
        out[name] = {"ratio": round(med, 3), "spread": [round(q1, 3), round(q3, 3)],
                     "cpu_ratio": round(cmed, 3), "cpu_spread": [round(c1, 3), round(c3, 3)],
                     "ms": round(statistics.median(wall[name]), 2),
                     "baseline_ms": round(statistics.median(wall["baseline"]), 2),
                     "cpu_ms": round(statistics.median(cpu[name]), 2),
                     "baseline_cpu_ms": round(statistics.median(cpu["baseline"]), 2)}
    return out


def added_modules(python: str, baseline: str, code: str, env: dict[str, str]) -> list[str]:
    """The modules ``code`` has loaded that ``baseline`` has not (one extra run of each)."""
    dump = "; import sys as _s; print(' '.join(sorted(_s.modules)))"
    loaded = [set(subprocess.run([python, "-I", "-c", c + dump], env={**ENV, **e}, capture_output=True,
                                 text=True, check=True).stdout.split()) for c, e in ((baseline, {}), (code, env))]
    return sorted(loaded[1] - loaded[0])


def profile(python: str, code: str, env: dict[str, str], runs: int = 15) -> list[tuple[int, str, float, float]]:
    """``-X importtime`` of ``code``, ``runs`` times: (depth, module, median self µs, median cumulative µs)
    in import order, for what ``site`` has not already imported."""
    samples: dict[str, list[tuple[int, int]]] = {}
    order: list[tuple[str, int]] = []  # as importtime prints them: a module after what it imported
    for i in range(runs):
        err = subprocess.run([python, "-I", "-X", "importtime", "-c", code], env={**ENV, **env}, capture_output=True,
                             text=True, check=True).stderr
        after_site = False
        for line in err.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            own, total, name = line[len("import time:"):].split("|")
            if after_site:
                samples.setdefault(name.strip(), []).append((int(own), int(total)))
                if i == 0:
                    order.append((name.strip(), (len(name) - len(name.lstrip())) // 2))
            after_site = after_site or name.strip() == "site"
    children: dict[int, list[tuple[str, int, list[Any]]]] = {}
    for name, depth in order:
        children.setdefault(depth, []).append((name, depth, children.pop(depth + 1, [])))
    rows: list[tuple[int, str, float, float]] = []

    def walk(nodes: list[tuple[str, int, list[Any]]]) -> None:
        for name, depth, below in nodes:
            rows.append((depth, name, statistics.median(s[0] for s in samples[name]),
                         statistics.median(s[1] for s in samples[name])))
            walk(below)

    walk(children.get(0, []))
    return rows


# What Lambda's Python runtime has imported before it imports the handler's module
# (awslambdaric/bootstrap.py, github.com/aws/aws-lambda-python-runtime-interface-client).
LAMBDA_RUNTIME = "import importlib, json, logging, os, sys, time, traceback"

Cases = dict[str, tuple[str, dict[str, str]]]  # case -> (code, extra environment)


def suites_for(cloud: str, folder: Path, app_spec: str | None) -> tuple[str, list[tuple[str, str, Cases]]]:
    """(python, [(baseline label, baseline code, cases)]) for ``cloud``; the first case is the budget's."""
    path = f"import sys; sys.path.insert(0, {str(folder)!r})"
    if cloud == "gcp":
        return functions_framework_python(), [("import functions_framework", f"{path}; import functions_framework", {
            "import main (portside.gcp's entry points)": (f"{path}; import functions_framework; import main", {}),
        })]
    from portside import deployment
    from portside.app import load_app
    from portside.project import app_spec as project_app

    spec = app_spec or project_app()
    first = next(iter(load_app(spec).functions))
    init = {"AWS_LAMBDA_FUNCTION_NAME": "bench", deployment.APP: spec, deployment.FUNCTION: first}
    check = "; from portside.aws import entry; assert entry._runtime is not None, 'the init phase failed'"
    suites = []
    for label, before in (("bare interpreter", path), ("Lambda's runtime modules", f"{path}; {LAMBDA_RUNTIME}")):
        suites.append((label, before, {
            "import portside.aws (the Lambda handler's module)": (f"{before}; import portside.aws", {}),
            f"+ init phase: app declared, function {first!r} ready": (f"{before}; import portside.aws{check}", init),
        }))
    return python312(), suites


def measure(cloud: str, runs: int = 50, app_spec: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """Build, unpack, check what the entry imports, then time it; prints and returns the figures and
    the modules outside portside that the entry adds."""
    folder = unpack(cloud, app_spec)
    python, suites = suites_for(cloud, folder, app_spec)
    label, baseline, cases = suites[0]
    entry_code, entry_env = next(iter(cases.values()))
    added = added_modules(python, baseline, entry_code, entry_env)
    sdks = [m for m in added if m.startswith(SDKS)]
    if sdks:
        sys.exit(f"{cloud}: the entry imports cloud SDK modules before any port is used: {sdks[:10]}")
    print(f"{cloud}: archive unpacked in {folder.relative_to(ROOT)}, python{PYTHON} -I, {runs} rounds "
          f"(median ratio per round [quartiles])")
    figures: dict[str, Any] = {}
    for label, baseline, cases in suites:
        results = compare(python, baseline, cases, runs)
        base = next(iter(results.values()))
        print(f"  over {label:<57} {base['baseline_ms']:6.1f} ms wall {base['baseline_cpu_ms']:6.1f} ms cpu")
        for name, f in results.items():
            budget = ""
            if not figures:
                f["budget"] = BUDGETS[cloud]
                budget = f"   budget {BUDGETS[cloud]}x"
            f["unit"] = f"x {label}"
            figures[f"{name}, over {label}"] = f
            print(f"    {name:<60} {f['ms']:6.1f} ms  {f['ratio']:4.2f}x [{f['spread'][0]:.2f}-{f['spread'][1]:.2f}]"
                  f"   cpu {f['cpu_ratio']:4.2f}x [{f['cpu_spread'][0]:.2f}-{f['cpu_spread'][1]:.2f}]{budget}")
    ours = [m for m in added if m.split(".")[0] not in ("portside", "main")]
    print(f"  the entry adds {len(added)} modules, no cloud SDK; outside portside: {' '.join(ours) or 'none'}")
    return figures, ours


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clouds", nargs="*", metavar="aws|gcp", help="default: both")
    parser.add_argument("--runs", type=int, default=50, help="rounds (each runs the baseline and every case once)")
    parser.add_argument("--app", help="module:attribute of the App (default: the project's)")
    parser.add_argument("--profile", action="store_true", help="print the entry's import profile instead")
    args = parser.parse_args(argv)
    clouds = args.clouds or ["aws", "gcp"]
    if set(clouds) - set(BUDGETS):
        parser.error(f"clouds are aws and gcp, got {clouds}")
    if args.profile:
        from bench.results import record

        for cloud in clouds:
            python, suites = suites_for(cloud, unpack(cloud, args.app), args.app)
            code, env = next(iter(suites[0][2].values()))
            rows = profile(python, code, env)
            print(f"{cloud}: {code}\n{'self µs':>8} {'cumul. µs':>10}  module (median of 15 runs of -X importtime)")
            for depth, name, own, total in rows:
                print(f"{own:8.0f} {total:10.0f}  {'  ' * depth}{name}")
            if cloud == "aws" and not args.app:
                record("coldstart-profile", "python -m bench.startup aws --profile",
                       {"· " * depth + name: {"self_us": round(own), "cumulative_us": round(total)}
                        for depth, name, own, total in rows if total >= 200},
                       notes="Modules `import portside.aws` adds to a bare `python3.12 -I` (0.2 ms or more), "
                             "nested as imported; medians of 15 runs. The bare interpreter starts in about 10 ms.")
        return
    figures, modules_added = {}, []
    for cloud in clouds:
        results, added = measure(cloud, args.runs, args.app)
        modules_added = modules_added or added
        figures.update({f"{cloud}: {name}": value for name, value in results.items()})
    if set(clouds) == {"aws", "gcp"} and not args.app:
        from bench.results import record

        record("coldstart", "python -m bench.startup" + (f" --runs {args.runs}" if args.runs != 50 else ""), figures,
               notes="`ratio`: wall time, `cpu_ratio`: CPU time (user + system), each the median of the per-round "
                     "ratios to the baseline, with the quartiles as spread; `ms` and `cpu_ms` are medians. "
                     "Measured with python3.12 -I from the built archive (the machine's Python above ran the "
                     "harness). Modules the AWS entry adds to a bare interpreter: "
                     + ", ".join(f"`{m}`" for m in modules_added) + "; no cloud SDK.")
    else:
        print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
