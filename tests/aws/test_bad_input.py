"""Bad input never escapes as KeyError/TypeError: every field of every recorded payload is
replaced by values of the wrong type, through ``to_events`` and through the Lambda handler."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from portside import App, UnsupportedEvent
from portside.aws import AwsTarget, Names, Runtime, to_events
from tests.aws.conftest import EVENTS, load

WRONG = (None, 5, "x", [], {}, True, 1.5, [None], {"a": None})
SAMPLES = sorted(p.name for p in EVENTS.glob("*.json"))


def paths(obj: Any, prefix: tuple = ()) -> Iterator[tuple]:
    if prefix:
        yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths(v, prefix + (i,))


def mutations(raw: Any) -> Iterator[tuple[tuple, Any, Any]]:
    for path in list(paths(raw)):
        for value in WRONG:
            bad = copy.deepcopy(raw)
            node = bad
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = value
            yield path, value, bad


@pytest.mark.parametrize("sample", SAMPLES)
def test_to_events_on_wrong_types_is_fine_or_unsupported_event(sample: str) -> None:
    escaped = []
    for path, value, bad in mutations(load(sample)):
        try:
            to_events(bad, names=Names({}))
        except UnsupportedEvent as e:
            assert str(e)  # names what it saw
        except Exception as e:  # noqa: BLE001
            escaped.append((path, value, f"{type(e).__name__}: {e}"))
    assert not escaped, escaped[:5]


app = App("badinput")
jobs = app.queue("jobs")
app.function("tests.aws.test_bad_input:accept", trigger=jobs.on_message())


def accept(event: Any) -> None:
    """Touches the event the way handlers do; no port (no cloud needed)."""
    if hasattr(event, "json"):
        try:
            event.json()
        except UnsupportedEvent:
            raise
        except Exception:  # noqa: BLE001 - .json() raises PermanentError on a bad body: fine
            pass


@pytest.mark.parametrize("sample", ["sqs_batch.json", "sqs_fifo.json", "sns_via_sqs.json", "s3_via_sqs.json",
                                    "dynamodb_stream.json", "kinesis.json", "sns.json", "s3_notification.json",
                                    "apigw_v1.json", "http_api_v2.json", "eventbridge_custom.json",
                                    "scheduler_input.json"])
def test_the_handler_on_wrong_types_answers_or_raises_unsupported_event(sample: str, caplog: Any) -> None:
    """Without a DLQ a permanent failure is left to the source's retries (async: re-raised as
    UnsupportedEvent; batches: a batch item failure); nothing else may escape."""
    caplog.set_level(logging.CRITICAL)
    fn = app.get_function("accept")
    names = Names({})
    rt = Runtime(app, fn, names, AwsTarget(names), None)
    escaped = []
    for path, value, bad in mutations(load(sample)):
        try:
            out = rt(bad, None)
            json.dumps(out)  # what Lambda serialises back
        except UnsupportedEvent:
            pass
        except Exception as e:  # noqa: BLE001
            escaped.append((path, value, f"{type(e).__name__}: {e}"))
    assert not escaped, escaped[:5]
