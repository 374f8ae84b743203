"""Every code sample in README.md and docs/ runs as written, and every command a page shows exists.

How samples are read and run is in tests/docs/samples.py (and docs/contributing.md). A newcomer
copies these blocks first: if they drift from the SDK, this fails, not the newcomer.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from portside.local.cli import cli
from tests.docs.samples import ROOT, blocks, commands

RUNNER = Path(__file__).with_name("samples.py")
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))]


def runnable(page: str) -> bool:
    return any(b.lang == "python" and b.skip is None for b in blocks(page))


def run_page(page: str | Path, folder: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTSIDE_")}
    return subprocess.run([sys.executable, str(RUNNER), str(page), str(folder)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("page", [p for p in PAGES if runnable(p)])
def test_the_samples_of_a_page_run_as_written(page: str, tmp_path: Path) -> None:
    done = run_page(page, tmp_path)
    assert done.returncode == 0, f"{page}: a sample failed\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


def test_the_readme_example_is_a_project_with_a_test() -> None:
    files = {b.path for b in blocks("README.md") if b.path}
    assert {"shop/app.py", "shop/thumbnails.py", "tests/test_shop.py"} <= files


@pytest.mark.parametrize("page", PAGES)
def test_a_sample_that_is_not_run_says_why(page: str) -> None:
    assert not [f"{page}:{b.line}" for b in blocks(page) if b.skip is not None and not b.skip]


def _command_exists(argv: list[str]) -> str | None:
    """None if the command exists, else what is wrong."""
    if argv[1:2] == ["-m"]:
        module = argv[2] if len(argv) > 2 else ""
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        return None if found else f"no module {module!r}"
    group: click.Command = cli
    for word in argv[1:]:
        if word.startswith("-") or not isinstance(group, click.Group):
            break
        sub = group.get_command(click.Context(group), word)
        if sub is None:
            return f"`portside` has no command {word!r} (it has {sorted(group.list_commands(click.Context(group)))})"
        group = sub
    return None


@pytest.mark.parametrize("page", PAGES)
def test_the_commands_a_page_shows_exist(page: str) -> None:
    wrong = [f"{page}:{b.line}: {' '.join(argv)}: {why}" for b, argv in commands(blocks(page))
             if (why := _command_exists(argv))]
    assert wrong == []


# -- the mechanism itself can fail -------------------------------------------------------------------
PAGE = '''# A page

```python
# demo/app.py
VALUE = 41
```

```python
from demo.app import VALUE
answer = VALUE + 1
```

```python
assert answer == {expected}, "the snippets share one namespace, in order"
```

<!-- no-run: shows what an error looks like -->
```python
raise SystemExit("never runs")
```

```python
# tests/test_demo.py
from demo.app import VALUE

def test_value():
    assert VALUE == {tested}
```
'''


@pytest.mark.parametrize("expected, tested, ok", [(42, 41, True), (43, 41, False), (42, 40, False)],
                         ids=["all-run", "snippet-fails", "project-test-fails"])
def test_the_runner_fails_on_a_failing_sample(tmp_path: Path, expected: int, tested: int, ok: bool) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE.format(expected=expected, tested=tested))
    (tmp_path / "run").mkdir()
    done = run_page(page, tmp_path / "run")
    assert (done.returncode == 0) == ok, done.stdout + done.stderr
    if expected != 42:
        assert "page.md" in done.stderr and "line 14" in done.stderr, "the traceback points at the page's line"


def test_a_command_that_does_not_exist_is_found() -> None:
    page = "```bash\nportside dev --port 0   # fine\nportside deploy\npython -m portside.nope\n```\n"
    found = [(argv, _command_exists(argv)) for _, argv in commands(blocks("page.md", page))]
    assert [why is None for _, why in found] == [True, False, False]
