"""The app's own third-party dependencies: declared once, checked against the imports, pinned.

An app declares what its handlers import beyond the standard library and portside in one
``requirements.txt`` beside its package (``handlers/requirements.txt`` for ``handlers.app:app``),
in pip's format. From it:

- every handler module's imports are read with ``ast`` (and those of the app's own modules it
  imports, transitively): an import that no declared distribution provides fails the plan, naming
  the module, the line, the import and the file to declare it in;
- the declared requirements are pinned, with their whole dependency closure, to the versions
  installed here (what the tests ran against), evaluated for the functions' platform (Linux,
  CPython 3.12), so every build and every function gets the same versions;
- each function learns which distributions it imports, so only those functions get them.

No pulumi here: the plan and the policy pack read this module too.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from portside.app import App
from portside.errors import DeclarationError

REQUIREMENTS = "requirements.txt"
PYTHON = "3.12"  # the functions' runtime on both clouds
MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}


def target_environment(machine: str = "x86_64") -> dict[str, str]:
    """PEP 508 marker values of a function's runtime: Linux, CPython ``PYTHON`` on ``machine``."""
    return {"python_version": PYTHON, "python_full_version": f"{PYTHON}.0", "sys_platform": "linux",
            "platform_system": "Linux", "platform_machine": machine, "os_name": "posix",
            "implementation_name": "cpython", "platform_python_implementation": "CPython",
            "implementation_version": f"{PYTHON}.0", "platform_release": "", "platform_version": "", "extra": ""}


def _top_package(module: str) -> str:
    return module.split(".")[0]


def package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def requirements_file(app_spec: str) -> Path | None:
    """``<folder of the app's top package>/requirements.txt`` (it need not exist), or None."""
    folder = package_dir(_top_package(app_spec.split(":")[0]))
    return folder / REQUIREMENTS if folder is not None else None


def declared(path: Path | None) -> list[Requirement]:
    """The requirements in ``path`` (none if it does not exist); a bad line names the file and line."""
    if path is None or not path.is_file():
        return []
    out = []
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-"):
            raise DeclarationError(f"{path}:{n}: {line!r}: only requirement lines (name, extras, version, markers) "
                                   "are supported, not pip options")
        try:
            out.append(Requirement(line))
        except InvalidRequirement as e:
            raise DeclarationError(f"{path}:{n}: {line!r} is not a requirement: {e}") from None
    return out


# -- imports -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "handlers.thumbnails"
    path: Path
    line: int
    name: str  # the top-level name imported, e.g. "PIL"


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """An import under ``if TYPE_CHECKING:`` or in a ``try`` that handles ImportError needs no package."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.If) and child in parent.body and "TYPE_CHECKING" in ast.unparse(parent.test):
            return True
        if isinstance(parent, ast.Try) and child in parent.body and any(
                h.type is not None and re.search(r"\b(ImportError|ModuleNotFoundError)\b", ast.unparse(h.type))
                for h in parent.handlers):
            return True
        child, parent = parent, parents.get(parent)
    return False


def imports_in(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file that needs its package at run time."""
    tree = ast.parse(path.read_text(), str(path))
    parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    out: list[tuple[int, str]] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and not _guarded(node, parents):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not _guarded(node, parents):
            if node.level:  # relative: within the app's own package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
                out += [(node.lineno, f"{target}.{a.name}") for a in node.names] if not node.module else []
                out.append((node.lineno, target))
            else:
                out.append((node.lineno, node.module or ""))
                out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


def module_path(module: str, roots: dict[str, Path | None]) -> Path | None:
    """The file of an app module, found under its package's folder without importing anything."""
    top, *rest = module.split(".")
    if top not in roots:
        roots[top] = package_dir(top)
    base = roots[top]
    if base is None:
        return None
    path = base.joinpath(*rest)
    for candidate in (path.with_suffix(".py"), path / "__init__.py") if rest else (base / "__init__.py",):
        if candidate.is_file():
            return candidate
    return None


def third_party_imports(module: str, local: frozenset[str]) -> list[Import]:
    """Imports outside the standard library, portside and the app's own packages (``local``), in
    ``module`` and in the app modules it imports, transitively."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    roots: dict[str, Path | None] = {}
    seen: set[str] = set()
    todo, out = [module], []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_path(name, roots)
        if path is None:
            continue
        for line, imported in imports_in(path, name):
            top = _top_package(imported)
            if not top or top in stdlib or top == "portside":
                continue
            if top in local:
                todo.append(imported)
            else:
                out.append(Import(name, path, line, top))
    return sorted(set(out), key=lambda i: (i.module, i.line, i.name))


# -- pins --------------------------------------------------------------------------------------

def _installed(name: str) -> metadata.Distribution | None:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def pin(roots: list[Requirement], env: dict[str, str], origin: str) -> dict[str, str]:
    """{distribution: installed version} for ``roots`` and everything they need on ``env``.

    The versions are those installed here, so the deployed functions run what the tests ran.
    """
    pins: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[Requirement, str]] = [(r, f"declared in {origin}") for r in roots
                                           if r.marker is None or r.marker.evaluate(env)]
    while todo:
        req, why = todo.pop()
        key = canonicalize_name(req.name)
        if (key, frozenset(req.extras)) in seen:
            continue
        seen.add((key, frozenset(req.extras)))
        dist = _installed(req.name)
        if dist is None:
            raise DeclarationError(f"{req.name} ({why}) is not installed here, so its version cannot be pinned: "
                                   f"install it (pip install -r {origin}, or bash scripts/setup) and plan again")
        if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
            raise DeclarationError(f"{req.name} {dist.version} is installed, but {req} is {why}: install a "
                                   f"matching version (pip install -r {origin}) and plan again")
        pins[key] = dist.version
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({**env, "extra": x}) for x in ("", *req.extras)):
                sub.marker = None
                todo.append((sub, f"needed by {req.name}"))
    return dict(sorted(pins.items()))


def portside_requirements(*extras: str) -> list[Requirement]:
    """The installed portside distribution's requirements for ``extras`` (e.g. "gcp"), markers resolved."""
    out = []
    for text in metadata.requires("portside") or []:
        req = Requirement(text)
        m = str(req.marker or "")
        found = re.search(r'extra\s*==\s*"([\w-]+)"', m)
        if found and found.group(1) in extras:
            rest = re.sub(r'\s*(and\s+)?extra\s*==\s*"[\w-]+"\s*(and\s+)?', "", m).strip()
            req.marker = Marker(rest) if rest else None
            out.append(req)
    return out


def providers() -> dict[str, set[str]]:
    """Top-level import name -> the installed distributions (canonical names) that provide it."""
    return {top: {canonicalize_name(d) for d in dists} for top, dists in metadata.packages_distributions().items()}


# -- the app -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dependencies:
    """What the app's functions need beyond portside, for one target machine."""

    file: Path | None  # the app's requirements.txt (None: no package folder found)
    pins: dict[str, str] = field(default_factory=dict)  # the declared requirements' closure: dist -> version
    needs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # function -> the distributions it imports
    imports: dict[str, tuple[Import, ...]] = field(default_factory=dict)  # function -> its third-party imports

    def lines(self) -> list[str]:
        return [f"{name}=={version}" for name, version in self.pins.items()]


def analyse(app: App, app_spec: str, local: frozenset[str], machine: str = "x86_64") -> Dependencies:
    """Read every function's imports against the app's requirements; refuse what is not declared."""
    path = requirements_file(app_spec)
    shown = _shown(path)
    env = target_environment(MACHINES.get(machine, machine))
    pins = pin(declared(path), env, shown)
    provided = providers()
    problems: list[str] = []
    needs: dict[str, tuple[str, ...]] = {}
    found: dict[str, tuple[Import, ...]] = {}
    for fn in app.functions.values():
        module = fn.handler.split(":")[0]
        imported = third_party_imports(module, local)
        dists: set[str] = set()
        for imp in imported:
            by = provided.get(imp.name, set())
            if by & set(pins):
                dists |= by & set(pins)
                continue
            hint = f"the distribution that provides it (here: {', '.join(sorted(by))})" if by else \
                "the distribution that provides it"
            problems.append(f"{_shown(imp.path)}:{imp.line} ({imp.module}, function {fn.name!r}) imports "
                            f"{imp.name!r}, which the app does not declare: add {hint} to {shown}")
        needs[fn.name] = tuple(sorted(dists))
        found[fn.name] = tuple(imported)
    if problems:
        unique = list(dict.fromkeys(problems))
        raise DeclarationError(f"app {app.name!r} imports packages it does not declare (a deployed function "
                               "would fail on import):\n  - " + "\n  - ".join(unique))
    return Dependencies(path, pins, needs, found)


def _shown(path: Path | None) -> str:
    if path is None:
        return REQUIREMENTS
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
