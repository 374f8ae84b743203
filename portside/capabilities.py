"""What each cloud can honour: the one table of limits (docs/architecture.md, "Capabilities").

An app names the clouds it targets (``App(name, clouds=("aws",))``; both by default).
``portside.checks`` holds its declarations to the table at declaration time, ``portside.contract``
holds every port call to it on every target (so the fake cloud and the local runtime refuse what
a targeted cloud would refuse, with the same error), and ``portside.infra`` and the adapters read
their limits here instead of keeping their own. Each number cites the page it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

KIB, MIB = 1024, 1024 * 1024


class Cloud:
    """One cloud's limits and abilities, as attributes (``AWS.message_attributes``)."""

    __slots__ = (
        "name", "message_attributes", "attribute_name_bytes", "attribute_value_bytes", "queue_message_bytes",
        "topic_message_bytes", "delays", "fifo_delay", "object_key_bytes", "signed_url_seconds",
        "partition_key_bytes", "sort_key_bytes", "item_bytes", "max_int", "reserved_field",
        "timeout", "http_timeout", "http_gateway_timeout", "memory", "max_receives", "dead_letter_attempts",
        "max_backoff", "ack_deadline", "fifo_batch", "push_batch", "schedule_attempts", "filter_bytes",
        "bucket_notifications", "cron_extensions", "cron_both_days", "rate_any",
    )

    def __init__(self, **limits: object) -> None:
        missing = set(self.__slots__) - set(limits)
        if missing:
            raise TypeError(f"cloud {limits.get('name')!r} lacks {sorted(missing)}")
        for name, value in limits.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"<Cloud {self.name}>"  # type: ignore[attr-defined]


AWS = Cloud(
    name="aws",
    # SQS "Each message can have up to 10 attributes"
    # (docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html);
    # SNS discards a message with more than 10 attributes bound for a raw-delivery SQS subscription,
    # which is how portside fans out (docs.aws.amazon.com/sns/latest/dg/SNSMessageAttributes.html).
    message_attributes=10,
    attribute_name_bytes=256,  # SQS: names up to 256 characters of A-Z a-z 0-9 _ - .
    attribute_value_bytes=None,  # no limit of their own: they count toward the message size
    queue_message_bytes=MIB,  # SQS: body and attributes, "the 1 MiB message size restriction"
    # SNS: "By default, topics accept messages up to 256 KiB", body and attributes combined
    # (docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html)
    topic_message_bytes=256 * KIB,
    delays=True,  # SendMessage DelaySeconds: 0 to 900
    # "When you set FifoQueue, you can't set DelaySeconds per message" (SQS API SendMessage)
    fifo_delay=False,
    object_key_bytes=1024,  # docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html
    signed_url_seconds=7 * 24 * 3600,  # SigV4 presigned URLs: "Maximum is 604800 seconds" (aws s3 presign)
    # DynamoDB: partition key 1-2048 bytes, sort key 1-1024 bytes, item 400 KB, numbers of up to 38
    # digits (docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html)
    partition_key_bytes=2048,
    sort_key_bytes=1024,
    item_bytes=400 * KIB,
    max_int=10 ** 38 - 1,
    reserved_field=None,
    timeout=900,  # Lambda
    http_timeout=900,
    http_gateway_timeout=30,  # API Gateway HTTP APIs answer within 30 s
    memory=10240,
    max_receives=1000,  # SQS redrive policy maxReceiveCount
    dead_letter_attempts=(1, 1000),
    max_backoff=None,  # SQS redelivers after the visibility timeout; no policy bound to check
    ack_deadline=None,
    fifo_batch=10,  # an SQS FIFO event source takes at most 10 messages per batch
    push_batch=None,
    schedule_attempts=3,  # asynchronous Lambda invocations: 0-2 retries
    filter_bytes=None,
    bucket_notifications=None,
    # EventBridge cron: L, W, # and ? exist; day-of-month and day-of-week cannot both be set
    # (docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html)
    cron_extensions=True,
    cron_both_days=False,
    rate_any=True,
)

GCP = Cloud(
    name="gcp",
    # Pub/Sub: at most 100 attributes, keys of 256 bytes, values of 1024 bytes, messages of 10 MB
    # (cloud.google.com/pubsub/quotas#resource_limits)
    message_attributes=100,
    attribute_name_bytes=256,
    attribute_value_bytes=1024,
    queue_message_bytes=10_000_000,
    topic_message_bytes=10_000_000,
    delays=False,  # Pub/Sub has no per-message delay: a delayed send goes at once, with a warning
    fifo_delay=False,
    # Cloud Storage: 1-1024 bytes of UTF-8, no CR or LF, not "." or ".."
    # (cloud.google.com/storage/docs/naming-objects)
    object_key_bytes=1024,
    signed_url_seconds=7 * 24 * 3600,  # V4 signed URLs: at most 7 days (cloud.google.com/storage/docs/access-control/signed-urls)
    # Firestore: documents of 1 MiB, 64-bit integers, field names matching __.*__ reserved
    # (cloud.google.com/firestore/quotas). Keys are queried by value, and a string's size is its UTF-8
    # bytes + 1 (firebase.google.com/docs/firestore/storage-size) against 1500 for a query value: the
    # emulator refuses a 1500-byte one ("too large to be used in a query"), takes 1499.
    partition_key_bytes=1499,
    sort_key_bytes=1499,
    item_bytes=MIB,
    max_int=2 ** 63 - 1,
    reserved_field="__*__",  # reserved(): a name that starts and ends with two underscores
    timeout=540,  # Cloud Functions, event-driven
    http_timeout=3600,
    http_gateway_timeout=None,
    memory=32768,
    max_receives=None,
    dead_letter_attempts=(5, 100),  # Pub/Sub dead-letter max_delivery_attempts
    max_backoff=600,  # Pub/Sub retry policy maximum_backoff
    ack_deadline=600,
    fifo_batch=None,
    push_batch=1,  # push delivers one message per request
    schedule_attempts=6,  # Cloud Scheduler retry_count 0-5
    filter_bytes=256,  # subscription filters
    bucket_notifications=10,  # notification configurations per bucket
    # Cloud Scheduler: unix-cron, no L (cloud.google.com/scheduler/docs/configuring/cron-job-schedules)
    cron_extensions=False,
    cron_both_days=True,
    rate_any=False,  # Cloud Scheduler takes cron only: a rate must convert to one
)

CLOUDS: dict[str, Cloud] = {"aws": AWS, "gcp": GCP}
DEFAULT_CLOUDS = ("aws", "gcp")

# SQS and SNS carry text: XML 1.0 characters only. A body outside them travels base64-encoded with
# one attribute saying so (portside.aws.ports.wire_body), which counts toward the 10 attributes.
ENCODING_ATTRIBUTE = "portside-encoding"
_unsafe: list[re.Pattern[str]] = []  # compiled on first use: a few ms a cold start need not pay


def _sqs_unsafe() -> re.Pattern[str]:
    if not _unsafe:
        _unsafe.append(re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"))
    return _unsafe[0]


def sqs_text(body: bytes) -> str | None:
    """``body`` as text SQS and SNS carry unchanged, or None when it must travel base64-encoded."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    if text.isascii() and text.isprintable():  # the usual body, without the regex
        return text
    return None if _sqs_unsafe().search(text) else text


def sqs_safe(value: str) -> str:
    """An attribute value with the characters SQS refuses replaced (U+FFFD)."""
    return value if value.isascii() and value.isprintable() else _sqs_unsafe().sub("\ufffd", value)


def reserved(cloud: Cloud, field: str) -> bool:
    """Whether ``cloud`` reserves the field name (Firestore: names matching ``__.*__``)."""
    return cloud.reserved_field is not None and len(field) >= 4 and field.startswith("__") and field.endswith("__")


def clouds_of(names: Iterable[str] | None) -> tuple[Cloud, ...]:
    """The clouds named (None: both); an unknown name is an error naming the choices."""
    if names is None:
        return tuple(CLOUDS[n] for n in DEFAULT_CLOUDS)
    if isinstance(names, str):
        names = (names,)
    out = []
    for n in names:
        if n not in CLOUDS:
            raise ValueError(f"unknown cloud {n!r}; choose from {sorted(CLOUDS)}")
        out.append(CLOUDS[n])
    return tuple(dict.fromkeys(out))


def strictest(clouds: Iterable[Cloud], limit: str) -> tuple[int, Cloud] | None:
    """The smallest of the clouds' ``limit`` and the cloud that sets it (None: no cloud limits it)."""
    found = [(getattr(c, limit), c) for c in clouds if getattr(c, limit) is not None]
    return min(found, key=lambda pair: pair[0]) if found else None


# -- the table as documentation (docs/architecture.md shows it; a test keeps them equal) ----------

def _size(n: int | None) -> str:
    if n is None:
        return "-"
    if n % MIB == 0:
        return f"{n // MIB} MiB"
    if n % KIB == 0:
        return f"{n // KIB} KiB"
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000} MB"
    return f"{n:,} B"


ROWS: list[tuple[str, object]] = [
    ("message attributes (portside's own included)", lambda c: str(c.message_attributes)),
    ("attribute name / value", lambda c: f"{c.attribute_name_bytes} B / "
                                         + ("counts toward the message" if c.attribute_value_bytes is None
                                            else f"{c.attribute_value_bytes} B")),
    ("queue message (body + attributes)", lambda c: _size(c.queue_message_bytes)),
    ("topic message (body + attributes)", lambda c: _size(c.topic_message_bytes)),
    ("send delay", lambda c: "0-900 s; none on FIFO queues" if c.delays
        else "none: sent at once, with a warning"),
    ("object key", lambda c: f"{c.object_key_bytes} B of UTF-8"),
    ("signed URL lifetime", lambda c: f"{c.signed_url_seconds // 86400} days"),
    ("table key (partition / sort)", lambda c: f"{c.partition_key_bytes} B / {c.sort_key_bytes} B"),
    ("table item", lambda c: _size(c.item_bytes)),
    ("integers in items", lambda c: "38 digits" if c.max_int == 10 ** 38 - 1 else "64-bit"),
    ("reserved field names", lambda c: "`__.*__`" if c.reserved_field else "-"),
    ("function timeout (event / HTTP)", lambda c: f"{c.timeout} s / {c.http_timeout} s"
        + (f" (gateway answers in {c.http_gateway_timeout} s)" if c.http_gateway_timeout else "")),
    ("function memory", lambda c: f"{c.memory} MB"),
    ("max_attempts with a dead letter", lambda c: "{}-{}".format(*c.dead_letter_attempts)),
    ("backoff maximum", lambda c: f"{c.max_backoff} s" if c.max_backoff else "-"),
    ("batch size", lambda c: "1 (push; larger is clamped with a warning)" if c.push_batch
        else f"up to 10,000; FIFO up to {c.fifo_batch}"),
    ("schedule max_attempts", lambda c: str(c.schedule_attempts)),
    ("cron", lambda c: "EventBridge: L W # allowed; not both day fields" if c.cron_extensions
        else "unix-cron: no L W # ?"),
    ("rate", lambda c: "any" if c.rate_any else "must divide an hour or a day (becomes cron)"),
    ("topic filter", lambda c: f"{c.filter_bytes} B" if c.filter_bytes else "-"),
    ("object triggers per bucket", lambda c: str(c.bucket_notifications) if c.bucket_notifications
        else "no overlapping prefix/suffix"),
]


def table_markdown() -> str:
    """The capability table as a Markdown table (rows in ``ROWS``, one column per cloud)."""
    names = list(CLOUDS)
    lines = ["| limit | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label, cell in ROWS:
        lines.append(f"| {label} | " + " | ".join(cell(CLOUDS[n]) for n in names) + " |")  # type: ignore[operator]
    return "\n".join(lines)
