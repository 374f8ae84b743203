"""HTTP APIs (API Gateway HTTP API, Lambda proxy v2.0) and schedules (EventBridge Scheduler)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from portside import deployment
from portside.declarations import Api as ApiDecl
from portside.declarations import Schedule as ScheduleDecl
from portside.infra.aws.function import Function, assume
from portside.infra.component import Component, Context
from portside.infra.expressions import aws_expression

SCHEDULER_MAX_AGE = 24 * 3600


class Api(Component):
    """One HTTP API per declared api; each route integrates its function (payload format 2.0)."""

    kind = "Api"

    def __init__(self, decl: ApiDecl, ctx: Context) -> None:
        super().__init__(decl.name, ctx)
        self.decl = decl
        self.api = self.child(aws.apigatewayv2.Api, decl.name, name=ctx.names(decl.name), protocol_type="HTTP",
                              tags={"portside:resource": decl.name})
        self.arn, self.physical = self.api.arn, self.api.api_endpoint

    def route(self, fc: Function) -> None:
        t, name = fc.decl.trigger, fc.decl.name
        integration = self.child(aws.apigatewayv2.Integration, f"{name}-integration", api_id=self.api.id,
                                 integration_type="AWS_PROXY", integration_uri=fc.function.arn,
                                 payload_format_version="2.0", timeout_milliseconds=min(30000, fc.decl.timeout * 1000))
        # a private route takes only SigV4-signed calls from principals allowed execute-api:Invoke on it
        # (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html)
        self.child(aws.apigatewayv2.Route, f"{name}-route", api_id=self.api.id, route_key=f"{t.method} {t.path}",
                   target=pulumi.Output.concat("integrations/", integration.id),
                   authorization_type="AWS_IAM" if t.private else "NONE")
        # only this API, this method and path may invoke the function
        path = "/".join("*" if p.startswith("{") else p for p in t.path.split("/"))
        method = "*" if t.method == "ANY" else t.method
        self.child(aws.lambda_.Permission, f"{name}-invoke", action="lambda:InvokeFunction",
                   function=fc.function.name, principal="apigateway.amazonaws.com",
                   source_arn=pulumi.Output.concat(self.api.execution_arn, f"/*/{method}{path}"))

    def finish(self) -> None:
        # without stage limits every route shares the account's regional quota, so one busy or abused
        # route can starve every API in the account (docs: apigateway/latest/developerguide/http-api-throttling)
        s = self.ctx.settings
        self.child(aws.apigatewayv2.Stage, f"{self.decl.name}-stage", api_id=self.api.id, name="$default",
                   auto_deploy=True, default_route_settings={"throttling_rate_limit": s.api_rate_limit,
                                                             "throttling_burst_limit": s.api_burst_limit})
        self.done(url=self.api.api_endpoint, id=self.api.id)


class Schedule(Component):
    """EventBridge Scheduler: one schedule per consumer, retry policy, DLQ, a role that may invoke it."""

    kind = "Schedule"

    def __init__(self, decl: ScheduleDecl, ctx: Context) -> None:
        super().__init__(decl.name, ctx)
        self.decl, self.expression = decl, aws_expression(decl)
        self.arn = self.physical = pulumi.Output.from_input(ctx.names(decl.name))
        self.schedules: dict[str, pulumi.Output] = {}

    def target(self, fc: Function) -> None:
        fn, t = fc.decl, fc.decl.trigger
        statements = [{"Sid": "InvokeTarget", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                       "Resource": fc.function.arn}]
        if fc.dlq is not None:
            statements.append({"Sid": "DeadLetter", "Effect": "Allow", "Action": ["sqs:SendMessage"],
                               "Resource": fc.dlq.arn})
        # only schedules of this account may assume the role (the confused-deputy guard the Scheduler guide's
        # execution role shows: docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role)
        role = self.child(aws.iam.Role, f"{fn.name}-scheduler-role", name=self.ctx.names(fn.name, "sched"),
                          assume_role_policy=assume("scheduler.amazonaws.com", account=self.ctx.shared["account"]))
        policy = self.child(aws.iam.RolePolicy, f"{fn.name}-scheduler-policy", role=role.id,
                            policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}))
        sched = self.child(
            aws.scheduler.Schedule, f"{fn.name}-schedule", name=self.ctx.names(fn.name),
            schedule_expression=self.expression, schedule_expression_timezone="UTC",
            flexible_time_window={"mode": "OFF"},
            target={"arn": fc.function.arn, "role_arn": role.arn,
                    "input": deployment.SCHEDULER_INPUT % {"schedule": self.decl.name, "function": fn.name},
                    "retry_policy": {"maximum_retry_attempts": t.max_attempts - 1,
                                     "maximum_event_age_in_seconds": SCHEDULER_MAX_AGE},
                    "dead_letter_config": {"arn": fc.dlq.arn} if fc.dlq is not None else None},
            depends_on=[policy])
        self.schedules[fn.name] = sched.name

    def finish(self) -> None:
        self.done(expression=self.expression, schedules=self.schedules)
