"""README's figures are the ones in bench/results: bench/readme.py writes them, this checks them."""

from __future__ import annotations

from bench import readme


def test_readme_shows_what_the_results_files_say() -> None:
    current = readme.block(readme.README.read_text())
    assert current == readme.table(), "README's figures are stale: run `python -m bench.readme`"


def test_a_changed_figure_is_seen(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json
    import shutil

    shutil.copytree(readme.RESULTS, tmp_path / "results")
    path = tmp_path / "results" / "local.json"
    data = json.loads(path.read_text())
    data["figures"]["drain"]["ratio"] = 0.99
    path.write_text(json.dumps(data))
    monkeypatch.setattr(readme, "RESULTS", tmp_path / "results")
    assert readme.table() != readme.block(readme.README.read_text())


def test_rewriting_touches_only_the_block(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "README.md"
    page.write_text(f"x before\n{readme.BEGIN}\nx\n{readme.END}\nx after\n")
    monkeypatch.setattr(readme, "README", page)
    readme.main()
    text = page.read_text()
    assert text.startswith("x before\n") and text.endswith("\nx after\n") and readme.block(text) == readme.table()
