"""DESIGN §2's dependency rules, enforced by reading every module's imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLOUD_SDKS = ("boto3", "botocore", "google", "functions_framework", "cloudevents")

# The sources install under one namespace (pyproject.toml): adapters/<target> is portside.<target>,
# infra/ is portside.infra. The core is portside/ without those.
ADAPTERS = ("portside.aws", "portside.gcp", "portside.local", "portside.fake")
PULUMI = ("pulumi", "pulumi_aws", "pulumi_gcp", "pulumi_policy", "portside.infra")

# (folder, forbidden import prefixes, allowed exceptions)
RULES = [
    ("handlers", CLOUD_SDKS + ADAPTERS + PULUMI, ()),
    ("portside", CLOUD_SDKS + ADAPTERS + PULUMI + ("handlers",), ()),
    ("adapters/aws", ("google", "functions_framework", "cloudevents", "handlers", "portside.gcp", "portside.local",
                      "portside.fake") + PULUMI, ()),
    ("adapters/gcp", ("boto3", "botocore", "handlers", "portside.aws", "portside.local", "portside.fake") + PULUMI, ()),
    ("adapters/fake", CLOUD_SDKS + PULUMI + ("handlers", "portside.aws", "portside.gcp", "portside.local"), ()),
    ("adapters/local", CLOUD_SDKS + PULUMI + ("handlers", "portside.aws", "portside.gcp", "portside.fake"), ()),
    # infra reads declarations; it never imports an adapter's runtime code
    ("infra", ADAPTERS + ("boto3", "botocore", "functions_framework", "handlers"), ()),
]


def imports(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


def violations(folder: str, forbidden: tuple[str, ...], allowed: tuple[str, ...]) -> list[str]:
    out = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for module, line in imports(path):
            if module in allowed:
                continue
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                out.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return out


@pytest.mark.parametrize("folder, forbidden, allowed", RULES, ids=[r[0] for r in RULES])
def test_layer_imports_only_what_design_allows(folder: str, forbidden: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    assert (ROOT / folder).is_dir(), f"{folder} is part of DESIGN §2's layout"
    assert violations(folder, forbidden, allowed) == []


def test_the_rule_checker_catches_a_violation(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def f():\n    import boto3\n")
    assert imports(tmp_path / "bad.py") == [("boto3", 2)]


def test_importing_the_app_loads_no_cloud_sdk_and_no_pulumi() -> None:
    # measured as a difference: site-packages .pth files may pre-import namespace packages
    code = ("import sys; before = set(sys.modules); import portside, handlers.app, portside.fake; "
            "bad = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in "
            "{'boto3', 'botocore', 'google', 'pulumi', 'functions_framework', 'cloudevents', 'opentelemetry'}); "
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
