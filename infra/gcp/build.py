"""Assemble the GCP components: APIs, service agents, custom roles, resources, code, functions, triggers.

A fresh project is the hard case: APIs enable asynchronously, Google's service agents appear some
time after their API, and IAM grants take up to minutes to propagate. The program orders every step
by dependencies and waits once, on the first run only, where Google's own examples wait.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_gcp as gcp

from portside import declarations as d
from portside.infra.component import Component, Context
from portside.infra.gcp.edge import Api, Schedule
from portside.infra.gcp.function import Function
from portside.infra.gcp.messaging import Queue, Topic
from portside.infra.gcp.storage import Bucket, Table
from portside.infra.grants import GCP_CUSTOM_ROLES
from portside.infra.package import Package

COMPONENTS = {"bucket": Bucket, "table": Table, "queue": Queue, "topic": Topic, "api": Api, "schedule": Schedule}
# cloudresourcemanager: the project look-up (get_project) answers only once it is enabled
BASE_APIS = ("cloudresourcemanager", "cloudfunctions", "run", "cloudbuild", "artifactregistry", "storage", "iam",
             "pubsub", "logging")
KIND_APIS = {"bucket": "eventarc", "table": "firestore", "schedule": "cloudscheduler"}
# IAM changes propagate in "typically 2 minutes, up to 7" (cloud.google.com/iam/docs/access-change-propagation);
# Google's cloudfunctions2_basic_builder example waits 60 s after granting the builder its roles, and the
# service-agent workaround of terraform-provider-google #25294 waits twice a minute. Only a create waits.
IAM_PROPAGATION = "90s"


class Services(Component):
    """The Google APIs this app needs, enabled (and left enabled on destroy)."""

    kind = "Services"

    def __init__(self, ctx: Context) -> None:
        super().__init__("apis", ctx)
        kinds = {x.kind for x in ctx.app.resources.values()}
        wanted = sorted(set(BASE_APIS) | {api for kind, api in KIND_APIS.items() if kind in kinds})
        self.by_name = {a: self.child(gcp.projects.Service, f"api-{a}", project=ctx.settings.project,
                                      service=f"{a}.googleapis.com", disable_on_destroy=False) for a in wanted}
        self.services = list(self.by_name.values())
        self.done(services=[f"{a}.googleapis.com" for a in wanted])


def storage_triggered(app: Any) -> bool:
    return any(isinstance(x, d.Bucket) and any(True for _ in app.consumers(x)) for x in app.resources.values())


class Agents(Component):
    """Google's service agents, made to exist and granted what the triggers need, before anything uses them.

    - Pub/Sub's agent moves dead letters and mints push tokens;
    - Eventarc's agent is not created by enabling its API (pulumi-gcp #1290): ServiceIdentity creates it,
      and it gets roles/eventarc.serviceAgent;
    - Cloud Storage's agent publishes object events, so it needs roles/pubsub.publisher before a storage
      trigger is created. It is bound on the project because Eventarc creates its own topic per trigger,
      which the program never sees (cloud.google.com/eventarc/docs/run/create-trigger-storage-gcloud).
    """

    kind = "ServiceAgents"

    def __init__(self, ctx: Context, services: Services) -> None:
        super().__init__("service-agents", ctx)
        s = ctx.settings
        after_apis = pulumi.InvokeOutputOptions(depends_on=services.services)
        self.number = gcp.organizations.get_project_output(
            project_id=s.project, opts=pulumi.InvokeOutputOptions(depends_on=[services.by_name["cloudresourcemanager"]])
        ).number
        pubsub = self.child(gcp.projects.ServiceIdentity, "pubsub-agent", project=s.project,
                            service="pubsub.googleapis.com")
        ctx.shared["pubsub_agent"] = pulumi.Output.concat("serviceAccount:", pubsub.email)
        self.grants: list[pulumi.Resource] = []
        self.storage_publisher: pulumi.Resource | None = None
        if storage_triggered(ctx.app):
            eventarc = self.child(gcp.projects.ServiceIdentity, "eventarc-agent", project=s.project,
                                  service="eventarc.googleapis.com")
            self.grants.append(self.child(gcp.projects.IAMMember, "eventarc-agent-role", project=s.project,
                                          role="roles/eventarc.serviceAgent",
                                          member=pulumi.Output.concat("serviceAccount:", eventarc.email)))
            gcs = gcp.storage.get_project_service_account_output(project=s.project, opts=after_apis)
            self.storage_publisher = self.child(
                gcp.projects.IAMMember, "storage-agent-publisher", project=s.project, role="roles/pubsub.publisher",
                member=pulumi.Output.concat("serviceAccount:", gcs.email_address))
            self.grants.append(self.storage_publisher)
        ctx.shared["storage_publisher"] = self.storage_publisher
        self.done()


class Roles(Component):
    """The project's custom roles for write-only uses (no predefined role writes without reading)."""

    kind = "CustomRoles"

    def __init__(self, ctx: Context) -> None:
        super().__init__("custom-roles", ctx)
        uses = {(u.resource.kind, u.access) for f in ctx.app.functions.values() for u in f.uses}
        wanted = {"objectWriter"} if ("bucket", "write") in uses else set()
        wanted |= {"entityWriter"} if ("table", "write") in uses else set()
        prefix = re.sub(r"[^A-Za-z0-9]", "_", ctx.names.prefix)
        roles: dict[str, pulumi.Output] = {}
        for key in sorted(wanted):
            title, permissions = GCP_CUSTOM_ROLES[key]
            role = self.child(gcp.projects.IAMCustomRole, f"role-{key}", project=ctx.settings.project,
                              role_id=f"{prefix}_{key}"[:64], title=title[:100], permissions=list(permissions),
                              description=title)
            roles[key] = role.name  # projects/<p>/roles/<id>
        ctx.shared["custom_roles"] = roles
        self.done(roles=roles)


BUILDER_LOG_ROLE = "roles/logging.logWriter"


class Code(Component):
    """The function source (one archive per content hash, private bucket) and the account that builds it.

    Cloud Functions builds with Cloud Build as a dedicated builder account (new projects no longer give
    the default compute account the rights). The build reads the source from the bucket Cloud Functions
    copies it to, ``gcf-v2-sources-<project number>-<region>`` (the exact error is in
    terraform-provider-google #20571), and pushes the image to the ``gcf-artifacts`` repository; Cloud
    Functions creates both on the first deploy, so neither can carry a binding yet: the grants are
    project-level with IAM conditions naming that one bucket and that one repository.
    """

    kind = "Code"

    def __init__(self, package: Package, ctx: Context, agents: Agents) -> None:
        super().__init__("code", ctx)
        s = ctx.settings
        self.bucket_resource = self.child(gcp.storage.Bucket, "code", name=ctx.names.bucket("code"), project=s.project,
                                          location=s.region.upper(), uniform_bucket_level_access=True,
                                          public_access_prevention="enforced", force_destroy=True)
        self.object_resource = self.child(gcp.storage.BucketObject, "code-archive", bucket=self.bucket_resource.name,
                                          name=package.name, source=package.archive())
        self.bucket, self.object = self.bucket_resource.name, self.object_resource.name
        self.builder = self.child(gcp.serviceaccount.Account, "builder", project=s.project,
                                  account_id=ctx.names.service_account("builder"), display_name="portside builds")
        member = pulumi.Output.concat("serviceAccount:", self.builder.email)
        sources = pulumi.Output.concat("gcf-v2-sources-", agents.number, "-", s.region)
        repository = f"projects/{s.project}/locations/{s.region}/repositories/gcf-artifacts"
        self.grants = [
            self.child(gcp.storage.BucketIAMMember, "builder-reads-code", bucket=self.bucket,
                       role="roles/storage.objectViewer", member=member),
            self.child(gcp.projects.IAMMember, "builder-reads-sources", project=s.project,
                       role="roles/storage.objectViewer", member=member,
                       condition={"title": "only the Cloud Functions sources bucket",
                                  "expression": pulumi.Output.concat(
                                      'resource.name.startsWith("projects/_/buckets/', sources, '")')}),
            self.child(gcp.projects.IAMMember, "builder-artifactregistry-writer", project=s.project,
                       role="roles/artifactregistry.writer", member=member,
                       condition={"title": "only the gcf-artifacts repository",
                                  "expression": f'resource.name.startsWith("{repository}")'}),
            # Cloud Logging offers no resource narrower than the project for writing log entries
            # (logging.logEntries.create is granted on projects, folders or organizations only)
            self.child(gcp.projects.IAMMember, "builder-logwriter", project=s.project, role=BUILDER_LOG_ROLE,
                       member=member),
        ]

    def finish(self) -> None:
        self.done(bucket=self.bucket, object=self.object, builder=self.builder.email)


class Wait(Component):
    """One pause after the first run's grants, before anything that relies on them (first create only)."""

    kind = "Wait"

    def __init__(self, ctx: Context, grants: list[pulumi.Resource]) -> None:
        super().__init__("iam-propagation", ctx)
        import pulumiverse_time as time

        self.sleep = self.child(time.Sleep, "iam-propagation", create_duration=IAM_PROPAGATION, depends_on=grants)
        self.done(create_duration=IAM_PROPAGATION)


def build(ctx: Context, package: Package) -> dict[str, Any]:
    services = Services(ctx)
    ctx.depends_on = list(services.services)
    agents = Agents(ctx, services)
    Roles(ctx)
    comps: dict[str, Any] = {}
    ctx.shared["components"] = comps
    for res in ctx.app.resources.values():
        comps[res.name] = COMPONENTS[res.kind](res, ctx)
    code = Code(package, ctx, agents)
    ctx.shared["propagated"] = Wait(ctx, [*agents.grants, *code.grants]).sleep
    functions: dict[str, Function] = {}
    for fn in ctx.app.functions.values():
        fc = functions[fn.name] = Function(fn, ctx, code)
        source = comps[fn.trigger.source.name]
        if isinstance(source, (Queue, Topic)):
            source.attach(fc)
        elif isinstance(source, Bucket) and isinstance(fn.trigger, d.ObjectDeletedTrigger):
            source.notify(fc)
        elif isinstance(source, Api):
            source.route(fc)
        elif isinstance(source, Schedule):
            source.target(fc)
    for comp in [*comps.values(), code, *functions.values()]:
        comp.finish()
    return {
        "api_urls": {n: c.routes for n, c in comps.items() if isinstance(c, Api)},
        "resources": {n: c.physical for n, c in comps.items() if not isinstance(c, (Api, Schedule))},
        "functions": {n: f.function.name for n, f in functions.items()},
        "dead_letters": {n: f.dlq.id for n, f in functions.items() if f.dlq is not None},
        "code": code.object,
    }
