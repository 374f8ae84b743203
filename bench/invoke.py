"""What ``portside.delivery.invoke`` costs per event on a handler that does nothing.

    .venv/bin/python -m bench.invoke                  # this tree
    .venv/bin/python -m bench.invoke --against main   # this tree against the core of a git ref

Every event goes through ``invoke``: trace context in, the invocation context set, the handler
looked up and run, the outcome timed, classified and (maybe) logged. Measured for one SQS-like
message carrying ``traceparent`` and ``correlationid`` attributes, in three logging set-ups:

- ``library default``: nothing configured (Python's root logger at WARNING), as in a user's tests;
- ``deployed default``: ``setup_logging()`` as the Lambda and Cloud Functions entries call it at
  init (JSON lines to a stream; here /dev/null), with no logging variable set;
- ``success lines asked``: the same with ``PORTSIDE_LOG_SUCCESS=all`` (older trees ignore it).

Times are CPU time (a preempted process does not count), the median of many rounds. With
``--against REF`` the ``portside/`` folder of REF is extracted under build/ and each tree runs in
its own child process (each imports its own core); the parent alternates them round by round, so
the ratio new/old is taken in the same run: the median of the per-round ratios. OpenTelemetry is
off (``PORTSIDE_OTEL=0``): function archives do not ship it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SETUPS = ("library default", "deployed default", "success lines asked")
PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def noop(event: object) -> None:
    """The handler: does nothing, so what is measured is invoke's own cost."""


class NullTarget:
    """A target without ports (the handler uses none)."""

    name = "bench"

    def port(self, resource: object) -> Any:
        raise LookupError("no ports in this benchmark")


def per_call_cpu_us(fn: Any, number: int) -> float:
    """CPU µs per call of ``fn`` over ``number`` calls (CPU time: a preempted process does not count)."""
    t = time.process_time()
    for _ in range(number):
        fn()
    return (time.process_time() - t) / number * 1e6


def child() -> None:
    """Serve the parent: each input line names a set-up; answer with µs per call in it, as a line."""
    import logging

    from portside import telemetry
    from portside.app import App
    from portside.delivery import invoke
    from portside.events import Message

    app = App("bench-invoke")
    jobs = app.queue("jobs")
    function = app.function("bench.invoke:noop", trigger=jobs.on_message())
    target = NullTarget()
    message = Message("m-1", b'{"order": 1}', "jobs", {"traceparent": PARENT, "correlationid": "c-1"})
    assert invoke(function, target, message).ok
    root = logging.getLogger()
    sink = open(os.devnull, "w")  # noqa: SIM115 - for the child's life
    for line in sys.stdin:
        setup, number = line.rstrip("\n").rsplit(" ", 1)
        for h in list(root.handlers):
            root.removeHandler(h)
        root.setLevel(logging.WARNING)
        logging.getLogger("portside").setLevel(logging.NOTSET)
        os.environ.pop("PORTSIDE_LOG_SUCCESS", None)
        if setup == "success lines asked":
            os.environ["PORTSIDE_LOG_SUCCESS"] = "all"
        if setup != "library default":
            telemetry.setup_logging(stream=sink)
        if setup == "direct call":
            us = per_call_cpu_us(lambda: noop(message), int(number))
        else:
            us = per_call_cpu_us(lambda: invoke(function, target, message), int(number))
        print(us, flush=True)


def spawn(tree: Path) -> subprocess.Popen[str]:
    """A child serving rounds with the core of ``tree`` (no OpenTelemetry: archives do not ship it)."""
    code = f"import sys; sys.path[:0] = [{str(tree)!r}, {str(ROOT)!r}]; import bench.invoke as b; b.child()"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PORTSIDE_OTEL": "0"})


def ask(process: subprocess.Popen[str], setup: str, number: int) -> float:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(f"{setup} {number}\n")
    process.stdin.flush()
    answer = process.stdout.readline()
    if not answer:
        raise RuntimeError(f"the benchmark child died (exit {process.wait()})")
    return float(answer)


def extract(ref: str) -> Path:
    """The ``portside/`` folder of git ``ref``, under build/invoke/."""
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    tree = ROOT / "build" / "invoke" / sha
    if not (tree / "portside").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha, "portside"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="REF", help="also measure the core of this git ref, alternating")
    parser.add_argument("--rounds", type=int, default=41, help="rounds; each runs every tree once per set-up")
    parser.add_argument("--number", type=int, default=2000, help="calls per round")
    args = parser.parse_args(argv)
    trees = {"this tree": ROOT} | ({args.against: extract(args.against)} if args.against else {})
    children = {name: spawn(tree) for name, tree in trees.items()}
    setups = ("direct call", *SETUPS)
    times: dict[tuple[str, str], list[float]] = {(s, n): [] for s in setups for n in trees}
    try:
        for setup in setups:
            for name in trees:
                ask(children[name], setup, args.number)  # warm up
            for i in range(args.rounds):
                for name in list(trees) if i % 2 == 0 else list(trees)[::-1]:
                    times[setup, name].append(ask(children[name], setup, args.number))
    finally:
        for process in children.values():
            process.stdin.close()  # type: ignore[union-attr]
            process.wait()
    figures: dict[str, Any] = {}
    print(f"invoke() on a no-op handler, CPU µs per event (median of {args.rounds} rounds x {args.number} calls "
          "[quartiles])")
    for setup in setups:
        line = f"  {setup:<22}"
        for name in trees:
            q = statistics.quantiles(times[setup, name], n=4)
            line += f"   {name}: {q[1]:6.2f} µs [{q[0]:.2f}-{q[2]:.2f}]"
            figures[f"{setup}: {name}"] = {"us": round(q[1], 3), "spread": [round(q[0], 3), round(q[2], 3)]}
        if args.against and setup != "direct call":
            ratios = [new / old for new, old in zip(times[setup, "this tree"], times[setup, args.against])]
            q = statistics.quantiles(ratios, n=4)
            line += f"   ratio {q[1]:4.2f}x [{q[0]:.2f}-{q[2]:.2f}]"
            figures[f"{setup}: ratio to {args.against}"] = {"ratio": round(q[1], 3),
                                                            "spread": [round(q[0], 3), round(q[2], 3)]}
        print(line)
    from bench.results import record

    record("invoke", "python -m bench.invoke" + (f" --against {args.against}" if args.against else ""), figures,
           notes="CPU µs per `invoke()` (and per direct call of the handler, for scale): medians over rounds, "
                 "quartiles as spread; the ratio is this tree's over the other's, per round.")


if __name__ == "__main__":
    main()
