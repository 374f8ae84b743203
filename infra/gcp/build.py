"""Assemble the GCP components: APIs, resources, code, functions, then their triggers."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from portside import declarations as d
from portside.infra.component import Component, Context
from portside.infra.gcp.edge import Api, Schedule
from portside.infra.gcp.function import Function
from portside.infra.gcp.messaging import Queue, Topic
from portside.infra.gcp.storage import Bucket, Table
from portside.infra.package import Package

COMPONENTS = {"bucket": Bucket, "table": Table, "queue": Queue, "topic": Topic, "api": Api, "schedule": Schedule}
BASE_APIS = ("cloudfunctions", "run", "cloudbuild", "artifactregistry", "storage", "iam", "pubsub")
KIND_APIS = {"bucket": "eventarc", "table": "firestore", "schedule": "cloudscheduler"}


class Services(Component):
    """The Google APIs this app needs, enabled (and left enabled on destroy)."""

    kind = "Services"

    def __init__(self, ctx: Context) -> None:
        super().__init__("apis", ctx)
        kinds = {x.kind for x in ctx.app.resources.values()}
        wanted = sorted(set(BASE_APIS) | {api for kind, api in KIND_APIS.items() if kind in kinds})
        self.services = [self.child(gcp.projects.Service, f"api-{a}", project=ctx.settings.project,
                                    service=f"{a}.googleapis.com", disable_on_destroy=False) for a in wanted]
        self.done(services=[f"{a}.googleapis.com" for a in wanted])


class Agents(Component):
    """What Google's own service agents need: Cloud Storage publishes the Eventarc events."""

    kind = "ServiceAgents"

    def __init__(self, ctx: Context) -> None:
        super().__init__("service-agents", ctx)
        s = ctx.settings
        number = gcp.organizations.get_project_output(project_id=s.project).number
        ctx.shared["pubsub_agent"] = pulumi.Output.concat(
            "serviceAccount:service-", number, "@gcp-sa-pubsub.iam.gserviceaccount.com")
        if any(isinstance(x, d.Bucket) and any(True for _ in ctx.app.consumers(x)) for x in ctx.app.resources.values()):
            gcs = gcp.storage.get_project_service_account_output(project=s.project)
            self.child(gcp.projects.IAMMember, "storage-agent-publisher", project=s.project,
                       role="roles/pubsub.publisher", member=pulumi.Output.concat("serviceAccount:", gcs.email_address))
        self.done()


BUILDER_ROLES = ("roles/logging.logWriter", "roles/artifactregistry.writer")


class Code(Component):
    """The function source (one archive per content hash, private bucket) and the account that builds it.

    Cloud Functions builds with Cloud Build; new projects no longer give the default compute account
    the rights, so a dedicated builder gets logs, the artifact registry, and read on the source bucket.
    """

    kind = "Code"

    def __init__(self, package: Package, ctx: Context) -> None:
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
        self.grants = [self.child(gcp.storage.BucketIAMMember, "builder-reads-code", bucket=self.bucket,
                                  role="roles/storage.objectViewer", member=member)]
        self.grants += [self.child(gcp.projects.IAMMember, f"builder-{role.split('.')[-1].lower()}", project=s.project,
                                   role=role, member=member) for role in BUILDER_ROLES]

    def finish(self) -> None:
        self.done(bucket=self.bucket, object=self.object, builder=self.builder.email)


def build(ctx: Context, package: Package) -> dict[str, Any]:
    services = Services(ctx)
    ctx.depends_on = list(services.services)
    Agents(ctx)
    comps: dict[str, Any] = {}
    ctx.shared["components"] = comps
    for res in ctx.app.resources.values():
        comps[res.name] = COMPONENTS[res.kind](res, ctx)
    code = Code(package, ctx)
    functions: dict[str, Function] = {}
    for fn in ctx.app.functions.values():
        fc = functions[fn.name] = Function(fn, ctx, code)
        source = comps[fn.trigger.source.name]
        if isinstance(source, (Queue, Topic)):
            source.attach(fc)
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
