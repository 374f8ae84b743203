"""Pub/Sub: a topic per queue or topic, one push subscription per consumer with its dead letter."""

from __future__ import annotations

from typing import Any, Protocol

import pulumi
import pulumi_gcp as gcp

from portside.declarations import Function, Resource, TopicTrigger
from portside.declarations import Queue as QueueDecl
from portside.infra.checks import PUBSUB_ACK_DEADLINE, PUBSUB_ATTEMPTS
from portside.infra.component import Component, Context
from portside.infra.expressions import pubsub_filter

RETENTION = "604800s"  # 7 days, the Pub/Sub maximum for subscriptions


class PushTarget(Protocol):
    """What a subscription pushes to: a deployed function (``infra.gcp.function.Function``)."""

    decl: Function
    function: Any  # gcp.cloudfunctionsv2.Function
    account: Any  # gcp.serviceaccount.Account
    dlq: Any  # gcp.pubsub.Topic | None
    invoker: Any  # the IAM binding pushes need | None


class Channel(Component):
    """A declared queue or topic: one Pub/Sub topic; consumers attach push subscriptions."""

    def __init__(self, decl: Resource, ctx: Context) -> None:
        super().__init__(decl.name, ctx)
        self.decl = decl
        self.topic = self.child(gcp.pubsub.Topic, decl.name, name=ctx.names(decl.name), project=ctx.settings.project,
                                labels={"portside-resource": decl.name})
        self.physical = self.topic.id
        self.subscriptions: dict[str, pulumi.Output] = {}

    def attach(self, fc: PushTarget) -> None:
        """Push to ``fc`` with an OIDC token; retry with backoff; dead-letter after max_attempts."""
        fn, t = fc.decl, fc.decl.trigger
        name = self.decl.name if isinstance(self.decl, QueueDecl) else f"{self.decl.name}-{fn.name}"
        self.subscriptions[fn.name] = push_subscription(
            self, name, self.topic, fc, filter=pubsub_filter(t.filter) if isinstance(t, TopicTrigger) and t.filter else None,
            ordered=bool(getattr(self.decl, "fifo", False)))

    def finish(self) -> None:
        if isinstance(self.decl, QueueDecl) and not self.subscriptions:
            # a queue whose consumer lives elsewhere: a topic alone would drop what is sent to it
            sub = self.child(gcp.pubsub.Subscription, f"{self.decl.name}-retained", name=self.ctx.names(self.decl.name),
                             project=self.ctx.settings.project, topic=self.topic.id,
                             message_retention_duration=RETENTION, expiration_policy={"ttl": ""})
            self.subscriptions["(pull)"] = sub.name
        self.done(topic=self.topic.id, subscriptions=self.subscriptions)


def push_subscription(owner: Component, name: str, topic: Any, fc: PushTarget, *, filter: str | None = None,
                      ordered: bool = False) -> pulumi.Output:
    """Subscription ``name`` on ``topic`` pushing to ``fc`` with an OIDC token, retried with the trigger's
    backoff and dead-lettered after its max_attempts (the Pub/Sub agent is granted what that needs)."""
    fn, t, project = fc.decl, fc.decl.trigger, owner.ctx.settings.project
    agent = owner.ctx.shared["pubsub_agent"]
    sub = owner.child(
        gcp.pubsub.Subscription, name, name=owner.ctx.names(name), project=project,
        topic=topic.id, ack_deadline_seconds=min(PUBSUB_ACK_DEADLINE, max(10, fn.timeout)),
        push_config={"push_endpoint": fc.function.url,
                     "oidc_token": {"service_account_email": fc.account.email, "audience": fc.function.url}},
        retry_policy={"minimum_backoff": f"{t.backoff.initial:g}s", "maximum_backoff": f"{t.backoff.maximum:g}s"},
        # the checks keep queue and topic triggers within Pub/Sub's 5-100; a deletion trigger below 5 is
        # raised to 5 (with a warning from the checks), since its event carries no attempt count of its own
        dead_letter_policy=({"dead_letter_topic": fc.dlq.id,
                             "max_delivery_attempts": min(PUBSUB_ATTEMPTS[1], max(PUBSUB_ATTEMPTS[0], t.max_attempts))}
                            if fc.dlq is not None else None),
        filter=filter, enable_message_ordering=ordered or None,
        message_retention_duration=RETENTION, expiration_policy={"ttl": ""},
        depends_on=[fc.invoker] if fc.invoker is not None else None)
    if fc.dlq is not None:
        # the Pub/Sub service agent moves dead letters: it reads this subscription, publishes to the DLQ
        owner.child(gcp.pubsub.SubscriptionIAMMember, f"{name}-agent-subscriber", project=project,
                    subscription=sub.name, role="roles/pubsub.subscriber", member=agent)
        owner.child(gcp.pubsub.TopicIAMMember, f"{name}-agent-publisher", project=project,
                    topic=fc.dlq.name, role="roles/pubsub.publisher", member=agent)
    return sub.name


class Queue(Channel):
    kind = "Queue"


class Topic(Channel):
    kind = "Topic"
