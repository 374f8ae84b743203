"""HTTP APIs (each route is an HTTP function) and schedules (Cloud Scheduler with OIDC)."""

from __future__ import annotations

import base64
import json

import pulumi
import pulumi_gcp as gcp

from portside.declarations import Api as ApiDecl
from portside.declarations import Schedule as ScheduleDecl
from portside.infra.component import Component, Context
from portside.infra.expressions import gcp_cron
from portside.infra.gcp.function import Function


class Api(Component):
    """Groups the HTTP functions of one api; its output maps each route to its function's URL."""

    kind = "Api"

    def __init__(self, decl: ApiDecl, ctx: Context) -> None:
        super().__init__(decl.name, ctx)
        self.routes: dict[str, pulumi.Output] = {}
        self.physical = pulumi.Output.from_input(ctx.names(decl.name))

    def route(self, fc: Function) -> None:
        t = fc.decl.trigger
        self.routes[f"{t.method} {t.path}"] = pulumi.Output.concat(fc.function.url, t.path)

    def finish(self) -> None:
        self.done(routes=self.routes)


class Schedule(Component):
    """One Cloud Scheduler job per consumer: cron in UTC, retries with backoff, OIDC to the function."""

    kind = "Schedule"

    def __init__(self, decl: ScheduleDecl, ctx: Context) -> None:
        super().__init__(decl.name, ctx)
        self.decl, self.cron = decl, gcp_cron(decl)
        self.physical = pulumi.Output.from_input(ctx.names(decl.name))
        self.jobs: dict[str, pulumi.Output] = {}

    def target(self, fc: Function) -> None:
        fn, t, s = fc.decl, fc.decl.trigger, self.ctx.settings
        body = base64.b64encode(json.dumps({"schedule": self.decl.name, "function": fn.name}).encode()).decode()
        job = self.child(
            gcp.cloudscheduler.Job, f"{fn.name}-job", name=self.ctx.names(fn.name), project=s.project, region=s.region,
            schedule=self.cron, time_zone="Etc/UTC", attempt_deadline=f"{min(1800, max(15, fn.timeout))}s",
            http_target={"uri": fc.function.url, "http_method": "POST", "body": body,
                         "headers": {"Content-Type": "application/json"},
                         "oidc_token": {"service_account_email": fc.account.email, "audience": fc.function.url}},
            retry_config={"retry_count": t.max_attempts - 1, "min_backoff_duration": f"{t.backoff.initial:g}s",
                          "max_backoff_duration": f"{t.backoff.maximum:g}s"},
            depends_on=[fc.invoker] if fc.invoker is not None else None)
        self.jobs[fn.name] = job.name

    def finish(self) -> None:
        self.done(cron=self.cron, jobs=self.jobs)
