"""An SQS queue with its dead-letter queue: the shape of every asynchronous path on AWS."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from portside.infra.component import Component

DLQ_RETENTION = 14 * 24 * 3600  # the SQS maximum: time to inspect and redrive


@dataclass
class QueuePair:
    queue: aws.sqs.Queue
    dlq: aws.sqs.Queue | None
    max_attempts: int
    policy: aws.sqs.QueuePolicy | None = None


def queue_pair(owner: Component, name: str, physical: str, *, fifo: bool = False, visibility: int = 180,
               max_attempts: int = 5, dead_letter: bool = True,
               allow: tuple[str, pulumi.Input[str]] | None = None) -> QueuePair:
    """Queue ``name`` (+ ``name-dlq`` redriven after ``max_attempts`` receives), SSE on.

    ``allow`` = (service principal, source ARN) lets S3 or SNS send to it, from that source only.
    """
    names = owner.ctx.names
    dlq = None
    if dead_letter:
        dlq = owner.child(aws.sqs.Queue, f"{name}-dlq", name=names.fifo(f"{physical}-dlq", fifo), fifo_queue=fifo or None,
                          sqs_managed_sse_enabled=True, message_retention_seconds=DLQ_RETENTION)
    redrive = (pulumi.Output.json_dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": max_attempts})
               if dlq is not None else None)
    queue = owner.child(aws.sqs.Queue, name, name=names.fifo(physical, fifo), fifo_queue=fifo or None,
                        sqs_managed_sse_enabled=True, visibility_timeout_seconds=visibility, redrive_policy=redrive)
    policy = None
    if allow is not None:
        principal, source_arn = allow
        policy = owner.child(aws.sqs.QueuePolicy, f"{name}-policy", queue_url=queue.url, policy=pulumi.Output.json_dumps({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "AllowSourceOnly", "Effect": "Allow", "Principal": {"Service": principal},
                           "Action": "sqs:SendMessage", "Resource": queue.arn,
                           "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}}}],
        }))
    return QueuePair(queue, dlq, max_attempts, policy)


def visibility_for(timeout: int) -> int:
    """SQS visibility timeout: at least 6x the consumer's timeout (AWS guidance)."""
    return max(30, 6 * timeout)
