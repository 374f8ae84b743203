"""The project a command runs in: its root folder and the App it declares.

A portside project is the nearest folder, from the working directory up, whose ``pyproject.toml``
has a ``[tool.portside]`` table::

    [tool.portside]
    app = "shop.app:app"        # module:attribute of the App

The CLI, the plan and the Pulumi program find the app there, from any subfolder, so no command
needs ``--app`` and no module of the SDK names an application.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from portside.errors import DeclarationError

CONFIG = "pyproject.toml"
APP_ENV = "PORTSIDE_APP"  # overrides the project's app (as the deployed functions set it)


@dataclass(frozen=True)
class Project:
    root: Path
    app: str  # "module:attribute"

    @property
    def data_dir(self) -> Path:
        """Where the local runtime keeps its state: ``<root>/.portside``."""
        return self.root / ".portside"

    def importable(self) -> Project:
        """Put the project root first on ``sys.path`` so its packages import from anywhere."""
        root = str(self.root)
        if root not in sys.path:
            sys.path.insert(0, root)
        return self


def _config(folder: Path) -> dict[str, object] | None:
    path = folder / CONFIG
    if not path.is_file():
        return None
    import tomllib

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DeclarationError(f"{path}: not readable TOML ({e})") from None
    table = data.get("tool", {}).get("portside")
    return table if isinstance(table, dict) else None


def find(start: str | os.PathLike[str] | None = None) -> Project | None:
    """The project containing ``start`` (default: the working directory), or None."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        table = _config(folder)
        if table is not None:
            app = os.environ.get(APP_ENV) or table.get("app")
            if not isinstance(app, str) or ":" not in app:
                raise DeclarationError(f"{folder / CONFIG}: [tool.portside] needs app = \"module:attribute\" "
                                       f"(the App your project declares), got {app!r}")
            return Project(folder, app)
    return None


def current(start: str | os.PathLike[str] | None = None) -> Project:
    """Like ``find``, but a folder outside any project is an error that says what to do."""
    project = find(start)
    if project is None:
        where = Path(start or os.getcwd()).resolve()
        raise DeclarationError(f"{where} is not inside a portside project: no {CONFIG} with a [tool.portside] "
                               "table here or above. Run the command in your project, or create one with "
                               "`portside new NAME`")
    return project


def app_spec(start: str | os.PathLike[str] | None = None) -> str:
    """``$PORTSIDE_APP``, else the current project's app."""
    return os.environ.get(APP_ENV) or current(start).importable().app
