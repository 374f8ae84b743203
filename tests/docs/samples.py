"""The code samples of a Markdown page, and how they run (docs/contributing.md, "Code samples").

- A ```python block whose first line is a comment naming a file (``# shop/app.py``) is that file
  of the page's project. All such blocks of a page are written out together (each folder gets an
  ``__init__.py``), then the project's ``tests/`` run with pytest.
- Any other ```python block is a snippet: the page's snippets run in order, in one namespace, after
  the project is written, with the project and this repository importable (``handlers.app`` is the
  reference app).
- A page whose project continues another page's says so once: ``<!-- samples-use: handlers.md -->``
  (a path relative to the page); that page's files are written first.
- Every module of the project is imported, so a project without tests still has to import.
- A block right after ``<!-- no-run: why -->`` is not run; the reason is required.
- In ```bash blocks, each ``portside ...`` command and ``python -m module`` must name a command and
  a module that exist (they are not run).

``python tests/docs/samples.py PAGE FOLDER`` runs one page's samples in FOLDER (a fresh interpreter,
so pages never share modules).
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)\s*$")
NO_RUN = re.compile(r"^\s*<!--\s*no-run:(?P<why>.*?)-->\s*$")
FILE = re.compile(r"^# (?P<path>[\w./-]+\.py)\s*$")
USES = re.compile(r"^\s*<!--\s*samples-use:\s*(?P<page>\S+)\s*-->\s*$", re.M)


@dataclass(frozen=True)
class Block:
    page: str
    line: int          # 1-based line of the first line of code
    lang: str
    code: str
    skip: str | None   # the no-run reason, if marked

    @property
    def path(self) -> str | None:
        """The project file this block is, if its first line names one."""
        m = FILE.match(self.code.split("\n", 1)[0]) if self.lang == "python" else None
        return m["path"] if m else None


def blocks(page: str, text: str | None = None) -> list[Block]:
    """Every fenced block of ``page`` (a path relative to the repository, or any path)."""
    lines = (text if text is not None else (ROOT / page).read_text()).splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m["lang"]:
            i += 1
            continue
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        skip = NO_RUN.match(before)
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        if end is None:
            raise ValueError(f"{page}:{i + 1}: the ```{m['lang']} block is never closed")
        indent = len(m["indent"])
        code = "\n".join(line[indent:] for line in lines[i + 1:end]) + "\n"
        found.append(Block(page, i + 2, m["lang"], code, skip["why"].strip() if skip else None))
        i = end + 1
    return found


def project(page_blocks: list[Block]) -> dict[str, Block]:
    """The page's project files, by path; a path written twice is an error (which one is meant?)."""
    files: dict[str, Block] = {}
    for b in page_blocks:
        if b.path and b.skip is None:
            if b.path in files:
                raise ValueError(f"{b.page}:{b.line}: {b.path} is already written at line {files[b.path].line}")
            files[b.path] = b
    return files


def commands(page_blocks: list[Block]) -> list[tuple[Block, list[str]]]:
    """``portside ...`` and ``python -m ...`` commands of the page's bash blocks."""
    found = []
    for b in page_blocks:
        if b.lang not in ("bash", "sh", "console") or b.skip is not None:
            continue
        for line in b.code.splitlines():
            for part in re.split(r"&&|\|\||;|\|", line):
                try:
                    argv = shlex.split(part, comments=True)
                except ValueError:
                    continue
                while argv and re.match(r"^\w+=", argv[0]):  # PORT=0 portside dev
                    argv.pop(0)
                name = Path(argv[0]).name if argv else ""
                if name == "portside" or (name in ("python", "python3") and argv[1:2] == ["-m"]):
                    found.append((b, argv))
    return found


def read(page: str) -> str:
    return (ROOT / page).read_text()  # an absolute page path stays as it is


def project_of(page: str) -> dict[str, Block]:
    """The page's files, after those of the pages it names in ``<!-- samples-use: ... -->``."""
    files: dict[str, Block] = {}
    for m in USES.finditer(read(page)):
        files.update(project_of(str(((ROOT / page).parent / m["page"]).resolve().relative_to(ROOT))))
    return {**files, **project(blocks(page, read(page)))}


def run(page: str, folder: Path) -> int:
    """Write the page's project into ``folder``, run its snippets, then its tests. 0 when all ran."""
    import importlib
    import os

    page_blocks = blocks(page, read(page))
    files = project_of(page)
    for path, b in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(b.code)
        for parent in target.relative_to(folder).parents:
            if str(parent) != "." and not (folder / parent / "__init__.py").exists():
                (folder / parent / "__init__.py").write_text("")
    os.chdir(folder)
    sys.path[:0] = [str(folder), str(ROOT)]
    for path in files:
        if not path.startswith("tests/"):
            importlib.import_module(path.removesuffix(".py").replace("/", ".").removesuffix(".__init__"))
    namespace: dict[str, object] = {"__name__": "__sample__"}
    for b in page_blocks:
        if b.lang == "python" and b.path is None and b.skip is None:
            # padded so that a traceback's line number is the line in the page
            exec(compile("\n" * (b.line - 1) + b.code, b.page, "exec"), namespace)
    if any(p.startswith("tests/") for p in files):
        import pytest

        return int(pytest.main([str(folder / "tests"), "-q", "-p", "no:cacheprovider", "--rootdir", str(folder)]))
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], Path(sys.argv[2])))
