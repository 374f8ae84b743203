"""The dependency rules of docs/architecture.md, enforced by reading every module's imports."""

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
    assert (ROOT / folder).is_dir(), f"{folder} is part of the layout in docs/architecture.md"
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


# -- no import cycles -----------------------------------------------------------------------------
# Every import counts: at module level, inside functions (late imports) and under TYPE_CHECKING.
PACKAGES = {"portside": "portside", "portside.aws": "adapters/aws", "portside.gcp": "adapters/gcp",
            "portside.local": "adapters/local", "portside.fake": "adapters/fake", "portside.infra": "infra"}


def modules(packages: dict[str, Path]) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the packages (subpackages mapped elsewhere skipped)."""
    out = {}
    for package, folder in packages.items():
        for path in folder.rglob("*.py"):
            parts = [p for p in path.relative_to(folder).with_suffix("").parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the modules it imports (``from a import b`` counts as ``a.b`` when that is a module)."""
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(package[:len(package) - node.level + 1] + [node.module or ""]) if node.level \
                    else node.module or ""
                base = base.rstrip(".")
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for target in targets:
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_anywhere() -> None:
    mods = modules({pkg: ROOT / folder for pkg, folder in PACKAGES.items()})
    assert len(mods) > 40  # the walk found the sources
    assert cycles(import_graph(mods)) == []


def test_the_cycle_checker_sees_late_and_type_checking_imports(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n")
    (tmp_path / "b.py").write_text("def f():\n    from pkg import a\n")
    (tmp_path / "c.py").write_text("from . import a\n")
    assert cycles(import_graph(modules({"pkg": tmp_path}))) == [["pkg.a", "pkg.b"]]


def test_sources_pass_the_linter() -> None:
    """Unused imports and unsorted import blocks (pyproject's [tool.ruff]) are caught here, not in review."""
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "portside", "adapters", "infra",
                          "handlers", "tests", "bench"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
