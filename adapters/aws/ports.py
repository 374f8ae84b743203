"""boto3-backed ports: S3 buckets, SQS queues, SNS topics, DynamoDB tables (docs/architecture.md, "Ports").

Imported only when a handler first touches a resource, so a cold start that needs no port never
loads boto3 (~300 ms). Clients are created once per process and reused across invocations;
region comes from ``AWS_REGION``/``AWS_DEFAULT_REGION`` and the endpoint from ``AWS_ENDPOINT_URL``
(botocore >= 1.31 reads it natively, so the same code runs against moto or LocalStack).
"""

from __future__ import annotations

import base64
import math
import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from portside.aws.events import plain_item
from portside.capabilities import ENCODING_ATTRIBUTE, sqs_safe, sqs_text
from portside.errors import NotFound

_clients: dict[str, Any] = {}
_lock = threading.Lock()
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30,
                 tcp_keepalive=True)


def client(service: str) -> Any:
    """The process-wide client for ``service``, created on first use (thread-safe)."""
    c = _clients.get(service)
    if c is None:
        with _lock:
            c = _clients.get(service)
            if c is None:
                region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                c = _clients[service] = boto3.session.Session().client(service, region_name=region, config=_CONFIG)
    return c


def reset_clients() -> None:
    """Forget the clients (tests that change the endpoint or region)."""
    with _lock:
        _clients.clear()


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


# --------------------------------------------------------------------------- text-safe bodies

def wire_body(body: bytes, attributes: dict[str, str]) -> tuple[str, dict[str, str]]:
    """SQS and SNS carry text: a body that is not safe UTF-8 text travels base64-encoded, marked
    with ``portside-encoding: base64``, which ``to_events`` undoes (the port contract counted that
    attribute against the 10 SQS and SNS carry)."""
    text = sqs_text(body)
    if text is not None:
        return text, attributes
    return base64.b64encode(body).decode(), {**attributes, ENCODING_ATTRIBUTE: "base64"}


def message_attributes(attributes: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """String attributes in SQS/SNS form; the contract (``portside.contract``) checked their count,
    names and sizes, and dropped empty values (SQS and SNS refuse them)."""
    return {k: {"DataType": "String", "StringValue": sqs_safe(v)} for k, v in attributes.items() if v != ""}


# --------------------------------------------------------------------------- S3


class S3Bucket:
    """BucketPort on S3."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.s3 = client("s3")

    def get(self, key: str) -> bytes:
        try:
            return self.s3.get_object(Bucket=self.name, Key=key)["Body"].read()
        except ClientError as e:
            if _code(e) in ("NoSuchKey", "404", "NotFound"):
                raise NotFound(f"bucket {self.name!r} has no object {key!r}") from None
            raise

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.name, Key=key)
            return True
        except ClientError as e:
            if _code(e) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def list(self, prefix: str = "") -> Iterator[str]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix):
            for obj in page.get("Contents", ()):
                yield obj["Key"]

    def signed_url(self, key: str, expires: int = 3600) -> str:
        return self.s3.generate_presigned_url("get_object", Params={"Bucket": self.name, "Key": key},
                                              ExpiresIn=expires)

    def put(self, key: str, data: bytes | BinaryIO, content_type: str | None = None,
            metadata: dict[str, str] | None = None) -> None:
        if not isinstance(key, str) or not key:
            raise ValueError(f"object key must be a non-empty str, got {key!r}")
        args: dict[str, Any] = {"Bucket": self.name, "Key": key, "Body": data}
        if content_type:
            args["ContentType"] = content_type
        if metadata:
            args["Metadata"] = dict(metadata)
        self.s3.put_object(**args)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.name, Key=key)


# --------------------------------------------------------------------------- SQS / SNS


class SqsQueue:
    """QueuePort on SQS; FIFO queues get the ordering key as MessageGroupId (the contract gives a FIFO
    queue's message without one the group ``"default"``, and refuses a delay on it)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.fifo = url.endswith(".fifo")
        self.sqs = client("sqs")

    def send(self, body: bytes, attributes: dict[str, str], delay: int = 0,
             ordering_key: str | None = None) -> str:
        text, attributes = wire_body(body, attributes)
        args: dict[str, Any] = {"QueueUrl": self.url, "MessageBody": text}
        if attributes:
            args["MessageAttributes"] = message_attributes(attributes)
        if self.fifo:
            args["MessageGroupId"] = ordering_key or "default"
            args["MessageDeduplicationId"] = uuid.uuid4().hex
        elif delay:
            args["DelaySeconds"] = delay
        return self.sqs.send_message(**args)["MessageId"]


class SnsTopic:
    """TopicPort on SNS."""

    def __init__(self, arn: str) -> None:
        self.arn = arn
        self.fifo = arn.endswith(".fifo")
        self.sns = client("sns")

    def publish(self, body: bytes, attributes: dict[str, str], ordering_key: str | None = None) -> str:
        text, attributes = wire_body(body, attributes)
        args: dict[str, Any] = {"TopicArn": self.arn, "Message": text}
        if attributes:
            args["MessageAttributes"] = message_attributes(attributes)
        if self.fifo:
            args["MessageGroupId"] = ordering_key or "default"
            args["MessageDeduplicationId"] = uuid.uuid4().hex
        return self.sns.publish(**args)["MessageId"]


# --------------------------------------------------------------------------- DynamoDB


def attribute_value(value: Any, where: str = "item") -> dict[str, Any]:
    """A plain JSON value -> DynamoDB AttributeValue (numbers travel as text: no float error)."""
    if value is None:
        return {"NULL": True}
    if value is True or value is False:
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where}: DynamoDB cannot store {value!r}")
        return {"N": repr(value)}
    if isinstance(value, Decimal):
        return {"N": str(value)}
    if isinstance(value, Mapping):
        return {"M": {str(k): attribute_value(v, f"{where}.{k}") for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [attribute_value(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    raise TypeError(f"{where}: tables hold only JSON types (str, number, bool, None, list, dict), "
                    f"got {type(value).__name__}")


def dynamo_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: attribute_value(v, k) for k, v in item.items()}


class DynamoTable:
    """TablePort on DynamoDB; items in and out are plain dicts (no Decimal, no type descriptors)."""

    def __init__(self, name: str, key: str, sort_key: str | None) -> None:
        self.name, self.key, self.sort_key = name, key, sort_key
        self.db = client("dynamodb")

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        item = self.db.get_item(TableName=self.name, Key=dynamo_item(key), ConsistentRead=True).get("Item")
        return plain_item(item) if item else None

    def put(self, item: dict[str, Any]) -> None:
        self.db.put_item(TableName=self.name, Item=dynamo_item(item))

    def put_if_absent(self, item: dict[str, Any]) -> bool:
        try:
            self.db.put_item(TableName=self.name, Item=dynamo_item(item),
                             ConditionExpression="attribute_not_exists(#k)",
                             ExpressionAttributeNames={"#k": self.key})
            return True
        except ClientError as e:
            if _code(e) == "ConditionalCheckFailedException":
                return False
            raise

    def update(self, key: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        changes = {k: v for k, v in changes.items() if k not in key}
        if not changes:
            current = self.get(key)
            if current is None:
                raise NotFound(f"table {self.name!r} has no item {key!r}")
            return current
        names = {"#k": self.key, **{f"#f{i}": k for i, k in enumerate(changes)}}
        values = {f":v{i}": attribute_value(v, k) for i, (k, v) in enumerate(changes.items())}
        try:
            out = self.db.update_item(
                TableName=self.name, Key=dynamo_item(key), ReturnValues="ALL_NEW",
                UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes))),
                ConditionExpression="attribute_exists(#k)", ExpressionAttributeNames=names,
                ExpressionAttributeValues=values)
        except ClientError as e:
            if _code(e) == "ConditionalCheckFailedException":
                raise NotFound(f"table {self.name!r} has no item {key!r}") from None
            raise
        return plain_item(out["Attributes"])  # type: ignore[return-value]

    def delete(self, key: dict[str, Any]) -> None:
        self.db.delete_item(TableName=self.name, Key=dynamo_item(key))

    def query(self, partition: Any, limit: int | None = None) -> list[dict[str, Any]]:
        args: dict[str, Any] = {"TableName": self.name, "KeyConditionExpression": "#k = :p",
                                "ExpressionAttributeNames": {"#k": self.key},
                                "ExpressionAttributeValues": {":p": attribute_value(partition, self.key)},
                                "ConsistentRead": True}
        out: list[dict[str, Any]] = []
        while True:
            if limit is not None:
                args["Limit"] = limit - len(out)
            page = self.db.query(**args)
            out += [plain_item(i) for i in page.get("Items", ())]  # type: ignore[misc]
            start = page.get("LastEvaluatedKey")
            if not start or (limit is not None and len(out) >= limit):
                return out
            args["ExclusiveStartKey"] = start


# --------------------------------------------------------------------------- dead letters


def send_dead_letter(url: str, body: str, attributes: dict[str, dict[str, Any]], group: str | None = None) -> str:
    """Put a failed event on the trigger's dead-letter queue, intact, error in the attributes."""
    text, extra = wire_body(body.encode(), {})
    attributes = {k: {**v, "StringValue": sqs_safe(v["StringValue"])} if "StringValue" in v else v
                  for k, v in attributes.items()}  # an error text may hold characters SQS refuses
    if extra:
        attributes = {**attributes, ENCODING_ATTRIBUTE: {"DataType": "String", "StringValue": "base64"}}
    args: dict[str, Any] = {"QueueUrl": url, "MessageBody": text, "MessageAttributes": attributes}
    if url.endswith(".fifo"):
        args["MessageGroupId"] = group or "dead-letter"
        args["MessageDeduplicationId"] = uuid.uuid4().hex
    return client("sqs").send_message(**args)["MessageId"]
