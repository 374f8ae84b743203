"""MkDocs hooks (mkdocs.yml ``hooks:``): what the site needs beyond Markdown.

1. The API reference reads the sources in their installed layout. The repository keeps the card's
   layout (``adapters/aws`` installs as ``portside.aws``, pyproject's ``package-dir``), which
   mkdocstrings cannot follow, so ``build/api-src/portside`` mirrors the installed package with
   symbolic links to the sources.
2. Measured figures come from the files the benchmarks write (``bench/results/<name>.json``, see
   ``bench/results.py``), never from hand-typed numbers: a page says ``<!-- results: NAME -->`` and
   the build puts there a table of that file's figures with its date, machine and command, or a
   visible "not measured yet" note while the file does not exist.
3. The tutorial shows the files ``portside new`` writes as it writes them: ``<!-- template: PATH -->``
   becomes that file of a new project named ``shop``, from the template the package ships.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parents[1]
API_SRC = ROOT / "build" / "api-src"
RESULTS = ROOT / "bench" / "results"
MARKER = re.compile(r"^[ \t]*<!--\s*results:\s*([\w.-]+)\s*-->[ \t]*$", re.M)  # alone on its line


# -- 1. the installed layout, for mkdocstrings ------------------------------------------------------
def _link(link: Path, target: Path) -> None:
    """``link`` -> ``target``, left alone when it already points there (two builds may run at once)."""
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target, target_is_directory=target.is_dir())


def api_source_tree(root: Path = ROOT, into: Path = API_SRC) -> Path:
    """``into/portside``: the core's files plus one link per sub-package that pyproject maps elsewhere."""
    mapping: dict[str, str] = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    package = into / "portside"
    package.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p for p in (root / mapping["portside"]).iterdir() if p.name != "__pycache__"}
    for name, folder in mapping.items():
        if name.startswith("portside.") and name.count(".") == 1:
            wanted[name.split(".")[1]] = root / folder
    for stale in [p for p in package.iterdir() if p.name not in wanted]:
        stale.unlink()
    for name, target in wanted.items():
        _link(package / name, target)
    return into


@event_priority(100)  # before mkdocstrings reads its paths: the tree must exist by then
def on_config(config: Any) -> Any:
    api_source_tree()
    return config


# -- 2. measured figures --------------------------------------------------------------------------
def _number(value: float) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return f"{_number(value[0])}–{_number(value[1])}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return _number(value).replace("|", "\\|")


def recorder(name: str, bench: Path = RESULTS.parent) -> str | None:
    """The command of the benchmark that records ``name`` (``record("name", "command", ...)`` in bench/)."""
    call = re.compile(r"record\(\s*[\"']" + re.escape(name) + r"[\"']\s*,\s*[\"']([^\"']+)[\"']")
    for module in sorted(bench.glob("*.py")):
        if module.name != "results.py" and (m := call.search(module.read_text())):
            return m[1]
    return None


def results_table(name: str, results: Path = RESULTS) -> str:
    """The Markdown for ``<!-- results: name -->``: the figures of ``bench/results/<name>.json`` with
    the date, machine and command they came from; a visible note while the benchmark has not run."""
    path = results / f"{name}.json"
    if not path.is_file():
        command = recorder(name, results.parent)
        how = f"run `{command}`" if command else f"no benchmark in bench/ records `{name}` yet"
        return (f'!!! warning "Not measured yet"\n    `bench/results/{name}.json` does not exist yet ({how}); '
                "until it does, no figure on this page is checked against a measurement.\n")
    try:
        data = json.loads(path.read_text())
        figures: dict[str, Any] = data["figures"]
        machine: dict[str, Any] = data.get("machine") or {}
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a results file written by bench/results.py ({e!r})") from None
    columns: list[str] = []
    for case in figures.values():
        for key in case if isinstance(case, dict) else ("value",):
            if key not in columns:
                columns.append(key)
    lines = ["| case | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for case, values in figures.items():
        values = values if isinstance(values, dict) else {"value": values}
        lines.append(f"| {case} | " + " | ".join(_cell(values.get(c)) for c in columns) + " |")
    where = ", ".join(str(x) for x in (machine.get("cpu"), machine.get("cores") and f"{machine['cores']} cores",
                                          machine.get("os"), machine.get("python") and f"Python {machine['python']}",
                                          machine.get("load_1m") is not None and f"load {machine['load_1m']}")
                      if x)
    commit = f", commit `{data['commit']}`" if data.get("commit") else ""
    caption = f"*Measured {data.get('date', '?')} on {where or 'an unrecorded machine'}{commit}: `{data.get('command')}`*"
    notes = f"\n\n{data['notes']}" if data.get("notes") else ""
    return "\n".join(lines) + f"\n\n{caption}{notes}\n"


# -- 3. the files `portside new` writes ------------------------------------------------------------
TEMPLATE = re.compile(r"^[ \t]*<!--\s*template:\s*([\w./-]+)\s*-->[ \t]*$", re.M)
LANGUAGES = {".py": "python", ".toml": "toml", ".yaml": "yaml", ".md": "markdown"}


def template_file(path: str, name: str = "shop") -> str:
    """A fenced block holding the file ``path`` of a new project ``name``, its first line naming it."""
    from importlib.metadata import version

    from portside.local.new import render, template_files  # the installed package's template

    files = template_files()
    if path not in files:
        raise ValueError(f"<!-- template: {path} -->: `portside new` writes no such file (it writes {sorted(files)})")
    text = render(files[path], {"name": name, "portside_version": version("portside")})
    lang = LANGUAGES.get(Path(path).suffix, "text")
    head = f"# {path}\n" if lang in ("python", "toml", "yaml") else ""
    return f"```{lang}\n{head}{text.rstrip()}\n```"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    markdown = TEMPLATE.sub(lambda m: template_file(m[1]), markdown)
    return MARKER.sub(lambda m: results_table(m[1]), markdown)
