"""The environment contract between infra/ and the adapters, kept in one place.

The adapters own the names in tiny import-free modules ``adapters/<cloud>/env.py``; they are
read here by file path (never through ``adapters.<cloud>``, whose ``__init__`` is runtime code).
When such a module is missing, or lacks a name, the defaults below apply.
"""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = {
    "APP": "PORTSIDE_APP",  # "module:attribute" of the App
    "FUNCTION": "PORTSIDE_FUNCTION",  # which declared function this deployment runs
    "RESOURCES": "PORTSIDE_RESOURCES",  # JSON: logical name -> physical identifier
    "DLQ_URL": "PORTSIDE_DLQ_URL",  # aws: the function's dead-letter queue URL
    "DEAD_LETTER_TOPIC": "PORTSIDE_DEAD_LETTER_TOPIC",  # gcp: the function's dead-letter topic
    "PROJECT": "GOOGLE_CLOUD_PROJECT",  # gcp: the project id (2nd gen runtimes do not set it)
}
ONLY = {"DLQ_URL": "aws", "DEAD_LETTER_TOPIC": "gcp", "PROJECT": "gcp"}
AWS_HANDLER = "adapters.aws.handler"  # Lambda handler: module adapters.aws, callable handler
GCP_SOURCE_MODULE = "adapters.gcp"  # the generated main.py re-exports its entry points
GCP_TARGETS = {"http": "http", "event": "cloud_event"}  # signature -> attribute of adapters.gcp


def _module(cloud: str, root: Path = ROOT) -> object | None:
    path = root / "adapters" / cloud / "env.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"_portside_env_{cloud}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def names(cloud: str, root: Path = ROOT) -> dict[str, str]:
    """Variable names for ``cloud``: the adapter's own where it declares them, else the defaults."""
    module = _module(cloud, root)
    return {key: str(getattr(module, key, default)) for key, default in DEFAULTS.items()}


def aws_handler(root: Path = ROOT) -> str:
    """The Lambda ``handler`` setting: ``HANDLER`` of adapters/aws/env.py, else adapters.aws.handler."""
    return str(getattr(_module("aws", root), "HANDLER", AWS_HANDLER))


def scheduler_input(schedule: str, function: str, root: Path = ROOT) -> str:
    """The EventBridge Scheduler target input: the adapter's template (with Scheduler's context
    attributes, so a Tick has a stable id and its attempt), else a plain JSON object."""
    template = getattr(_module("aws", root), "SCHEDULER_INPUT", None)
    if template:
        return str(template) % {"schedule": schedule, "function": function}
    return json.dumps({"schedule": schedule, "function": function})


def gcp_targets(root: Path = ROOT) -> dict[str, str]:
    """functions-framework signature ("http", "event") -> the adapters.gcp attribute serving it."""
    module = _module("gcp", root)
    return dict(getattr(module, "TARGETS", GCP_TARGETS))


def missing_names(cloud: str, root: Path = ROOT) -> list[str]:
    """Names the adapter's env module exists without (so the defaults apply): worth a warning."""
    module = _module(cloud, root)
    wanted = [k for k in DEFAULTS if ONLY.get(k, cloud) == cloud]
    return [] if module is None else [k for k in wanted if not hasattr(module, k)]


def missing_entries(cloud: str, root: Path = ROOT) -> list[str]:
    """Entry points the deployment calls that ``adapters/<cloud>/__init__.py`` does not define.

    Read with ``ast``, never imported. Empty when the adapter is absent or resolves names lazily.
    """
    init = root / "adapters" / cloud / "__init__.py"
    if not init.is_file():
        return []
    tree = ast.parse(init.read_text())
    defined: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined |= {t.id for t in targets if isinstance(t, ast.Name)}
    if "__getattr__" in defined or "*" in defined:
        return []
    wanted = [aws_handler(root).rsplit(".", 1)[1]] if cloud == "aws" else sorted(set(gcp_targets(root).values()))
    return [w for w in wanted if w not in defined]
