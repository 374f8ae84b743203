"""README's first example (a handler, its app, its test) is real code: write it out and run it.

A newcomer copies these blocks first; if they drift from the SDK, this fails, not the newcomer.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```python\n# (?P<path>[\w/]+\.py)\n(?P<code>.*?)```", re.S)


def readme_files() -> dict[str, str]:
    """Every ```python block whose first line names a file, by that name."""
    return {m["path"]: m["code"] for m in BLOCK.finditer(README.read_text())}


def test_readme_names_the_shop_example_files() -> None:
    assert {"shop/thumbnails.py", "shop/app.py", "tests/test_shop.py"} <= set(readme_files())


def test_readme_shop_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = readme_files()
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    for name in ("shop/thumbnails.py", "shop/app.py"):
        (tmp_path / name).write_text(files[name])
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
        monkeypatch.delitem(sys.modules, module)
    namespace: dict[str, object] = {}
    exec(compile(files["tests/test_shop.py"], "README.md:tests/test_shop.py", "exec"), namespace)
    namespace["test_thumbnail_and_poison"]()
    for module in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
        del sys.modules[module]
