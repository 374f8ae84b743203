"""Cloud Storage buckets (uniform access, public access prevention) and Firestore databases."""

from __future__ import annotations

from typing import Any

import pulumi_gcp as gcp

from portside.declarations import Bucket as BucketDecl
from portside.declarations import Table as TableDecl
from portside.infra.component import Component, Context
from portside.infra.gcp.messaging import PushTarget, push_subscription


class Bucket(Component):
    """GCS: uniform bucket-level access, public access prevention enforced, Google-managed encryption."""

    kind = "Bucket"

    def __init__(self, decl: BucketDecl, ctx: Context) -> None:
        super().__init__(decl.name, ctx)
        self.decl, s = decl, ctx.settings
        self.bucket = self.child(gcp.storage.Bucket, decl.name, name=ctx.names.bucket(decl.name), project=s.project,
                                 location=s.region.upper(), uniform_bucket_level_access=True,
                                 public_access_prevention="enforced", force_destroy=False,
                                 labels={"portside-resource": decl.name})
        self.physical = self.bucket.name
        self.notifications: dict[str, Any] = {}

    def notify(self, fc: PushTarget) -> None:
        """Deletions reach ``fc`` as a Cloud Storage Pub/Sub notification pushed to it.

        GCS sends OBJECT_DELETE also for the generation an upload overwrites; only the notification's
        ``overwrittenByGeneration`` attribute tells them apart (cloud.google.com/storage/docs/pubsub-notifications),
        so the adapter can drop the overwrite's half as S3 never sends one. The push subscription also
        gives deletions what Eventarc could not: max_attempts and a dead-letter topic.
        """
        fn, t, s = fc.decl, fc.decl.trigger, self.ctx.settings
        name = f"{self.decl.name}-{fn.name}"
        topic = self.child(gcp.pubsub.Topic, name, name=self.ctx.names(name), project=s.project,
                           labels={"portside-notification": fn.name})
        publisher = self.ctx.shared.get("storage_publisher")
        self.child(gcp.storage.Notification, f"{name}-notification", bucket=self.bucket.name, topic=topic.id,
                   event_types=["OBJECT_DELETE"], payload_format="JSON_API_V1", object_name_prefix=t.prefix or None,
                   depends_on=[publisher] if publisher is not None else None)
        self.notifications[fn.name] = push_subscription(self, name, topic, fc)

    def finish(self) -> None:
        self.done(name=self.bucket.name, url=self.bucket.url, notifications=self.notifications)


class Table(Component):
    """One Firestore (native) database per table, so IAM can name exactly one; TTL if declared.

    Items live in the collection named after the table's logical name.
    """

    kind = "Table"

    def __init__(self, decl: TableDecl, ctx: Context) -> None:
        super().__init__(decl.name, ctx)
        s = ctx.settings
        self.database = self.child(gcp.firestore.Database, decl.name, name=ctx.names(decl.name), project=s.project,
                                   location_id=s.firestore_location or s.region, type="FIRESTORE_NATIVE",
                                   concurrency_mode="OPTIMISTIC",
                                   point_in_time_recovery_enablement="POINT_IN_TIME_RECOVERY_ENABLED",
                                   delete_protection_state="DELETE_PROTECTION_DISABLED", deletion_policy="DELETE")
        if decl.ttl:
            self.child(gcp.firestore.Field, f"{decl.name}-ttl", project=s.project, database=self.database.name,
                       collection=decl.name, field=decl.ttl, ttl_config={}, index_config={})
        self.physical, self.collection = self.database.name, decl.name

    def finish(self) -> None:
        self.done(database=self.database.name, collection=self.collection)
