"""End to end the way Lambda calls it: a fresh interpreter imports ``portside.aws`` and calls
``handler(event, context)`` on raw events, with the environment infra writes, against moto.

The events are produced by moto itself where it can (S3 notifications to SQS, SQS receives), then
shaped into what Lambda's event source mapping delivers (``lambda_sqs_event``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portside import deployment as env
from tests.aws.conftest import REGION, aws_environ, lambda_sqs_event, load, receive_all

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.aws.e2e_app:app"


def boto(service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=REGION)


def queue(name: str) -> tuple[str, str]:
    sqs = boto("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def bucket(name: str) -> None:
    boto("s3").create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})


def table(name: str) -> None:
    boto("dynamodb").create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                                  BillingMode="PAY_PER_REQUEST")


def run_lambda(moto_url: str, function: str, resources: dict[str, str], events: list[Any],
               dlq_url: str | None = None, tmp_path: Path | None = None) -> dict[str, Any]:
    """Start a fresh Python with Lambda's environment, invoke the handler once per event."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PORTSIDE_"))}
    environ.update(aws_environ(moto_url))
    environ.update({
        "_HANDLER": env.AWS_HANDLER, "AWS_LAMBDA_FUNCTION_NAME": f"awstest-{function}-1a2b",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        env.APP: APP, env.FUNCTION: function, env.RESOURCES: json.dumps(resources),
    })
    if dlq_url:
        environ[env.DLQ_URL] = dlq_url
    assert tmp_path is not None
    out = tmp_path / f"{function}.json"
    proc = subprocess.run([sys.executable, "-m", "tests.aws.lambda_invoke", str(out)], cwd=ROOT, env=environ,
                          input=json.dumps(events), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    report["logs"] = proc.stdout + proc.stderr
    return report


def test_s3_upload_event_writes_an_object_to_another_bucket(aws: str, tmp_path: Path) -> None:
    bucket("awstest-uploads-1a2b")
    bucket("awstest-thumbs-1a2b")
    s3 = boto("s3")
    # 1. the direct S3 -> Lambda notification, keys form-encoded as S3 sends them
    s3.put_object(Bucket="awstest-uploads-1a2b", Key="in/red flower été+1.txt", Body=b"hello")
    direct = load("s3_notification.json")
    direct["Records"] = direct["Records"][:1]
    direct["Records"][0]["s3"]["bucket"]["name"] = "awstest-uploads-1a2b"
    direct["Records"][0]["s3"]["object"]["key"] = "in/red+flower+%C3%A9t%C3%A9%2B1.txt"
    # 2. S3 -> SQS -> Lambda (how infra wires bucket triggers): the notification moto itself sends
    url, arn = queue("awstest-uploads-copy-upload")
    s3.put_bucket_notification_configuration(Bucket="awstest-uploads-1a2b", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket="awstest-uploads-1a2b", Key="in/second (1).txt", Body=b"second")
    via_sqs = lambda_sqs_event(receive_all(boto("sqs"), url, 2), arn)  # the s3:TestEvent, then the upload
    assert any("s3:TestEvent" in r["body"] for r in via_sqs["Records"])

    report = run_lambda(aws, "copy-upload", {"uploads": "awstest-uploads-1a2b", "thumbs": "awstest-thumbs-1a2b"},
                        [direct, via_sqs], tmp_path=tmp_path)
    assert report["boto3_after_import"] is False and report["boto3_after_calls"] is True
    first, second = report["results"]
    assert first == {"ok": {"processed": 1}, "request_id": first["request_id"]}
    assert second["ok"] == {"batchItemFailures": []}
    got = s3.get_object(Bucket="awstest-thumbs-1a2b", Key="out/red flower été+1.txt")
    assert got["Body"].read() == b"HELLO" and got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"source-bucket": "uploads"}  # the logical name
    assert s3.get_object(Bucket="awstest-thumbs-1a2b", Key="out/second (1).txt")["Body"].read() == b"SECOND"


def test_sqs_batch_reports_only_retryable_failures_and_dead_letters_permanent_ones(aws: str, tmp_path: Path) -> None:
    url, arn = queue("awstest-jobs")
    dlq_url, _ = queue("awstest-work-dlq")
    table("awstest-seen")
    topic = boto("sns").create_topic(Name="awstest-events")["TopicArn"]
    sqs = boto("sqs")
    plan = ["ok", "retry", "ok", "permanent", "retry", "ok", "not-json", "ok", "retry", "ok"]
    for n, what in enumerate(plan):
        body = "this is not JSON" if what == "not-json" else json.dumps({"n": n, "fail": what})
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes={
            "traceparent": {"DataType": "String", "StringValue": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
            "n": {"DataType": "Number", "StringValue": str(n)}})
    received = receive_all(sqs, url, 10)
    assert len(received) == 10
    event = lambda_sqs_event(received, arn)
    ids = {json.loads(r["body"])["n"] if r["body"].startswith("{") else 6: r["messageId"] for r in event["Records"]}

    report = run_lambda(aws, "work", {"jobs": url, "seen": "awstest-seen", "events": topic}, [event],
                        dlq_url=dlq_url, tmp_path=tmp_path)
    (result,) = report["results"]
    failures = [f["itemIdentifier"] for f in result["ok"]["batchItemFailures"]]
    assert sorted(failures) == sorted(ids[n] for n, what in enumerate(plan) if what == "retry")

    items = boto("dynamodb").scan(TableName="awstest-seen")["Items"]
    assert sorted(int(i["n"]["N"]) for i in items) == [n for n, what in enumerate(plan) if what == "ok"]

    dead = receive_all(sqs, dlq_url, 2)
    assert len(dead) == 2 and not sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=0).get("Messages")
    by_id = {m["MessageAttributes"]["portside-event-id"]["StringValue"]: m for m in dead}
    assert set(by_id) == {ids[3], ids[6]}
    poison, not_json = by_id[ids[3]], by_id[ids[6]]
    assert json.loads(poison["Body"]) == {"n": 3, "fail": "permanent"}  # intact
    assert not_json["Body"] == "this is not JSON"
    attrs = {k: v["StringValue"] for k, v in poison["MessageAttributes"].items()}
    assert attrs["portside-function"] == "work" and attrs["portside-error-type"] == "PermanentError"
    assert attrs["portside-error"] == "job 3 is invalid" and attrs["portside-attempts"] == "1"
    assert attrs["n"] == "3" and attrs["traceparent"].startswith("00-0af7")  # original attributes kept
    assert not_json["MessageAttributes"]["portside-error-type"]["StringValue"] == "PermanentError"
    assert "not valid JSON" in not_json["MessageAttributes"]["portside-error"]["StringValue"]
    assert report["boto3_after_import"] is False


def test_last_attempt_goes_to_the_dead_letter_queue_and_an_unknown_event_is_refused(aws: str, tmp_path: Path) -> None:
    url, arn = queue("awstest-jobs")
    dlq_url, _ = queue("awstest-work-dlq")
    table("awstest-seen")
    event = load("sqs_batch.json")
    event["Records"] = event["Records"][:1]
    rec = event["Records"][0]
    rec["eventSourceARN"], rec["body"] = arn, json.dumps({"n": 1, "fail": "retry"})
    rec["attributes"]["ApproximateReceiveCount"] = "3"  # the trigger's max_attempts
    report = run_lambda(aws, "work", {"jobs": url, "seen": "awstest-seen"},
                        [event, {"hello": "world"}, {"Records": [{"eventSource": "aws:ses", "ses": {}}]}],
                        dlq_url=dlq_url, tmp_path=tmp_path)
    last, unknown, ses = report["results"]
    assert last["ok"] == {"batchItemFailures": []}  # dead-lettered, so acknowledged
    assert unknown["ok"]["dead_lettered"] == 1 and "top-level keys ['hello']" in unknown["ok"]["error"]
    assert "eventSource 'aws:ses'" in ses["ok"]["error"]
    dead = receive_all(boto("sqs"), dlq_url, 3)
    kinds = sorted(m["MessageAttributes"]["portside-error-type"]["StringValue"] for m in dead)
    assert kinds == ["RuntimeError", "UnsupportedEvent", "UnsupportedEvent"]
    retried = next(m for m in dead if m["MessageAttributes"]["portside-error-type"]["StringValue"] == "RuntimeError")
    assert retried["MessageAttributes"]["portside-attempts"]["StringValue"] == "3"
    assert json.loads(retried["Body"]) == {"n": 1, "fail": "retry"}
    assert "KeyError" not in report["logs"] and "TypeError" not in report["logs"]


@pytest.mark.parametrize("flavour", ["apigw_v1.json", "http_api_v2.json"])
def test_http_route_answers_in_the_callers_shape(aws: str, tmp_path: Path, flavour: str) -> None:
    table("awstest-seen")
    boto("dynamodb").put_item(TableName="awstest-seen", Item={"id": {"S": "o-42"}, "n": {"N": "7"}})
    raw = load(flavour)
    if "httpMethod" in raw:
        raw["httpMethod"] = raw["requestContext"]["httpMethod"] = "GET"
        raw["resource"] = "/items/{id}"
        raw["path"] = "/items/o-42"
    else:
        raw["requestContext"]["http"]["method"] = "GET"
        raw["routeKey"] = "GET /items/{id}"
        raw["rawPath"] = raw["requestContext"]["http"]["path"] = "/items/o-42"
    raw["pathParameters"] = {"id": "o-42"}
    missing = json.loads(json.dumps(raw).replace("o-42", "o-404"))
    report = run_lambda(aws, "get-item", {"api": "awstest-api", "seen": "awstest-seen"}, [raw, missing],
                        tmp_path=tmp_path)
    found, not_found = (r["ok"] for r in report["results"])
    assert found["statusCode"] == 200 and json.loads(found["body"]) == {"id": "o-42", "n": 7}
    assert found["isBase64Encoded"] is False and found["headers"]["content-type"].startswith("application/json")
    assert not_found["statusCode"] == 404 and json.loads(not_found["body"])["error"] == "no item o-404"
