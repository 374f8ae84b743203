"""The shop example is real code: README's short version and the guides' full one (a handler, its
app, its test) are written out and run. A newcomer copies these blocks first; if they drift from the
SDK, this fails, not the newcomer."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```python\n# (?P<path>[\w/]+\.py)\n(?P<code>.*?)```", re.S)
SOURCES = {"README": ["README.md"], "guides": ["docs/guides/handlers.md", "docs/guides/testing.md"]}


def example_files(pages: list[str]) -> dict[str, str]:
    """Every ```python block whose first line names a file, by that name."""
    return {m["path"]: m["code"] for page in pages for m in BLOCK.finditer((ROOT / page).read_text())}


@pytest.mark.parametrize("where", sorted(SOURCES))
def test_shop_example_runs_as_written(where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = example_files(SOURCES[where])
    assert {"shop/thumbnails.py", "shop/app.py", "tests/test_shop.py"} <= set(files)
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    for name in ("shop/thumbnails.py", "shop/app.py"):
        (tmp_path / name).write_text(files[name])
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
        monkeypatch.delitem(sys.modules, module)
    namespace: dict[str, object] = {}
    exec(compile(files["tests/test_shop.py"], f"{where}:tests/test_shop.py", "exec"), namespace)
    namespace["test_thumbnail_and_poison"]()
    for module in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
        del sys.modules[module]
