"""The fake cloud's throughput at 100, 1,000 and 10,000 messages: it must stay linear.

    python -m bench.fake [--rounds N]      # prints msg/s per size and the ratio to the 100-message rate

Each message is sent to a queue (batches of 10) whose handler writes a table item, then the cloud
runs until idle: what a unit test of a queue consumer does. The rate at 100 messages is the
baseline, measured in the same rounds: each round runs every size over 10,000 messages in all,
interleaved, so a burst of load on a shared machine hits all sizes alike; rates are per CPU
second of this process; figures are medians over rounds, with the spread (min-max) of the
per-round ratios. Budget (issue 12): at 10,000 messages at least 0.8x
the rate at 100. Before the fix every batch sorted all pending deliveries: 8,197 msg/s at 100,
702 at 10,000 (0.09x).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from portside import App, Message

SIZES = (100, 1_000, 10_000)
BUDGET = 0.8

app = App("bench-fake")
jobs = app.queue("jobs")
seen = app.table("seen")
app.function("bench.fake:handle", trigger=jobs.on_message(batch_size=10), uses=[seen.writer])


def handle(message: Message) -> None:
    seen.put({"id": message.id, "n": message.json()["n"]})


def run(n: int) -> float:
    """CPU seconds of this process to send ``n`` messages and deliver them all on a fresh fake
    cloud (CPU time, not wall time: on a shared machine a long run is descheduled more often)."""
    from portside.fake import FakeCloud

    cloud = FakeCloud(app)
    start = time.process_time()
    for i in range(n):
        cloud.send(jobs, {"n": i})
    outcomes = cloud.run_until_idle(max_deliveries=n)
    elapsed = time.process_time() - start
    assert len(outcomes) == n and all(o.ok for o in outcomes)
    return elapsed


def rate(n: int) -> float:
    """Messages per CPU second at size ``n``, over 10,000 messages (smaller sizes repeat)."""
    repeat = max(1, SIZES[-1] // n)
    total = sum(run(n) for _ in range(repeat))
    return n * repeat / total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fake", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-record", action="store_true", help="print only, do not write bench/results/fake.json")
    args = parser.parse_args(argv)
    run(100)  # warm up: imports, the handler module
    rates: dict[int, list[float]] = {n: [] for n in SIZES}
    for _ in range(args.rounds):
        for n in SIZES:
            rates[n].append(rate(n))
    ratios = {n: [r / base for r, base in zip(rates[n], rates[SIZES[0]])] for n in SIZES}
    figures = {}
    for n in SIZES:
        med, ratio = statistics.median(rates[n]), statistics.median(ratios[n])
        figures[f"{n} messages"] = {"msg_per_s": round(med), "ratio": round(ratio, 2),
                                    "spread": [round(min(ratios[n]), 2), round(max(ratios[n]), 2)],
                                    "unit": "x its own rate at 100 messages", "budget": BUDGET}
        print(f"{n:>6} messages: {med:>9,.0f} msg/s  {ratio:.2f}x the rate at 100 "
              f"(spread {min(ratios[n]):.2f}-{max(ratios[n]):.2f})")
    worst = figures[f"{SIZES[-1]} messages"]["ratio"]
    print(f"budget: at {SIZES[-1]:,} messages >= {BUDGET}x the rate at 100: {'met' if worst >= BUDGET else 'NOT met'}")
    if not args.no_record:
        from bench.results import record

        record("fake", "python -m bench.fake", figures,
               notes=f"median of {args.rounds} interleaved rounds; queue of batch 10, handler writes one item")
    return 0


if __name__ == "__main__":
    sys.exit(main())
