"""SQS queues (+DLQ, redrive) and SNS topics with one SQS queue (+DLQ) per subscriber."""

from __future__ import annotations

import json

import pulumi_aws as aws

from portside.declarations import Function
from portside.declarations import Queue as QueueDecl
from portside.declarations import Topic as TopicDecl
from portside.infra.aws.queues import QueuePair, queue_pair, visibility_for
from portside.infra.component import Component, Context


class Queue(Component):
    """A declared queue: SQS, SSE, redrive to its DLQ after the consumer's max_attempts."""

    kind = "Queue"

    def __init__(self, decl: QueueDecl, ctx: Context) -> None:
        super().__init__(decl.name, ctx)
        consumer = next(ctx.app.consumers(decl), None)
        t = consumer.trigger if consumer else None
        self.pair = queue_pair(self, decl.name, ctx.names(decl.name), fifo=decl.fifo,
                               visibility=visibility_for(consumer.timeout if consumer else 30),
                               max_attempts=t.max_attempts if t else 5, dead_letter=t.dead_letter if t else True)
        self.arn, self.physical = self.pair.queue.arn, self.pair.queue.url

    def inbox(self, fn: Function) -> QueuePair:
        return self.pair

    def finish(self) -> None:
        dlq = self.pair.dlq
        self.done(name=self.pair.queue.name, arn=self.arn, url=self.physical,
                  dlq_url=dlq.url if dlq is not None else None)


def filter_policy(flt: dict[str, tuple[str, ...]]) -> str | None:
    """SNS filter policy on message attributes: each attribute must have one of its values."""
    return json.dumps({k: list(v) for k, v in sorted(flt.items())}, sort_keys=True) if flt else None


class Topic(Component):
    """SNS (SSE with the AWS managed key); each subscriber gets its own SQS queue + DLQ."""

    kind = "Topic"

    def __init__(self, decl: TopicDecl, ctx: Context) -> None:
        super().__init__(decl.name, ctx)
        self.decl = decl
        self.topic = self.child(aws.sns.Topic, decl.name, name=ctx.names(decl.name),
                                kms_master_key_id="alias/aws/sns", tags={"portside:resource": decl.name})
        self.arn, self.physical = self.topic.arn, self.topic.arn

    def inbox(self, fn: Function) -> QueuePair:
        """Subscribe ``fn``: raw delivery into its own queue, filtered by its trigger's attributes."""
        t = fn.trigger
        name = f"{self.decl.name}-{fn.name}"
        pair = queue_pair(self, name, self.ctx.names(self.decl.name, fn.name), visibility=visibility_for(fn.timeout),
                          max_attempts=t.max_attempts, dead_letter=t.dead_letter,
                          allow=("sns.amazonaws.com", self.topic.arn))
        self.child(aws.sns.TopicSubscription, f"{name}-subscription", topic=self.topic.arn, protocol="sqs",
                   endpoint=pair.queue.arn, raw_message_delivery=True, filter_policy=filter_policy(t.filter),
                   filter_policy_scope="MessageAttributes" if t.filter else None,
                   depends_on=[pair.policy] if pair.policy else None)
        return pair

    def finish(self) -> None:
        self.done(name=self.topic.name, arn=self.topic.arn)
