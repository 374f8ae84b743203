"""The translations moved to the core (``portside.expressions``): the declaration checks need them too."""

from portside.errors import CloudLimitError
from portside.expressions import aws_expression, gcp_cron, pubsub_filter

__all__ = ["CloudLimitError", "aws_expression", "gcp_cron", "pubsub_filter"]
