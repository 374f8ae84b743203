"""portside on AWS Lambda: raw AWS events in, boto3-backed ports out.

    handler: portside.aws.handler        (the Lambda handler setting)
    PORTSIDE_APP=shop.app:app  PORTSIDE_FUNCTION=make-thumbnail
    PORTSIDE_RESOURCES='{"uploads": "shop-uploads-1a2b", ...}'  PORTSIDE_DLQ_URL=https://sqs...

``to_events(raw)`` is the pure mapping of docs/architecture.md, "Events"; ``http_result`` and ``batch_result`` map
results back. Importing this package never imports boto3: ports load it on first use.
"""

import os as _os

from portside import deployment as env
from portside.aws.entry import AwsTarget, Runtime, handler, runtime
from portside.aws.events import Names, batch_result, classify, http_flavour, http_result, to_events

if _os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and _os.environ.get(env.FUNCTION):
    # In Lambda, load the app during the init phase (full CPU, not billed as invocation time);
    # an error here is raised again, with its cause, by the first invocation.
    try:
        runtime()
    except Exception:  # noqa: BLE001
        pass

__all__ = ["AwsTarget", "Names", "Runtime", "batch_result", "classify", "env", "handler", "http_flavour",
           "http_result", "runtime", "to_events"]
