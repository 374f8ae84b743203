"""Cloud Functions 2nd gen: one service account per function, roles bound on exact resources."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from portside import deployment as env
from portside.declarations import Function as FunctionDecl
from portside.declarations import HttpTrigger, ObjectCreatedTrigger
from portside.infra.component import Component, Context
from portside.infra.gcp.messaging import RETENTION
from portside.infra.grants import GCP_DLQ_PUBLISH, GCP_EVENT_RECEIVER, GCP_INVOKER, GCP_ROLES
from portside.infra.package import PYTHON

RUNTIME = f"python{PYTHON.replace('.', '')}"
# Object deletions do not come through Eventarc: its storage CloudEvent carries only the object
# (StorageObjectData), not the ``overwrittenByGeneration`` that tells an overwrite's delete apart.
# They come from a Cloud Storage Pub/Sub notification instead (infra/gcp/storage.py, Bucket.notify).
STORAGE_EVENTS = {ObjectCreatedTrigger: "google.cloud.storage.object.v1.finalized"}
# Cloud Run's "internal" ingress still admits Pub/Sub push, Eventarc and Cloud Scheduler of the same
# project (cloud.google.com/run/docs/securing/ingress, cloud.google.com/functions/docs/networking/network-settings)
INTERNAL_ONLY, ALLOW_ALL = "ALLOW_INTERNAL_ONLY", "ALLOW_ALL"


class Function(Component):
    kind = "Function"

    def __init__(self, fn: FunctionDecl, ctx: Context, code: Any) -> None:
        super().__init__(fn.name, ctx)
        self.decl, s, t = fn, ctx.settings, fn.trigger
        physical = ctx.names(fn.name)
        registry = ctx.shared["components"]
        self.account = self.child(gcp.serviceaccount.Account, f"{fn.name}-sa", project=s.project,
                                  account_id=ctx.names.service_account(fn.name),
                                  display_name=f"portside function {fn.name}", description=fn.handler)
        self.member = pulumi.Output.concat("serviceAccount:", self.account.email)
        self.dlq = None
        if t.asynchronous and t.dead_letter:
            self.dlq = self.child(gcp.pubsub.Topic, f"{fn.name}-dlq", name=ctx.names(fn.name, "dlq"), project=s.project,
                                  labels={"portside-dead-letter": fn.name})
            # keep dead letters: a topic without a subscription drops them
            self.child(gcp.pubsub.Subscription, f"{fn.name}-dlq-retained", name=ctx.names(fn.name, "dlq"),
                       project=s.project, topic=self.dlq.id, message_retention_duration=RETENTION,
                       expiration_policy={"ttl": ""}, ack_deadline_seconds=60)
        visible = {u.resource.name for u in fn.uses} | {t.source.name}
        variables: dict[str, Any] = {
            env.APP: s.app_spec, env.FUNCTION: fn.name, env.PROJECT: s.project,
            env.RESOURCES: pulumi.Output.json_dumps({n: registry[n].physical for n in sorted(visible)}),
        }
        if self.dlq is not None:
            variables[env.DEAD_LETTER_TOPIC] = self.dlq.id
        grants = self.grant_uses()
        event = type(t) in STORAGE_EVENTS
        if event:
            grants.append(self.child(gcp.projects.IAMMember, f"{fn.name}-event-receiver", project=s.project,
                                     role=GCP_EVENT_RECEIVER, member=self.member))
        # what Google's agents and the builder were granted has propagated; a storage trigger's events are
        # published by the Cloud Storage agent, so its function also waits for that grant by name
        waits = [ctx.shared["propagated"]]
        if event and ctx.shared.get("storage_publisher") is not None:
            waits.append(ctx.shared["storage_publisher"])
        targets = env.GCP_TARGETS
        self.function = self.child(
            gcp.cloudfunctionsv2.Function, fn.name, name=physical, project=s.project, location=s.region,
            description=f"portside {fn.handler}",
            build_config={"runtime": RUNTIME, "entry_point": targets["event" if event else "http"],
                          "service_account": code.builder.name,
                          "source": {"storage_source": {"bucket": code.bucket, "object": code.object}}},
            service_config={"available_memory": f"{fn.memory}Mi", "timeout_seconds": fn.timeout,
                            "max_instance_count": fn.concurrency, "service_account_email": self.account.email,
                            "environment_variables": variables,
                            "ingress_settings": ALLOW_ALL if isinstance(t, HttpTrigger) else INTERNAL_ONLY,
                            "all_traffic_on_latest_revision": True},
            event_trigger=self.storage_trigger() if event else None,
            labels={"portside-function": fn.name}, depends_on=[*grants, *code.grants, *waits])
        self.invoker = None
        if isinstance(t, HttpTrigger):
            # a private route has no allUsers binding: only principals holding run.invoker (project owners,
            # or whom you grant it) can call it, with an ID token
            if s.public_api and not t.private:  # a public HTTP API: anyone may call it, as on API Gateway
                self.child(gcp.cloudrunv2.ServiceIamMember, f"{fn.name}-public", project=s.project, location=s.region,
                           name=self.function.name, role=GCP_INVOKER, member="allUsers")
        else:  # push, Eventarc and Scheduler call it with this account's OIDC token
            self.invoker = self.child(gcp.cloudrunv2.ServiceIamMember, f"{fn.name}-invoker", project=s.project,
                                      location=s.region, name=self.function.name, role=GCP_INVOKER, member=self.member)

    def storage_trigger(self) -> dict[str, Any]:
        t = self.decl.trigger
        bucket = self.ctx.shared["components"][t.source.name]
        return {"event_type": STORAGE_EVENTS[type(t)], "trigger_region": self.ctx.settings.region,
                "event_filters": [{"attribute": "bucket", "value": bucket.bucket.name}],
                "retry_policy": "RETRY_POLICY_RETRY" if t.max_attempts > 1 else "RETRY_POLICY_DO_NOT_RETRY",
                "service_account_email": self.account.email}

    def grant_uses(self) -> list[pulumi.Resource]:
        """Each declared use -> one role on the one resource; plus publishing its own dead letters."""
        s, registry, out = self.ctx.settings, self.ctx.shared["components"], []
        for use in self.decl.uses:
            comp, role = registry[use.resource.name], GCP_ROLES[(use.resource.kind, use.access)]
            if role.startswith("custom:"):
                role = self.ctx.shared["custom_roles"][role.removeprefix("custom:")]
            rname = f"{self.decl.name}-{use.access}-{use.resource.name}"
            if use.resource.kind == "bucket":
                out.append(self.child(gcp.storage.BucketIAMMember, rname, bucket=comp.bucket.name, role=role,
                                      member=self.member))
            elif use.resource.kind in ("queue", "topic"):
                out.append(self.child(gcp.pubsub.TopicIAMMember, rname, project=s.project, topic=comp.topic.name,
                                      role=role, member=self.member))
            else:  # table: Firestore IAM is project-level; the condition narrows it to this database
                database = pulumi.Output.concat("projects/", s.project, "/databases/", comp.database.name)
                out.append(self.child(gcp.projects.IAMMember, rname, project=s.project, role=role, member=self.member,
                                      condition={"title": f"only {use.resource.name}"[:100],
                                                 "expression": pulumi.Output.concat('resource.name == "', database, '"')}))
        if self.dlq is not None:
            out.append(self.child(gcp.pubsub.TopicIAMMember, f"{self.decl.name}-dead-letter", project=s.project,
                                  topic=self.dlq.name, role=GCP_DLQ_PUBLISH, member=self.member))
        return out

    def finish(self) -> None:
        self.done(name=self.function.name, url=self.function.url, service_account=self.account.email,
                  dead_letter_topic=self.dlq.id if self.dlq is not None else None)
