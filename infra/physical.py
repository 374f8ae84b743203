"""Every physical name a deployment of the app would use, per cloud, for checking before creating.

Components name things through ``Names`` too; the tests hold the two in step (a name here that
the program does not create, or the reverse, fails test_physical_names_match_what_is_created).
"""

from __future__ import annotations

from collections import Counter

from portside.app import App
from portside.declarations import (
    Api,
    Bucket,
    ObjectCreatedTrigger,
    ObjectDeletedTrigger,
    Queue,
    QueueTrigger,
    ScheduleTrigger,
    Table,
    Topic,
    TopicTrigger,
)
from portside.infra.naming import Names, problem

Named = tuple[str, str]  # (rule kind, physical name)


def aws_names(app: App, names: Names) -> list[Named]:
    out: list[Named] = [("aws:bucket", names.bucket("code"))]
    for r in app.resources.values():
        if isinstance(r, Queue):
            out += [("aws:sqs", names.fifo(names(r.name), r.fifo)), ("aws:sqs", names.fifo(names(r.name, "dlq"), r.fifo))]
        elif isinstance(r, Topic):
            out.append(("aws:sns", names(r.name)))
        elif isinstance(r, Table):
            out.append(("aws:dynamodb", names(r.name)))
        elif isinstance(r, Bucket):
            out.append(("aws:bucket", names.bucket(r.name)))
        elif isinstance(r, Api):
            out.append(("aws:api", names(r.name)))
    for fn in app.functions.values():
        t = fn.trigger
        out += [("aws:lambda", names(fn.name)), ("aws:role", names(fn.name))]
        if isinstance(t, (TopicTrigger, ObjectCreatedTrigger, ObjectDeletedTrigger)):
            out.append(("aws:sqs", names(t.source.name, fn.name)))
            if t.dead_letter:
                out.append(("aws:sqs", names(t.source.name, fn.name, "dlq")))
        if isinstance(t, ScheduleTrigger):
            out += [("aws:schedule", names(fn.name)), ("aws:role", names(fn.name, "sched"))]
            if t.dead_letter:
                out.append(("aws:sqs", names(fn.name, "dlq")))
    return out


def gcp_names(app: App, names: Names) -> list[Named]:
    out: list[Named] = [("gcp:bucket", names.bucket("code")), ("gcp:account", names.service_account("builder"))]
    for r in app.resources.values():
        if isinstance(r, (Queue, Topic)):
            out.append(("gcp:topic", names(r.name)))
            if isinstance(r, Queue) and not any(True for _ in app.consumers(r)):
                out.append(("gcp:subscription", names(r.name)))
        elif isinstance(r, Table):
            out.append(("gcp:firestore", names(r.name)))
        elif isinstance(r, Bucket):
            out.append(("gcp:bucket", names.bucket(r.name)))
    for fn in app.functions.values():
        t = fn.trigger
        out += [("gcp:function", names(fn.name)), ("gcp:account", names.service_account(fn.name))]
        if t.asynchronous and t.dead_letter:
            out += [("gcp:topic", names(fn.name, "dlq")), ("gcp:subscription", names(fn.name, "dlq"))]
        if isinstance(t, QueueTrigger):
            out.append(("gcp:subscription", names(t.source.name)))
        elif isinstance(t, TopicTrigger):
            out.append(("gcp:subscription", names(t.source.name, fn.name)))
        elif isinstance(t, ScheduleTrigger):
            out.append(("gcp:scheduler", names(fn.name)))
        elif isinstance(t, ObjectDeletedTrigger):  # a Cloud Storage notification pushed to the function
            out += [("gcp:topic", names(t.source.name, fn.name)), ("gcp:subscription", names(t.source.name, fn.name))]
    return out


def name_problems(named: list[Named]) -> list[str]:
    """Names a cloud rejects, and names two things would share (the second create would fail)."""
    out = [p for kind, name in dict.fromkeys(named) for p in [problem(kind, name)] if p]
    for (kind, name), n in Counter(named).items():
        if n > 1:
            out.append(f"name {name!r} would be used by {n} resources of the same kind on {kind.split(':')[0]} "
                       f"({kind.split(':')[1]}): rename one of the declarations")
    return out
