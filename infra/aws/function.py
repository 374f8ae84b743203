"""Lambda: one role per function, an inline policy of exact actions on exact ARNs, log group."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from portside import deployment as env
from portside.declarations import Function as FunctionDecl
from portside.declarations import ScheduleTrigger
from portside.infra.aws.queues import QueuePair
from portside.infra.component import Component, Context
from portside.infra.grants import AWS_ACTIONS, AWS_DLQ_SEND, AWS_LOGS, AWS_SQS_CONSUME
from portside.infra.naming import sid
from portside.infra.package import PYTHON

RUNTIME = f"python{PYTHON}"
ASYNC_MAX_AGE = 6 * 3600  # the Lambda maximum for asynchronous events


def assume(service: str, account: pulumi.Input[str] | None = None) -> pulumi.Output[str]:
    """A trust policy for ``service``; with ``account``, only on behalf of that account (aws:SourceAccount)."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [statement]})


class Function(Component):
    kind = "Function"

    def __init__(self, fn: FunctionDecl, ctx: Context, inbox: QueuePair | None, code: Any) -> None:
        super().__init__(fn.name, ctx)
        self.decl, physical = fn, ctx.names(fn.name)
        registry = ctx.shared["components"]
        self.log_group = self.child(aws.cloudwatch.LogGroup, f"{fn.name}-logs", name=f"/aws/lambda/{physical}",
                                    retention_in_days=ctx.settings.log_retention_days)
        self.role = self.child(aws.iam.Role, f"{fn.name}-role", name=physical,
                               assume_role_policy=assume("lambda.amazonaws.com"),
                               description=f"portside function {fn.name} ({fn.handler})")
        self.dlq = inbox.dlq if inbox else None
        if isinstance(fn.trigger, ScheduleTrigger) and fn.trigger.dead_letter:
            self.dlq = self.child(aws.sqs.Queue, f"{fn.name}-dlq", name=ctx.names(fn.name, "dlq"),
                                  sqs_managed_sse_enabled=True, message_retention_seconds=14 * 24 * 3600)
        visible = {u.resource.name for u in fn.uses} | {fn.trigger.source.name}
        variables: dict[str, Any] = {
            env.APP: ctx.settings.app_spec, env.FUNCTION: fn.name,
            env.RESOURCES: pulumi.Output.json_dumps({n: registry[n].physical for n in sorted(visible)}),
        }
        if self.dlq is not None:
            variables[env.DLQ_URL] = self.dlq.url
        self.policy_document = pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": self.statements(inbox)})
        self.policy = self.child(aws.iam.RolePolicy, f"{fn.name}-policy", role=self.role.id, policy=self.policy_document)
        self.function = self.child(
            aws.lambda_.Function, fn.name, name=physical, runtime=RUNTIME, architectures=[ctx.settings.aws_architecture],
            handler=env.AWS_HANDLER, role=self.role.arn, s3_bucket=code.bucket, s3_key=code.key,
            timeout=fn.timeout, memory_size=fn.memory, reserved_concurrent_executions=fn.concurrency,
            layers=self.layers(code) or None,
            environment={"variables": variables},
            logging_config={"log_format": "JSON", "log_group": self.log_group.name},
            tags={"portside:function": fn.name}, depends_on=[self.policy, self.log_group])
        self.arn = self.function.arn
        if inbox is not None:
            t = fn.trigger
            self.child(aws.lambda_.EventSourceMapping, f"{fn.name}-source", event_source_arn=inbox.queue.arn,
                       function_name=self.function.arn, batch_size=t.batch_size,
                       maximum_batching_window_in_seconds=1 if t.batch_size > 10 else None,
                       function_response_types=["ReportBatchItemFailures"])
        if isinstance(fn.trigger, ScheduleTrigger):
            # asynchronous invocations: retries within Lambda's 0-2, then the on-failure destination
            self.child(aws.lambda_.FunctionEventInvokeConfig, f"{fn.name}-async", function_name=self.function.name,
                       maximum_retry_attempts=fn.trigger.max_attempts - 1, maximum_event_age_in_seconds=ASYNC_MAX_AGE,
                       destination_config={"on_failure": {"destination": self.dlq.arn}} if self.dlq else None)

    def layers(self, code: Any) -> list[Any]:
        """The app's dependency layer if this function imports any of its packages, then app:awsLayers."""
        deps = self.ctx.shared.get("deps")
        own = [code.layer.arn] if code.layer is not None and deps is not None and deps.needs.get(self.decl.name) else []
        return [*own, *self.ctx.settings.aws_layers]

    def statements(self, inbox: QueuePair | None) -> list[dict[str, Any]]:
        """Exact actions on exact ARNs: the declared uses, the trigger's needs, its own logs."""
        registry = self.ctx.shared["components"]
        out: list[dict[str, Any]] = []
        for use in self.decl.uses:
            comp = registry[use.resource.name]
            for actions, suffix in AWS_ACTIONS[(use.resource.kind, use.access)]:
                out.append({"Sid": sid(f"{use.access} {use.resource.name} {'objects' if suffix else ''}"),
                            "Effect": "Allow", "Action": list(actions),
                            "Resource": pulumi.Output.concat(comp.arn, suffix)})
        if inbox is not None:
            out.append({"Sid": "ConsumeTrigger", "Effect": "Allow", "Action": list(AWS_SQS_CONSUME),
                        "Resource": inbox.queue.arn})
        if self.dlq is not None:
            out.append({"Sid": "DeadLetter", "Effect": "Allow", "Action": list(AWS_DLQ_SEND), "Resource": self.dlq.arn})
        out.append({"Sid": "OwnLogs", "Effect": "Allow", "Action": list(AWS_LOGS),
                    "Resource": pulumi.Output.concat(self.log_group.arn, ":log-stream:*")})
        return out

    def finish(self) -> None:
        self.done(name=self.function.name, arn=self.function.arn, role=self.role.arn,
                  dlq_url=self.dlq.url if self.dlq is not None else None)
