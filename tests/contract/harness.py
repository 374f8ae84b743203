"""One harness per target, so every contract test runs unchanged on fake, local, AWS and GCP.

A harness provisions the contract app's resources on its target (as infra would: SQS queues,
a FIFO queue, an SNS topic with a raw-delivery SQS subscription, DynamoDB tables with string
keys; Pub/Sub topics with pull subscriptions, ordering on the FIFO one, a Cloud Storage bucket,
Firestore collections), hands out the target's ports (``port``), and reads a queue or topic's
messages the way its consumer receives them (``received``): the fake cloud delivers them to the
consumer; the local runtime's store holds the deliveries it committed; on AWS they are received
from SQS and mapped by ``portside.aws.to_events`` from the event Lambda's SQS source would pass;
on GCP they are pulled and mapped by ``portside.gcp.to_events`` from the push body Pub/Sub sends.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

from portside.app import App
from portside.declarations import Resource
from portside.events import Message
from tests.contract.app import CONSUMERS

REGION = "eu-west-1"
PROJECT = "portside-contract"


class Harness:
    name: str
    target: Any

    def port(self, resource: Resource | str) -> Any:
        return self.target.port(self.app.resource(resource) if isinstance(resource, str) else resource)

    def received(self, resource: str, n: int) -> list[Message]:
        """The messages sent to queue or topic ``resource`` as its consumer receives them, in order."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class FakeHarness(Harness):
    name = "fake"

    def __init__(self, app: App) -> None:
        from portside.fake import FakeCloud

        self.app, self.target = app, FakeCloud(app)

    def received(self, resource: str, n: int) -> list[Message]:
        self.target.run_until_idle()
        return [o.event for o in self.target.invocations(CONSUMERS[resource])]


class LocalHarness(Harness):
    name = "local"

    def __init__(self, app: App, data_dir: Path) -> None:
        from portside.local import LocalCloud

        self.app, self.target = app, LocalCloud(app, data_dir)

    def received(self, resource: str, n: int) -> list[Message]:
        from portside.local import codec

        rows = self.target.store.read("SELECT event FROM deliveries WHERE function=? ORDER BY seq",
                                      (CONSUMERS[resource],))
        return [codec.load(event) for (event,) in rows]

    def close(self) -> None:
        self.target.stop()


class AwsHarness(Harness):
    name = "aws"

    def __init__(self, app: App) -> None:
        import boto3

        from portside.aws import AwsTarget, Names

        self.app = app
        self.s3, self.sqs, self.sns, self.ddb = (boto3.client(s, region_name=REGION)
                                                 for s in ("s3", "sqs", "sns", "dynamodb"))
        self.s3.create_bucket(Bucket="contract-files-1a2b", CreateBucketConfiguration={"LocationConstraint": REGION})
        self.queues = {"jobs": self._queue("contract-jobs"),
                       "ledger": self._queue("contract-ledger.fifo", FifoQueue="true")}
        topic = self.sns.create_topic(Name="contract-news")["TopicArn"]
        self.queues["news"] = self._queue("contract-news-take-news")
        self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=self.queues["news"][1],
                           Attributes={"RawMessageDelivery": "true"})  # as infra subscribes each consumer
        for name, keys in (("contract-notes", ["id"]), ("contract-events", ["pk", "sk"])):
            self.ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                  KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"))],
                                  AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys])
        self.names = Names({"files": "contract-files-1a2b", "jobs": self.queues["jobs"][0],
                            "ledger": self.queues["ledger"][0], "news": topic, "notes": "contract-notes",
                            "events": "contract-events"})
        self.target = AwsTarget(self.names)

    def _queue(self, name: str, **attributes: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def received(self, resource: str, n: int) -> list[Message]:
        from portside.aws import to_events
        from tests.aws.conftest import lambda_sqs_event, receive_all

        url, arn = self.queues[resource]
        got = receive_all(self.sqs, url, n, timeout=5 if n else 1)
        return to_events(lambda_sqs_event(got, arn), names=self.names) if got else []


class GcpHarness(Harness):
    name = "gcp"

    def __init__(self, app: App) -> None:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import pubsub_v1, storage

        from portside.gcp.ports import GcpTarget

        self.app = app
        u = uuid.uuid4().hex[:8]
        self.publisher, self.subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        self.subscriptions: dict[str, str] = {}
        resources: dict[str, Any] = {}
        for name in ("jobs", "ledger", "news"):
            topic = self.publisher.topic_path(PROJECT, f"contract-{name}-{u}")
            self.publisher.create_topic(name=topic)
            sub = self.subscriber.subscription_path(PROJECT, f"contract-{name}-{u}-take")
            self.subscriber.create_subscription(request={"name": sub, "topic": topic,
                                                         "enable_message_ordering": name == "ledger"})
            self.subscriptions[name], resources[name] = sub, topic
        bucket = f"contract-files-{u}"
        storage.Client(project=PROJECT, credentials=AnonymousCredentials()).create_bucket(bucket)
        resources["files"] = bucket
        for table in ("notes", "events"):
            resources[table] = {"database": "(default)", "collection": f"{table}-{u}"}
        self.resources = resources
        self.target = GcpTarget(resources, PROJECT)

    def received(self, resource: str, n: int) -> list[Message]:
        from portside.gcp import Names, to_events
        from tests.gcp.conftest import wait_until

        sub, got = self.subscriptions[resource], []

        def pull() -> bool:
            r = self.subscriber.pull(request={"subscription": sub, "max_messages": 10}, timeout=5)
            if r.received_messages:
                self.subscriber.acknowledge(request={"subscription": sub,
                                                     "ack_ids": [m.ack_id for m in r.received_messages]})
                got.extend(m.message for m in r.received_messages)
            return len(got) >= n

        if n:
            wait_until(pull, 20, f"{n} message(s) on {sub}")
        else:
            pull()
        names = Names.from_resources(self.resources, source=resource)
        return [to_events(_push_body(m, sub), names)[0] for m in got]  # type: ignore[misc]


def _push_body(m: Any, subscription: str) -> dict[str, Any]:
    """The push request Pub/Sub sends for a pulled message (what the deployed function receives)."""
    message = {"data": base64.b64encode(m.data).decode(), "attributes": dict(m.attributes),
               "messageId": m.message_id, "publishTime": m.publish_time.isoformat().replace("+00:00", "Z")}
    if m.ordering_key:
        message["orderingKey"] = m.ordering_key
    return {"message": message, "subscription": subscription, "deliveryAttempt": 1}

