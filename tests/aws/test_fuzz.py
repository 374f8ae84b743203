"""Fuzzing the AWS adapter: 4,000 seeded mutants of the recorded payloads (tests/aws/events and the
other projects' folders under it; tests/aws/mutate.py says how they are mutated), each through
``to_events`` and through the Lambda handler. A fixed seed keeps the run reproducible (about 2 s).

Asserted for every mutant:
- ``to_events`` returns normalized events or raises ``UnsupportedEvent``, nothing else; ``.json()``
  of an event returns or raises ``PermanentError``;
- the handler returns a JSON-serializable answer or raises portside's own error (an asynchronous
  source without a dead-letter queue is left to Lambda's retries that way), nothing else;
- in a batch, no record is lost: each record with an id is acknowledged only if it was delivered
  or dead-lettered, and every record the handler did not deliver is reported or dead-lettered.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from portside import App, PortsideError
from portside.aws import AwsTarget, Names, Runtime, to_events
from portside.aws.events import sqs_record
from tests.aws.conftest import EVENTS
from tests.aws.mutate import check_mapping, mutants

CASES = 4000
SEEDS = {str(p.relative_to(EVENTS)): json.loads(p.read_text()) for p in sorted(EVENTS.rglob("*.json"))}
DELIVERED: list[Any] = []

app = App("fuzzing")
jobs = app.queue("jobs")
app.function("tests.aws.test_fuzz:touch", trigger=jobs.on_message())


def touch(event: Any) -> None:
    """Reads the event as handlers do; a body that is not JSON is the handler's PermanentError."""
    DELIVERED.append(event)
    if hasattr(event, "json"):
        event.json()


class Recording(Runtime):
    """The Lambda runtime with its dead-letter queue in memory (the rest is the real code path)."""

    def __init__(self) -> None:
        names = Names({})
        super().__init__(app, app.get_function("touch"), names, AwsTarget(names), "memory://dlq")
        self.dead: list[Any] = []

    def _dead_letter(self, rec: Any, kind: str, outcome: Any) -> bool:
        self.dead.append(rec)
        return True


def check_to_events(raw: Any) -> None:
    check_mapping(lambda: to_events(raw, names=Names({}), request_id="req-1"))


def check_handler(raw: Any) -> None:
    rt = Recording()
    DELIVERED.clear()
    try:
        out = rt(raw, None)
    except PortsideError:
        return
    json.dumps(out)
    records = raw.get("Records") if isinstance(raw, dict) else None
    if not isinstance(out, dict) or "batchItemFailures" not in out or not isinstance(records, list):
        return
    failed = {f["itemIdentifier"] for f in out["batchItemFailures"]}
    for rec in records:
        if not isinstance(rec, dict) or rec.get("eventSource") != "aws:sqs" or not isinstance(rec.get("messageId"), str):
            continue
        if rec["messageId"] in failed or any(d is rec for d in rt.dead):
            continue
        # acknowledged: it must have been readable, and its events delivered
        events = sqs_record(rec, Names({}))
        assert all(any(d is e or d == e for d in DELIVERED) for e in events), rec["messageId"]


@pytest.mark.parametrize("part", range(4))
def test_mutated_payloads_never_escape_as_anything_but_portsides_errors(part: int, caplog: Any) -> None:
    caplog.set_level(logging.CRITICAL)
    escaped = []
    for name, n, raw in mutants(SEEDS, CASES):
        if n % 4 != part:
            continue
        for check in (check_to_events, check_handler):
            try:
                check(raw)
            except Exception as e:  # noqa: BLE001 - collected, then reported with the case to replay
                escaped.append(f"{check.__name__} on {name} case {n}: {type(e).__name__}: {str(e)[:160]}")
    assert not escaped, "\n".join(escaped[:10])


def test_the_seeds_cover_both_projects_own_and_other_projects_payloads() -> None:
    folders = {Path(name).parts[0] if len(Path(name).parts) > 1 else "own" for name in SEEDS}
    assert folders == {"own", "powertools", "aws-lambda-go", "lambda-rust", "sam-cli"}
    assert len(SEEDS) >= 45
