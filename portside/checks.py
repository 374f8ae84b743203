"""Declarations checked against the clouds an app targets (docs/architecture.md, "Capabilities").

``App`` runs these as each resource and function is declared, for every cloud in
``app.clouds``, so the fake cloud, the local runtime and the tests meet a cloud's refusal where
the declaration is written; ``portside.infra`` runs ``problems`` for the cloud it plans. Both
raise the same ``CloudLimitError`` text. Options a cloud handles differently but safely (a
batch size on push delivery) are only warned about, and only by the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from portside.capabilities import Cloud, clouds_of
from portside.declarations import (
    Bucket,
    Function,
    HttpTrigger,
    ObjectCreatedTrigger,
    ObjectDeletedTrigger,
    QueueTrigger,
    Resource,
    Schedule,
    ScheduleTrigger,
    TopicTrigger,
)
from portside.errors import CloudLimitError

Warn = Callable[[str], None]


def _quiet(message: str) -> None:
    """Declaring is silent: warnings are the plan's to print."""


def where(fn: Function) -> str:
    return f"function {fn.name!r} ({fn.trigger})"


def resource_problems(resource: Resource, cloud: Cloud) -> list[str]:
    """What ``cloud`` refuses in one resource's own declaration (schedule expressions)."""
    if not isinstance(resource, Schedule):
        return []
    out = []
    if resource.cron:
        from portside.cron import Cron  # cron and expressions load only for what needs them

        cron = Cron(resource.cron)
        if not cloud.cron_both_days and not cron.dom_any and not cron.dow_any:
            out.append(f"schedule {resource.name!r}: cron={resource.cron!r} on {cloud.name} sets both day-of-month "
                       "and day-of-week; EventBridge Scheduler allows only one of them (the other must be '*')")
        if not cloud.cron_extensions and cron.extensions:
            out.append(f"schedule {resource.name!r}: cron={resource.cron!r} on {cloud.name} uses "
                       f"{', '.join(repr(x) for x in cron.extensions)}, which Cloud Scheduler's unix-cron does not "
                       "support (use numbers, names, ranges, lists, steps and '*')")
    elif not cloud.rate_any:
        from portside.expressions import gcp_cron

        try:
            gcp_cron(resource)
        except CloudLimitError as e:
            out.append(str(e))
    return out


def function_problems(fn: Function, cloud: Cloud, warn: Warn = _quiet) -> list[str]:
    """What ``cloud`` refuses in one function's options and its trigger's delivery options."""
    out: list[str] = []
    t, c = fn.trigger, cloud.name
    http = isinstance(t, HttpTrigger)
    limit = cloud.http_timeout if http else cloud.timeout
    if fn.timeout > limit:
        if c == "aws":
            out.append(f"{where(fn)}: timeout={fn.timeout} on aws exceeds Lambda's limit of {limit} s")
        else:
            out.append(f"{where(fn)}: timeout={fn.timeout} on gcp exceeds Cloud Functions' limit of {limit} s "
                       f"for {'HTTP' if http else 'event-driven'} functions")
    if http and cloud.http_gateway_timeout and fn.timeout > cloud.http_gateway_timeout:
        warn(f"{where(fn)}: timeout={fn.timeout} on {c}: API Gateway HTTP APIs answer within "
             f"{cloud.http_gateway_timeout} s, so callers see a 503 after that while the function runs on")
    if fn.memory > cloud.memory:
        out.append(f"{where(fn)}: memory={fn.memory} on {c} exceeds "
                   f"{'Lambda' if c == 'aws' else 'Cloud Functions'}'s limit of {cloud.memory} MB")
    if isinstance(t, (QueueTrigger, TopicTrigger, ObjectCreatedTrigger, ObjectDeletedTrigger)):
        if cloud.max_receives is not None and t.max_attempts > cloud.max_receives:
            out.append(f"{where(fn)}: max_attempts={t.max_attempts} on {c} exceeds SQS maxReceiveCount "
                       f"limit of {cloud.max_receives}")
        fifo = isinstance(t, QueueTrigger) and t.source.fifo  # type: ignore[attr-defined]
        if fifo and cloud.fifo_batch is not None and t.batch_size > cloud.fifo_batch:
            out.append(f"{where(fn)}: batch_size={t.batch_size} on {c} exceeds the SQS FIFO limit of "
                       f"{cloud.fifo_batch} messages per batch")
    if isinstance(t, (QueueTrigger, TopicTrigger)) and c == "gcp":
        lo, hi = cloud.dead_letter_attempts
        if t.dead_letter and not lo <= t.max_attempts <= hi:
            out.append(f"{where(fn)}: max_attempts={t.max_attempts} on gcp is outside Pub/Sub's dead-letter "
                       f"max_delivery_attempts range {lo}-{hi}")
        if cloud.max_backoff is not None and t.backoff.maximum > cloud.max_backoff:
            out.append(f"{where(fn)}: backoff maximum={t.backoff.maximum:g} s on gcp exceeds Pub/Sub's retry "
                       f"policy limit of {cloud.max_backoff} s")
        if cloud.push_batch is not None and t.batch_size > cloud.push_batch:
            warn(f"{where(fn)}: batch_size={t.batch_size} on gcp: Pub/Sub push delivers one message per "
                 "request, so the function receives batches of 1")
        if isinstance(t, QueueTrigger) and t.source.fifo:  # type: ignore[attr-defined]
            warn(f"{where(fn)}: fifo queue on gcp: ordering is per ordering key (Pub/Sub message ordering)")
    if isinstance(t, ObjectDeletedTrigger) and c == "gcp" and t.dead_letter:
        lo, hi = cloud.dead_letter_attempts
        if not lo <= t.max_attempts <= hi:
            warn(f"{where(fn)}: max_attempts={t.max_attempts} on gcp: deletions arrive by Pub/Sub push, whose "
                 f"dead-letter policy allows {lo}-{hi} delivery attempts, so the event is tried "
                 f"{min(hi, max(lo, t.max_attempts))} times")
    if isinstance(t, TopicTrigger) and cloud.filter_bytes is not None and t.filter:
        from portside.expressions import pubsub_filter

        size = len(pubsub_filter(t.filter).encode())  # type: ignore[arg-type]
        if size > cloud.filter_bytes:
            out.append(f"{where(fn)}: filter={dict(t.filter)!r} on {c} is {size} bytes as a Pub/Sub filter; "
                       f"the limit is {cloud.filter_bytes} bytes")
    if isinstance(t, ScheduleTrigger) and t.max_attempts > cloud.schedule_attempts:
        n = cloud.schedule_attempts
        if c == "aws":
            out.append(f"{where(fn)}: max_attempts={t.max_attempts} on aws exceeds asynchronous Lambda "
                       f"invocation's limit of {n} attempts (0-{n - 1} retries)")
        else:
            out.append(f"{where(fn)}: max_attempts={t.max_attempts} on gcp exceeds Cloud Scheduler's limit of "
                       f"{n} attempts (retry_count 0-{n - 1})")
    return out


def bucket_problems(bucket: Bucket, consumers: list[Function], cloud: Cloud) -> list[str]:
    """What ``cloud`` refuses in the object triggers of one bucket, taken together."""
    if cloud.bucket_notifications is not None:
        if len(consumers) > cloud.bucket_notifications:
            return [f"bucket {bucket.name!r}: {len(consumers)} object triggers on {cloud.name} exceed Cloud Storage's "
                    f"limit of {cloud.bucket_notifications} notification configurations per bucket"]
        return []
    out = []  # S3 rejects two notification configurations of one event type whose filters overlap
    for i, a in enumerate(consumers):
        for b in consumers[i + 1:]:
            ta, tb = a.trigger, b.trigger
            if type(ta) is type(tb) and _nested(ta.prefix, tb.prefix, str.startswith) \
                    and _nested(ta.suffix, tb.suffix, str.endswith):  # type: ignore[attr-defined]
                out.append(f"bucket {bucket.name!r}: functions {a.name!r} and {b.name!r} both take {ta.kind} events "
                           f"with overlapping filters (prefix {ta.prefix!r}/{tb.prefix!r}, suffix "  # type: ignore[attr-defined]
                           f"{ta.suffix!r}/{tb.suffix!r}); on {cloud.name}, S3 rejects overlapping notification "  # type: ignore[attr-defined]
                           "configurations: make the filters disjoint, or fan out through a topic")
    return out


def _nested(x: str, y: str, test: Callable[[str, str], bool]) -> bool:
    return test(x, y) or test(y, x)


def problems(app: object, cloud: Cloud | str, warn: Warn = _quiet) -> list[str]:
    """Everything ``cloud`` refuses in the whole app (what ``portside.infra.plan`` reports)."""
    c = clouds_of((cloud,))[0] if isinstance(cloud, str) else cloud
    resources, functions = app.resources.values(), list(app.functions.values())  # type: ignore[attr-defined]
    out = [p for r in resources for p in resource_problems(r, c)]
    out += [p for fn in functions for p in function_problems(fn, c, warn)]
    for bucket in (r for r in resources if isinstance(r, Bucket)):
        out += bucket_problems(bucket, [f for f in functions if f.trigger.source is bucket], c)
    return out


def refuse(app_name: str, found: Iterable[tuple[str, list[str]]]) -> None:
    """Raise one CloudLimitError for every cloud with problems, as ``portside.infra.plan`` words it."""
    text = "\n".join(f"app {app_name!r} cannot be deployed to {cloud}:\n  - " + "\n  - ".join(p)
                     for cloud, p in found if p)
    if text:
        raise CloudLimitError(text)


def declared(app: object, declaration: Resource | Function) -> None:
    """Check one new declaration of ``app`` for every cloud it targets (``App`` calls this before
    registering it, so a refused declaration leaves the app as it was)."""
    clouds = clouds_of(app.clouds)  # type: ignore[attr-defined]
    name: str = app.name  # type: ignore[attr-defined]
    if isinstance(declaration, Schedule) and declaration.cron:
        from portside.cron import Cron

        Cron(declaration.cron)  # what no cloud schedules (a minute of 61) fails whatever the clouds
    if isinstance(declaration, Resource):
        refuse(name, [(c.name, resource_problems(declaration, c)) for c in clouds])
        return
    found = []
    bucket = declaration.trigger.source
    for c in clouds:
        p = function_problems(declaration, c)
        if isinstance(bucket, Bucket):
            consumers = [f for f in app.functions.values() if f.trigger.source is bucket]  # type: ignore[attr-defined]
            p += bucket_problems(bucket, consumers + [declaration], c)
        found.append((c.name, p))
    refuse(name, found)
