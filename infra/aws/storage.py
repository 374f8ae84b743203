"""S3 buckets (private, encrypted, notifications via SQS) and DynamoDB tables."""

from __future__ import annotations

import pulumi_aws as aws

from portside.declarations import Bucket as BucketDecl
from portside.declarations import Function, ObjectCreatedTrigger
from portside.declarations import Table as TableDecl
from portside.infra.aws.queues import QueuePair, queue_pair, visibility_for
from portside.infra.component import Component, Context


class Bucket(Component):
    """S3: public access blocked, SSE-S3, owner-enforced; object triggers reach functions via SQS + DLQ."""

    kind = "Bucket"

    def __init__(self, decl: BucketDecl, ctx: Context) -> None:
        super().__init__(decl.name, ctx)
        self.decl = decl
        self.bucket = self.child(aws.s3.Bucket, decl.name, bucket_prefix=ctx.names.bucket(decl.name),
                                 force_destroy=False, tags={"portside:resource": decl.name})
        self.child(aws.s3.BucketPublicAccessBlock, f"{decl.name}-public-access", bucket=self.bucket.id,
                   block_public_acls=True, block_public_policy=True, ignore_public_acls=True,
                   restrict_public_buckets=True)
        self.child(aws.s3.BucketServerSideEncryptionConfiguration, f"{decl.name}-encryption", bucket=self.bucket.id,
                   rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                           "bucket_key_enabled": True}])
        self.child(aws.s3.BucketOwnershipControls, f"{decl.name}-ownership", bucket=self.bucket.id,
                   rule={"object_ownership": "BucketOwnerEnforced"})
        self.arn, self.physical = self.bucket.arn, self.bucket.bucket
        self._notify: list[tuple[Function, QueuePair]] = []

    def inbox(self, fn: Function) -> QueuePair:
        """The SQS queue (+DLQ) S3 notifies for ``fn``'s trigger; only this bucket may send to it."""
        t = fn.trigger
        pair = queue_pair(self, f"{self.decl.name}-{fn.name}", self.ctx.names(self.decl.name, fn.name),
                          visibility=visibility_for(fn.timeout), max_attempts=t.max_attempts,
                          dead_letter=t.dead_letter, allow=("s3.amazonaws.com", self.bucket.arn))
        self._notify.append((fn, pair))
        return pair

    def finish(self) -> None:
        if self._notify:
            configs = []
            for fn, pair in self._notify:
                t = fn.trigger
                event = "s3:ObjectCreated:*" if isinstance(t, ObjectCreatedTrigger) else "s3:ObjectRemoved:*"
                configs.append({"id": fn.name, "queue_arn": pair.queue.arn, "events": [event],
                                "filter_prefix": t.prefix or None, "filter_suffix": t.suffix or None})
            # one notification resource per bucket: the S3 API replaces the whole configuration
            # S3 checks it may send to each queue when the configuration is put: policies first
            self.child(aws.s3.BucketNotification, f"{self.decl.name}-notification", bucket=self.bucket.id,
                       queues=configs, depends_on=[pair.policy for _, pair in self._notify if pair.policy])
        self.done(name=self.bucket.bucket, arn=self.bucket.arn)


class Table(Component):
    """DynamoDB: on demand, point-in-time recovery, SSE with the AWS managed key, TTL if declared."""

    kind = "Table"

    def __init__(self, decl: TableDecl, ctx: Context) -> None:
        super().__init__(decl.name, ctx)
        attrs = [{"name": decl.key, "type": "S"}] + ([{"name": decl.sort_key, "type": "S"}] if decl.sort_key else [])
        self.table = self.child(
            aws.dynamodb.Table, decl.name, name=ctx.names(decl.name), billing_mode="PAY_PER_REQUEST",
            hash_key=decl.key, range_key=decl.sort_key, attributes=attrs,
            point_in_time_recovery={"enabled": True}, server_side_encryption={"enabled": True},
            ttl={"attribute_name": decl.ttl, "enabled": True} if decl.ttl else None,
            deletion_protection_enabled=False, tags={"portside:resource": decl.name})
        self.arn, self.physical = self.table.arn, self.table.name

    def finish(self) -> None:
        self.done(name=self.table.name, arn=self.table.arn)
