"""The Lambda runtime in process (faster than a subprocess) against moto: FIFO order, streams,
asynchronous sources and schedules follow portside's delivery rules (docs/architecture.md, "Delivery")."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from portside import UnsupportedEvent
from tests.aws.conftest import boto, load, receive_all, runtime, seen_ids

pytestmark = pytest.mark.usefixtures("aws")


def test_fifo_batch_holds_back_the_rest_of_a_failed_group(cloud: dict[str, str]) -> None:
    raw = load("sqs_fifo.json")  # account-7, account-7, account-9
    bodies = [{"n": 1, "fail": "retry"}, {"n": 2}, {"n": 3}]
    for rec, body in zip(raw["Records"], bodies):
        rec["body"] = json.dumps(body)
    out = runtime("work", cloud)(raw, None)
    ids = [r["messageId"] for r in raw["Records"]]
    assert out == {"batchItemFailures": [{"itemIdentifier": ids[0]}, {"itemIdentifier": ids[1]}]}
    assert seen_ids() == {"job-3"}  # the other group went on; job 2 waits for job 1, in order


def test_stream_batch_stops_at_the_first_failure(cloud: dict[str, str]) -> None:
    raw = load("kinesis.json")
    template = raw["Records"][0]
    raw["Records"] = []
    for n, fail in enumerate(["", "retry", ""]):
        rec = copy.deepcopy(template)
        rec["kinesis"]["data"] = base64.b64encode(json.dumps({"n": n, "fail": fail}).encode()).decode()
        rec["kinesis"]["sequenceNumber"] = f"4954511524314222510524788778346988981897{n}"
        rec["eventID"] = f"shardId-000000000006:{rec['kinesis']['sequenceNumber']}"
        raw["Records"].append(rec)
    out = runtime("work", cloud)(raw, None)
    assert out == {"batchItemFailures": [{"itemIdentifier": raw["Records"][1]["kinesis"]["sequenceNumber"]}]}
    assert seen_ids() == {"job-0"}  # record 2 comes again after record 1, in order


def test_scheduler_tick_runs_with_a_stable_id(cloud: dict[str, str]) -> None:
    raw = load("scheduler_input.json")
    rt = runtime("tick", cloud)
    assert rt(raw, None) == {"processed": 1}
    keys = [o["Key"] for o in boto("s3").list_objects_v2(Bucket="awstest-thumbs")["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("ticks/arn:aws:scheduler:")


def test_async_permanent_failure_is_dead_lettered_and_returns(cloud: dict[str, str]) -> None:
    raw = load("sns.json")  # SNS -> Lambda directly; the work handler wants JSON
    raw["Records"][0]["Sns"]["Message"] = "not JSON"
    out = runtime("work", cloud)(raw, None)
    assert out == {"processed": 0, "dead_lettered": 1}  # returned normally: Lambda must not retry a poison event
    (dead,) = receive_all(boto("sqs"), cloud["dlq"], 1)
    assert dead["MessageAttributes"]["portside-error-type"]["StringValue"] == "PermanentError"
    assert dead["MessageAttributes"]["portside-source"]["StringValue"] == "sns"
    assert json.loads(dead["Body"])["Sns"]["MessageId"] == raw["Records"][0]["Sns"]["MessageId"]  # intact


def test_async_retryable_failure_raises_for_lambdas_own_retries(cloud: dict[str, str]) -> None:
    raw = load("s3_notification.json")
    raw["Records"] = raw["Records"][:1]
    raw["Records"][0]["s3"]["bucket"]["name"] = "awstest-uploads"
    raw["Records"][0]["s3"]["object"]["key"] = "in/missing.txt"
    with pytest.raises(Exception, match="missing.txt"):  # NotFound: not permanent, Lambda retries it
        runtime("copy-upload", cloud)(raw, None)
    assert not boto("sqs").receive_message(QueueUrl=cloud["dlq"], WaitTimeSeconds=0).get("Messages")


def test_without_a_dead_letter_queue_a_poison_message_is_left_to_retries(cloud: dict[str, str]) -> None:
    raw = load("sqs_batch.json")
    raw["Records"][0]["body"] = '{"n": 1}'
    out = runtime("work", cloud, dlq=False)(raw, None)  # record 2 is not JSON: permanent, nowhere to go
    assert out == {"batchItemFailures": [{"itemIdentifier": raw["Records"][1]["messageId"]}]}
    with pytest.raises(UnsupportedEvent, match="top-level keys"):
        runtime("work", cloud, dlq=False)({"unexpected": True}, None)


def test_an_error_text_sqs_would_refuse_still_reaches_the_dead_letter_queue(cloud: dict[str, str]) -> None:
    raw = load("sqs_batch.json")
    raw["Records"] = raw["Records"][:1]
    raw["Records"][0]["body"] = json.dumps({"n": "a\u0000b", "fail": "permanent"})
    assert runtime("work", cloud)(raw, None) == {"batchItemFailures": []}
    (dead,) = receive_all(boto("sqs"), cloud["dlq"], 1)
    assert dead["MessageAttributes"]["portside-error"]["StringValue"] == "job a\ufffdb is invalid"
    assert json.loads(dead["Body"]) == {"n": "a\u0000b", "fail": "permanent"}  # the body itself is intact
