"""``portside new NAME``: a new project in a new folder, ready for ``portside dev``, pytest and ``pulumi up``.

The files come from ``template/`` beside this module (package data, so an installed portside has
them). A template file's path is the project file's path plus ``.tmpl``; a leading ``dot-`` stands
for ``.`` (``dot-gitignore.tmpl`` is ``.gitignore``). ``{{name}}`` and ``{{portside_version}}`` are
the only placeholders.
"""

from __future__ import annotations

import re
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path

import click

from portside.declarations import check_name
from portside.errors import DeclarationError

PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def template_files() -> dict[str, str]:
    """Every file of the template, by its path in a new project."""
    files: dict[str, str] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".tmpl"):
                name = child.name.removesuffix(".tmpl")
                name = "." + name.removeprefix("dot-") if name.startswith("dot-") else name
                files[prefix + name] = child.read_text(encoding="utf-8")

    walk(resources.files("portside.local") / "template", "")
    return files


def render(text: str, values: dict[str, str]) -> str:
    """``text`` with each ``{{key}}`` replaced; an unknown key is a bug in the template, said so."""
    def one(m: re.Match[str]) -> str:
        if m[1] not in values:
            raise KeyError(f"template placeholder {{{{{m[1]}}}}} has no value (known: {sorted(values)})")
        return values[m[1]]

    return PLACEHOLDER.sub(one, text)


def create(name: str, where: Path) -> Path:
    """Write a new project named ``name`` into ``where/name`` and return that folder. ``name`` is the
    app's name (and the Pulumi project's), so it follows the rule every cloud accepts."""
    try:
        check_name("app", name)
    except DeclarationError as e:
        raise click.ClickException(f"{e} (it names the new folder, the app and the Pulumi project)") from None
    folder = where / name
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise click.ClickException(f"{folder} already exists and is not an empty folder: choose another name, "
                                   "or run `portside new` somewhere else")
    values = {"name": name, "portside_version": metadata.version("portside")}
    files = {path: render(text, values) for path, text in template_files().items()}  # all rendered before any write
    for path, text in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder


@click.command("new")
@click.argument("name")
def new(name: str) -> None:
    """Create a new project NAME in ./NAME: an app with an HTTP route, a queue and a table, its tests,
    and a Pulumi program with one stack per cloud."""
    folder = create(name, Path.cwd())
    click.echo(f"created {folder} (app {name!r}); next:\n"
               f"  cd {name}\n"
               "  python -m pip install -e '.[dev]'   # once, in an environment that has portside\n"
               "  python -m pytest                    # its tests on the fake cloud\n"
               "  portside dev                        # run it on this machine\n"
               "  python -m portside.infra.plan       # what AWS and Google Cloud would get, without an account")
