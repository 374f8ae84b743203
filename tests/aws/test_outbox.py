"""The outbox on AWS (moto): a Lambda records, dies before publishing; the relay Lambda, run by its
EventBridge Scheduler tick, publishes the event on SNS from the DynamoDB outbox table."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from portside import deployment as env
from portside.aws import Names, Runtime, to_events
from tests.aws.conftest import REGION, lambda_sqs_event, load, receive_all
from tests.core import outbox_app

pytestmark = pytest.mark.usefixtures("aws")


def boto(service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=REGION)


def table(name: str, *keys: str) -> str:
    schema = [{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"))]
    boto("dynamodb").create_table(TableName=name, KeySchema=schema, BillingMode="PAY_PER_REQUEST",
                                  AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys])
    return name


def scan(name: str) -> list[dict[str, Any]]:
    return boto("dynamodb").scan(TableName=name)["Items"]


def test_the_relay_publishes_what_a_dead_lambda_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    sqs, sns = boto("sqs"), boto("sns")
    topic_arn = sns.create_topic(Name="ob-news")["TopicArn"]
    url = sqs.create_queue(QueueName="ob-news-note")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    resources = {"facts": table("ob-facts", "id"), "outbox": table("ob-outbox", "box", "id"), "news": topic_arn,
                 "seen": table("ob-seen", "id")}

    def runtime(function: str) -> Runtime:
        return Runtime.from_env({env.APP: "tests.core.outbox_app:app", env.FUNCTION: function,
                                 env.RESOURCES: json.dumps(resources)})

    request = load("http_api_v2.json")
    request.update(routeKey="POST /facts", rawPath="/facts", rawQueryString="", pathParameters={},
                   body=base64.b64encode(b'{"id": "f1"}').decode(), isBase64Encoded=True)
    request["requestContext"].update(routeKey="POST /facts", http={**request["requestContext"]["http"],
                                                                  "path": "/facts"})
    monkeypatch.setattr(outbox_app, "broken", ["after-record"])
    assert runtime("record")(request, None)["statusCode"] == 500  # recorded, then died
    assert len(scan("ob-facts")) == 1 and len(scan("ob-outbox")) == 1
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []

    monkeypatch.setattr(outbox_app.outbox, "grace", 0)  # the Lambda's time is long past
    tick = {**load("scheduler_input.json"), "schedule": "outbox-relay", "function": "outbox-relay"}
    runtime("outbox-relay")(tick, None)
    (message,) = to_events(lambda_sqs_event(receive_all(sqs, url, 1), arn),
                           names=Names({"news": topic_arn}, default_source="news"))
    event = message.event()
    assert (event.id, event.type, event.data) == ("ev-f1", "fact.recorded", {"id": "f1"})
    assert scan("ob-outbox") == []
