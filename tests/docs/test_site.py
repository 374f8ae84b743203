"""The documentation site builds with warnings as errors, its links and README's lead somewhere real,
and the figures it shows come from the benchmarks' results files."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


# -- the build ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True, timeout=300)
    problems = [line for line in done.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert done.returncode == 0 and not problems, "mkdocs build --strict failed:\n" + "\n".join(problems or
                                                                                                [done.stderr[-3000:]])
    return out


def test_the_site_builds_strict_with_every_page(site: Path) -> None:
    for page in ("index.html", "tutorial/index.html", "guides/idempotency/index.html", "benchmarks/index.html"):
        assert (site / page).is_file(), page


def test_the_api_reference_is_generated_from_docstrings(site: Path) -> None:
    aws = (site / "reference" / "aws" / "index.html").read_text()
    assert 'id="portside.aws.to_events"' in aws  # an adapter, found through the installed layout
    app = (site / "reference" / "app" / "index.html").read_text()
    assert 'id="portside.app.App"' in app and "Bind the handler at" in app  # a docstring, rendered


def test_the_benchmarks_page_shows_results_files_not_typed_figures(site: Path) -> None:
    text = (site / "benchmarks" / "index.html").read_text()
    assert "Measured " in text or "Not measured yet" in text
    markers = hooks().MARKER.findall((ROOT / "docs" / "benchmarks.md").read_text())
    assert markers, "docs/benchmarks.md includes its figures with <!-- results: NAME -->"


# -- links -------------------------------------------------------------------------------------------
FENCED = re.compile(r"^ *```.*?^ *```", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)


def slug(text: str) -> str:
    """Python-Markdown's toc slug of a heading (what mkdocs puts in its id)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("`", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    text = FENCED.sub("", page.read_text())
    found: set[str] = set()
    for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M):
        heading = m[1]
        explicit = re.search(r"\{:?\s*#([\w-]+)[^}]*\}\s*$", heading)
        if explicit:
            found.add(explicit[1])
            continue
        base = slug(heading)
        name, n = base, 0
        while name in found:
            n += 1
            name = f"{base}_{n}"
        found.add(name)
    found |= set(re.findall(r"""\b(?:id|name)=["']([\w-]+)["']""", text))
    return found


def links(page: Path) -> list[str]:
    text = INLINE_CODE.sub("", FENCED.sub("", page.read_text()))
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return LINK.findall(text) + REF_DEF.findall(text)


def broken(page: Path) -> list[str]:
    out = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            out.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            out.append(f"{target}: {dest.name} has no heading #{anchor}")
    return out


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    assert broken(page) == []


def test_the_link_check_finds_a_broken_file_and_a_broken_anchor(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# Title\n\n## The `events` table\n\n```\n# not a heading\n```\n")
    (tmp_path / "a.md").write_text("[ok](b.md#the-events-table) [gone](c.md) [anchor](b.md#not-a-heading) "
                                   "`[code](x.md)` [web](https://example.com)\n")
    assert broken(tmp_path / "a.md") == ["c.md: no such file", "b.md#not-a-heading: b.md has no heading #not-a-heading"]


# -- figures from results files ----------------------------------------------------------------------
def test_a_results_table_says_when_where_and_how_it_was_measured(tmp_path: Path) -> None:
    (tmp_path / "aws-coldstart.json").write_text(json.dumps({
        "name": "aws-coldstart", "command": "python -m bench.aws coldstart", "date": "2026-12-01T10:00:00+00:00",
        "commit": "abc1234", "machine": {"cpu": "Test CPU", "cores": 2, "os": "Linux", "python": "3.12.1",
                                         "load_1m": 0.5},
        "figures": {"import portside.aws": {"ratio": 2.3149, "spread": [2.2, 2.4], "ms": 46.1, "budget": 2.5}}}))
    table = hooks().results_table("aws-coldstart", tmp_path)
    assert "| import portside.aws | 2.31 | 2.2–2.4 | 46.1 | 2.5 |" in table
    for said in ("2026-12-01", "Test CPU", "2 cores", "Python 3.12.1", "abc1234", "`python -m bench.aws coldstart`"):
        assert said in table


def test_a_missing_results_file_is_a_visible_note_and_a_bad_one_an_error(tmp_path: Path) -> None:
    assert "Not measured yet" in hooks().results_table("local", tmp_path)
    (tmp_path / "local.json").write_text("{}")
    with pytest.raises(ValueError, match="not a results file"):
        hooks().results_table("local", tmp_path)


def test_the_api_source_tree_mirrors_the_installed_layout(tmp_path: Path) -> None:
    package = hooks().api_source_tree(ROOT, tmp_path) / "portside"
    assert (package / "aws" / "__init__.py").resolve() == ROOT / "adapters" / "aws" / "__init__.py"
    assert (package / "infra" / "program.py").resolve() == ROOT / "infra" / "program.py"
    assert (package / "app.py").resolve() == ROOT / "portside" / "app.py"
    hooks().api_source_tree(ROOT, tmp_path)  # twice is fine: two builds may run at once
