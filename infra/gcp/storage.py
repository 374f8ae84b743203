"""Cloud Storage buckets (uniform access, public access prevention) and Firestore databases."""

from __future__ import annotations

import pulumi_gcp as gcp

from portside.declarations import Bucket as BucketDecl
from portside.declarations import Table as TableDecl
from portside.infra.component import Component, Context


class Bucket(Component):
    """GCS: uniform bucket-level access, public access prevention enforced, Google-managed encryption."""

    kind = "Bucket"

    def __init__(self, decl: BucketDecl, ctx: Context) -> None:
        super().__init__(decl.name, ctx)
        s = ctx.settings
        self.bucket = self.child(gcp.storage.Bucket, decl.name, name=ctx.names.bucket(decl.name), project=s.project,
                                 location=s.region.upper(), uniform_bucket_level_access=True,
                                 public_access_prevention="enforced", force_destroy=False,
                                 labels={"portside-resource": decl.name})
        self.physical = self.bucket.name

    def finish(self) -> None:
        self.done(name=self.bucket.name, url=self.bucket.url)


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
