"""The environment contract between the Pulumi program (infra/) and the AWS adapter.

No imports, on purpose: infra/ reads this file by path (``infra/envnames.py``), never through
``adapters.aws``, whose ``__init__`` is runtime code. Values are the variable *names*.
"""

APP = "PORTSIDE_APP"
"""``"module:attribute"`` of the App, e.g. ``"handlers.app:app"`` (the default when unset)."""

FUNCTION = "PORTSIDE_FUNCTION"
"""The logical name of the declared function this Lambda runs (``app.functions`` key)."""

RESOURCES = "PORTSIDE_RESOURCES"
"""JSON object: logical resource name -> physical identifier, for the trigger's source and every
resource in ``uses``. A value is either a string (bucket name, queue URL, topic ARN, table name,
schedule name) or an object with ``kind`` and any of ``name``, ``url``, ``arn``, ``stream_arn``:
``{"uploads": "uploads-1a2b", "jobs": {"kind": "queue", "url": "https://...", "arn": "arn:..."}}``."""

DLQ_URL = "PORTSIDE_DLQ_URL"
"""URL of the SQS dead-letter queue of this function's trigger: where the adapter sends events that
failed permanently (with the error as message attributes). Unset = no dead letter."""

DEFAULT_APP = "handlers.app:app"

HANDLER = "adapters.aws.handler"
"""The Lambda ``handler`` setting."""

SCHEDULER_INPUT = (
    '{"portside": "tick", "schedule": "%(schedule)s", "function": "%(function)s",'
    ' "arn": "<aws.scheduler.schedule-arn>", "time": "<aws.scheduler.scheduled-time>",'
    ' "attempt": "<aws.scheduler.attempt-number>", "execution": "<aws.scheduler.execution-id>"}'
)
"""The EventBridge Scheduler target ``Input`` to write (``SCHEDULER_INPUT % {"schedule": logical
name, "function": function name}``): Scheduler fills the ``<aws.scheduler.*>`` context attributes,
so the Tick gets a stable id (schedule ARN + scheduled time) and its attempt number. A bare
``{"schedule": name}`` input also works (the id is then Lambda's request id)."""
