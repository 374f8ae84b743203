"""Hostile and malformed input on the AWS entry (issue 11): each defect found by mutating real
payloads has its test here. A record that cannot be read is dead-lettered alone, with the reason;
its neighbours run; nothing escapes the handler but portside's own errors."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

import pytest

from portside import Message, PermanentError, UnsupportedEvent
from portside.aws import Names, classify, to_events
from tests.aws.conftest import boto, load, receive_all, runtime, seen_ids
from tests.aws.mutate import deep_json

UTC = timezone.utc


def sqs_batch(*bodies: Any) -> dict[str, Any]:
    """An SQS event of ``len(bodies)`` records shaped as Lambda sends them (dicts become JSON)."""
    template = load("sqs_batch.json")["Records"][0]
    records = []
    for n, body in enumerate(bodies, 1):
        rec = copy.deepcopy(template)
        rec["messageId"] = f"00000000-0000-4000-8000-{n:012d}"
        rec["body"] = body if isinstance(body, str) else json.dumps(body)
        records.append(rec)
    return {"Records": records}


def dead_letters(cloud: dict[str, str], n: int) -> list[dict[str, Any]]:
    got = receive_all(boto("sqs"), cloud["dlq"], n, timeout=5)
    assert len(got) == n, got
    return got


# -- per-record isolation ------------------------------------------------------------------------

@pytest.mark.usefixtures("aws")
def test_a_body_nested_too_deep_to_parse_is_dead_lettered_alone(cloud: dict[str, str]) -> None:
    """A body that looks like an S3 notification but nests 1,000 deep (RecursionError in json)
    used to raise out of the handler: the records before it came again, those after never ran."""
    raw = sqs_batch({"n": 1}, deep_json(), {"n": 3})
    assert runtime("work", cloud)(raw, None) == {"batchItemFailures": []}
    assert seen_ids() == {"job-1", "job-3"}
    (dead,) = dead_letters(cloud, 1)
    assert dead["Body"] == raw["Records"][1]["body"]  # intact
    assert "nested too deep" in dead["MessageAttributes"]["portside-error"]["StringValue"]


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("count", ["²", "9" * 5000])
def test_a_receive_count_that_int_cannot_read_is_a_first_attempt(cloud: dict[str, str], count: str) -> None:
    """'²'.isdigit() is True but int('²') raises, and int() refuses 5,000 digits: both escaped the
    handler as a ValueError."""
    raw = sqs_batch({"n": 1}, {"n": 2})
    raw["Records"][0]["attributes"]["ApproximateReceiveCount"] = count
    assert runtime("work", cloud)(raw, None) == {"batchItemFailures": []}
    assert seen_ids() == {"job-1", "job-2"}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("first", ["not a record", {"eventSource": 7, "messageId": "bad-1", "body": "x"},
                                   {"eventSource": "aws:kinesis", "messageId": "bad-1"}])
def test_a_malformed_first_record_is_dead_lettered_alone(cloud: dict[str, str], first: Any) -> None:
    """The batch was classified by Records[0]: a bad first record dead-lettered the whole batch as one message."""
    raw = sqs_batch({"n": 1}, {"n": 2})
    raw["Records"].insert(0, first)
    assert runtime("work", cloud)(raw, None) == {"batchItemFailures": []}
    assert seen_ids() == {"job-1", "job-2"}
    (dead,) = dead_letters(cloud, 1)
    assert dead["Body"] == (first["body"] if isinstance(first, dict) and "body" in first else json.dumps(first))
    assert dead["MessageAttributes"]["portside-error-type"]["StringValue"] == "UnsupportedEvent"


def test_the_batch_kind_comes_from_the_records_that_name_a_source() -> None:
    raw = sqs_batch({"n": 1})
    raw["Records"].insert(0, {"garbage": True})
    assert classify(raw) == "sqs"
    with pytest.raises(UnsupportedEvent, match="no record names a known eventSource"):
        classify({"Records": [{"garbage": True}, "x"]})


@pytest.mark.usefixtures("aws")
def test_a_malformed_sns_record_is_dead_lettered_and_its_neighbour_runs(cloud: dict[str, str]) -> None:
    raw = load("sns.json")
    good = copy.deepcopy(raw["Records"][0])
    good["Sns"]["Message"] = json.dumps({"n": 7})
    raw["Records"] = ["not a record", {"EventSource": "aws:sns", "Sns": "not an object"}, good]
    assert runtime("work", cloud)(raw, None) == {"processed": 1, "dead_lettered": 2}
    assert seen_ids() == {"job-7"}
    assert sorted(d["Body"] for d in dead_letters(cloud, 2)) == ['"not a record"', json.dumps(raw["Records"][1])]


# -- values that overflowed or recursed ---------------------------------------------------------------

@pytest.mark.parametrize("time", ["99999999999999999999", "-99999999999999999999"])
def test_a_timestamp_out_of_range_is_an_unsupported_event_not_an_overflow(time: str) -> None:
    raw = load("eventbridge_custom.json")
    raw["time"] = time
    with pytest.raises(UnsupportedEvent, match="time"):
        to_events(raw, names=Names({}))


def test_a_json_body_nested_too_deep_is_a_permanent_error_that_says_so() -> None:
    message = Message("m-1", ("[" * 100_000 + "]" * 100_000).encode(), "jobs")
    with pytest.raises(PermanentError, match="nested too deep"):
        message.json()
    with pytest.raises(PermanentError, match="not valid JSON"):
        Message("m-2", b"{not json", "jobs").json()


def test_a_dynamodb_image_nested_deeper_than_python_can_walk_is_unsupported() -> None:
    raw = load("dynamodb_stream.json")
    deep: Any = {"S": "x"}
    for _ in range(5000):
        deep = {"L": [deep]}
    raw["Records"][0]["dynamodb"]["NewImage"] = {"id": deep}
    with pytest.raises(UnsupportedEvent, match="DynamoDB"):
        to_events(raw, names=Names({}))


# -- DynamoDB timestamps with millisecond or microsecond precision -----------------------------------

@pytest.mark.parametrize("value, expected", [
    (1693997155, datetime(2023, 9, 6, 10, 45, 55, tzinfo=UTC)),
    (1693997155.0, datetime(2023, 9, 6, 10, 45, 55, tzinfo=UTC)),
    (1693997155123, datetime(2023, 9, 6, 10, 45, 55, 123000, tzinfo=UTC)),
    (1693997155123456, datetime(2023, 9, 6, 10, 45, 55, 123456, tzinfo=UTC)),
])
def test_dynamodb_creation_time_in_seconds_milliseconds_or_microseconds(value: Any, expected: datetime) -> None:
    """DynamoDB Streams send epoch seconds; with Kinesis Data Streams for DynamoDB the precision is
    MILLISECOND or MICROSECOND (ApproximateCreationDateTimePrecision, docs: DynamoDB API Reference,
    EnableKinesisStreamingConfiguration). Milliseconds were refused as a year-55000 date."""
    raw = load("powertools/dynamoStreamEvent.json")
    raw["Records"][0]["dynamodb"]["ApproximateCreationDateTime"] = value
    assert to_events(raw, names=Names({}))[0].time == expected
