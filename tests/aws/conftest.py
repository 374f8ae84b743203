"""Fixtures for the AWS adapter: one moto server per session on a free 127.0.0.1 port."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portside import deployment as env

EVENTS = Path(__file__).parent / "events"
REGION = "eu-west-1"


def load(name: str) -> dict[str, Any]:
    """A raw Lambda payload from tests/aws/events/."""
    return json.loads((EVENTS / name).read_text())


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + 15
    while True:  # answer before any test uses it
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).read()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield url
    finally:
        server.stop()


def aws_environ(url: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean moto and an environment that points boto3 at it (AWS_ENDPOINT_URL only)."""
    from portside.aws import entry, ports

    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in aws_environ(moto_url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
    ports.reset_clients()
    entry.reset()
    yield moto_url
    ports.reset_clients()
    entry.reset()


def lambda_sqs_event(received: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """What Lambda's SQS event source mapping hands the function for messages it received
    (ReceiveMessage with all attributes): lower-camel keys, Binary values as base64 text."""
    import base64

    records = []
    for m in received:
        attrs = {}
        for name, v in (m.get("MessageAttributes") or {}).items():
            a: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": v["DataType"]}
            if "BinaryValue" in v:
                a["binaryValue"] = base64.b64encode(v["BinaryValue"]).decode()
            else:
                a["stringValue"] = v["StringValue"]
            attrs[name] = a
        rec = {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
               "attributes": dict(m.get("Attributes") or {}), "messageAttributes": attrs,
               "md5OfBody": m.get("MD5OfBody"), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
               "awsRegion": REGION}
        if m.get("MD5OfMessageAttributes"):
            rec["md5OfMessageAttributes"] = m["MD5OfMessageAttributes"]
        records.append(rec)
    return {"Records": records}


def receive_all(sqs: Any, url: str, expected: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Receive until ``expected`` messages arrived (long polls; no sleeps)."""
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(out) < expected and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, expected - len(out)),
                                  WaitTimeSeconds=1, AttributeNames=["All"], MessageAttributeNames=["All"],
                                  MessageSystemAttributeNames=["All"]).get("Messages", [])
        out += got
    return out


def boto(service: str) -> Any:
    """A boto3 client for the region the tests use (the endpoint comes from the environment)."""
    import boto3

    return boto3.client(service, region_name=REGION)


@pytest.fixture
def cloud(aws: str) -> dict[str, str]:
    """The physical resources of tests/aws/e2e_app.py in moto."""
    sqs, s3 = boto("sqs"), boto("s3")
    for b in ("awstest-uploads", "awstest-thumbs"):
        s3.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": REGION})
    boto("dynamodb").create_table(TableName="awstest-seen", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                                  BillingMode="PAY_PER_REQUEST")
    return {"uploads": "awstest-uploads", "thumbs": "awstest-thumbs", "seen": "awstest-seen",
            "jobs": sqs.create_queue(QueueName="awstest-jobs.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"],
            "nightly": "awstest-nightly", "dlq": sqs.create_queue(QueueName="awstest-dlq")["QueueUrl"]}


def runtime(function: str, cloud: dict[str, str], dlq: bool = True) -> Any:
    """The Lambda runtime of tests/aws/e2e_app.py's ``function``, configured as infra does."""
    from portside.aws import Runtime

    return Runtime.from_env({env.APP: "tests.aws.e2e_app:app", env.FUNCTION: function,
                             env.RESOURCES: json.dumps({k: v for k, v in cloud.items() if k != "dlq"}),
                             env.DLQ_URL: cloud["dlq"] if dlq else ""})


def seen_ids() -> set[str]:
    return {i["id"]["S"] for i in boto("dynamodb").scan(TableName="awstest-seen")["Items"]}
