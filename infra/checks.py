"""Model-level checks: declarations a cloud cannot honour fail before any resource is registered.

Each message names the option, the value, the cloud and its limit. Options a cloud handles
differently but safely (a batch size on push delivery) are clamped with a warning instead.
"""

from __future__ import annotations

from collections.abc import Callable

from portside.infra.expressions import CloudLimitError, gcp_cron, pubsub_filter

__all__ = ["CloudLimitError", "check"]
from portside.app import App
from portside.declarations import (
    Bucket,
    Function,
    HttpTrigger,
    ObjectCreatedTrigger,
    ObjectDeletedTrigger,
    QueueTrigger,
    Schedule,
    ScheduleTrigger,
    TopicTrigger,
)
from portside.infra.naming import Names
from portside.infra.physical import aws_names, gcp_names, name_problems

AWS_ASYNC_RETRIES = 2  # Lambda asynchronous invocations: 0-2 retries
SQS_MAX_RECEIVE = 1000
SQS_FIFO_BATCH = 10
LAMBDA_TIMEOUT = 900
LAMBDA_MEMORY = 10240
API_GATEWAY_TIMEOUT = 30
PUBSUB_ATTEMPTS = (5, 100)
PUBSUB_BACKOFF = 600  # seconds, both minimum and maximum backoff
PUBSUB_ACK_DEADLINE = 600
GCF_EVENT_TIMEOUT = 540
GCF_HTTP_TIMEOUT = 3600
SCHEDULER_RETRIES = 5  # Cloud Scheduler retry_count 0-5
FILTER_BYTES = 256
GCS_NOTIFICATIONS = 10


def where(fn: Function) -> str:
    return f"function {fn.name!r} ({fn.trigger})"


def aws_problems(app: App, names: Names, warn: Callable[[str], None]) -> list[str]:
    out: list[str] = []
    for fn in app.functions.values():
        t = fn.trigger
        if fn.timeout > LAMBDA_TIMEOUT:
            out.append(f"{where(fn)}: timeout={fn.timeout} on aws exceeds Lambda's limit of {LAMBDA_TIMEOUT} s")
        if isinstance(t, HttpTrigger) and fn.timeout > API_GATEWAY_TIMEOUT:
            warn(f"{where(fn)}: timeout={fn.timeout} on aws: API Gateway HTTP APIs answer within "
                 f"{API_GATEWAY_TIMEOUT} s, so callers see a 503 after that while the function runs on")
        if fn.memory > LAMBDA_MEMORY:
            out.append(f"{where(fn)}: memory={fn.memory} on aws exceeds Lambda's limit of {LAMBDA_MEMORY} MB")
        if isinstance(t, (QueueTrigger, TopicTrigger, ObjectCreatedTrigger, ObjectDeletedTrigger)):
            if t.max_attempts > SQS_MAX_RECEIVE:
                out.append(f"{where(fn)}: max_attempts={t.max_attempts} on aws exceeds SQS maxReceiveCount "
                           f"limit of {SQS_MAX_RECEIVE}")
            fifo = isinstance(t, QueueTrigger) and t.source.fifo
            if fifo and t.batch_size > SQS_FIFO_BATCH:
                out.append(f"{where(fn)}: batch_size={t.batch_size} on aws exceeds the SQS FIFO limit of "
                           f"{SQS_FIFO_BATCH} messages per batch")
        if isinstance(t, ScheduleTrigger):
            if t.max_attempts - 1 > AWS_ASYNC_RETRIES:
                out.append(f"{where(fn)}: max_attempts={t.max_attempts} on aws exceeds asynchronous Lambda "
                           f"invocation's limit of {AWS_ASYNC_RETRIES + 1} attempts (0-{AWS_ASYNC_RETRIES} retries)")
    out += s3_overlaps(app)
    for s in app.of_kind(Schedule):
        if s.cron:
            dom, dow = s.cron.split()[2], s.cron.split()[4]
            if dom not in ("*", "?") and dow not in ("*", "?"):
                out.append(f"schedule {s.name!r}: cron={s.cron!r} on aws sets both day-of-month and day-of-week; "
                           "EventBridge Scheduler allows only one of them (the other must be '*')")
    return out + name_problems(aws_names(app, names))


def s3_overlaps(app: App) -> list[str]:
    """S3 rejects two notification configurations of one event type whose prefix and suffix overlap."""
    out = []
    for bucket in app.of_kind(Bucket):
        triggers = [f for f in app.consumers(bucket)]
        for i, a in enumerate(triggers):
            for b in triggers[i + 1:]:
                ta, tb = a.trigger, b.trigger
                if type(ta) is type(tb) and _nested(ta.prefix, tb.prefix, str.startswith) \
                        and _nested(ta.suffix, tb.suffix, str.endswith):
                    out.append(f"bucket {bucket.name!r}: functions {a.name!r} and {b.name!r} both take {ta.kind} events "
                               f"with overlapping filters (prefix {ta.prefix!r}/{tb.prefix!r}, suffix {ta.suffix!r}/"
                               f"{tb.suffix!r}); on aws, S3 rejects overlapping notification configurations: "
                               "make the filters disjoint, or fan out through a topic")
    return out


def _nested(x: str, y: str, test: Callable[[str, str], bool]) -> bool:
    return test(x, y) or test(y, x)


def lo_hi(attempts: int) -> bool:
    return PUBSUB_ATTEMPTS[0] <= attempts <= PUBSUB_ATTEMPTS[1]


def gcp_problems(app: App, names: Names, warn: Callable[[str], None]) -> list[str]:
    out: list[str] = []
    for fn in app.functions.values():
        t = fn.trigger
        limit = GCF_HTTP_TIMEOUT if isinstance(t, HttpTrigger) else GCF_EVENT_TIMEOUT
        if fn.timeout > limit:
            out.append(f"{where(fn)}: timeout={fn.timeout} on gcp exceeds Cloud Functions' limit of {limit} s "
                       f"for {'HTTP' if limit == GCF_HTTP_TIMEOUT else 'event-driven'} functions")
        if isinstance(t, (QueueTrigger, TopicTrigger)):
            lo, hi = PUBSUB_ATTEMPTS
            if t.dead_letter and not lo <= t.max_attempts <= hi:
                out.append(f"{where(fn)}: max_attempts={t.max_attempts} on gcp is outside Pub/Sub's dead-letter "
                           f"max_delivery_attempts range {lo}-{hi}")
            if t.backoff.maximum > PUBSUB_BACKOFF:
                out.append(f"{where(fn)}: backoff maximum={t.backoff.maximum:g} s on gcp exceeds Pub/Sub's retry "
                           f"policy limit of {PUBSUB_BACKOFF} s")
            if t.batch_size > 1:
                warn(f"{where(fn)}: batch_size={t.batch_size} on gcp: Pub/Sub push delivers one message per "
                     "request, so the function receives batches of 1")
            if isinstance(t, QueueTrigger) and t.source.fifo:
                warn(f"{where(fn)}: fifo queue on gcp: ordering is per ordering key (Pub/Sub message ordering)")
        if isinstance(t, ObjectDeletedTrigger) and t.dead_letter and not lo_hi(t.max_attempts):
            warn(f"{where(fn)}: max_attempts={t.max_attempts} on gcp: deletions arrive by Pub/Sub push, whose "
                 f"dead-letter policy allows {PUBSUB_ATTEMPTS[0]}-{PUBSUB_ATTEMPTS[1]} delivery attempts, so the "
                 f"event is tried {min(PUBSUB_ATTEMPTS[1], max(PUBSUB_ATTEMPTS[0], t.max_attempts))} times")
        if isinstance(t, TopicTrigger):
            size = len(pubsub_filter(t.filter).encode())
            if size > FILTER_BYTES:
                out.append(f"{where(fn)}: filter={dict(t.filter)!r} on gcp is {size} bytes as a Pub/Sub filter; "
                           f"the limit is {FILTER_BYTES} bytes")
        if isinstance(t, ScheduleTrigger):
            if t.max_attempts - 1 > SCHEDULER_RETRIES:
                out.append(f"{where(fn)}: max_attempts={t.max_attempts} on gcp exceeds Cloud Scheduler's limit of "
                           f"{SCHEDULER_RETRIES + 1} attempts (retry_count 0-{SCHEDULER_RETRIES})")
            try:
                gcp_cron(t.source)
            except CloudLimitError as e:
                out.append(str(e))
    for r in app.of_kind(Bucket):
        n = sum(1 for _ in app.consumers(r))
        if n > GCS_NOTIFICATIONS:
            out.append(f"bucket {r.name!r}: {n} object triggers on gcp exceed Cloud Storage's limit of "
                       f"{GCS_NOTIFICATIONS} notification configurations per bucket")
    return out + name_problems(gcp_names(app, names))


def check(app: App, cloud: str, names: Names, warn: Callable[[str], None]) -> None:
    """Raise one CloudLimitError listing every problem, before any resource exists."""
    problems = (aws_problems if cloud == "aws" else gcp_problems)(app, names, warn)
    if problems:
        raise CloudLimitError(f"app {app.name!r} cannot be deployed to {cloud}:\n  - " + "\n  - ".join(problems))
