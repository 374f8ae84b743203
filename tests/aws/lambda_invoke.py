"""Call ``portside.aws.handler`` the way the Lambda Python runtime does, in this fresh process.

    python -m tests.aws.lambda_invoke OUT.json < events.json     (a JSON list of raw events)

The runtime imports the handler module once (init phase), then calls ``handler(event, context)``
for each invocation of this warm environment. Each result (or error type and message) and
whether boto3 was loaded by the import alone are written to OUT.json; stdout and stderr carry the
function's logs, as in CloudWatch.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import uuid
from typing import Any


class LambdaContext:
    """The attributes and method of the runtime's context object that code may use."""

    def __init__(self, function_name: str, timeout_s: float = 30.0) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = "256"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/11/22/[$LATEST]0123456789abcdef"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main(out_path: str) -> None:
    import os

    events = json.load(sys.stdin)
    module_name, _, attr = os.environ["_HANDLER"].rpartition(".")
    module = importlib.import_module(module_name)  # the init phase
    handler = getattr(module, attr)
    report: dict[str, Any] = {"boto3_after_import": "boto3" in sys.modules, "results": []}
    for event in events:
        context = LambdaContext(os.environ["AWS_LAMBDA_FUNCTION_NAME"])
        try:
            report["results"].append({"ok": handler(event, context), "request_id": context.aws_request_id})
        except Exception as e:  # noqa: BLE001 - the runtime reports it as the invocation's error
            report["results"].append({"errorType": type(e).__name__, "errorMessage": str(e)})
    report["boto3_after_calls"] = "boto3" in sys.modules
    with open(out_path, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[1])
