"""Model-level checks: declarations a cloud cannot honour fail before any resource is registered.

The limits and their messages are the core's (``portside.checks``, from the table in
``portside.capabilities``): the app already met them when it was declared, for the clouds it
targets; here they run again for the cloud being planned, with the physical names the stack
gives, which only the plan knows. Options a cloud handles differently but safely (a batch size
on push delivery) are clamped with a warning instead.
"""

from __future__ import annotations

from collections.abc import Callable

from portside.app import App
from portside.capabilities import CLOUDS, GCP
from portside.checks import problems, refuse
from portside.errors import CloudLimitError
from portside.infra.naming import Names
from portside.infra.physical import aws_names, gcp_names, name_problems

__all__ = ["CloudLimitError", "PUBSUB_ACK_DEADLINE", "PUBSUB_ATTEMPTS", "check"]

PUBSUB_ACK_DEADLINE = GCP.ack_deadline
PUBSUB_ATTEMPTS = GCP.dead_letter_attempts


def check(app: App, cloud: str, names: Names, warn: Callable[[str], None]) -> None:
    """Raise one CloudLimitError listing every problem, before any resource exists."""
    found = problems(app, CLOUDS[cloud], warn)
    found += name_problems((aws_names if cloud == "aws" else gcp_names)(app, names))
    refuse(app.name, [(cloud, found)])
