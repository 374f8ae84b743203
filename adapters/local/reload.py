"""Hot reload for ``portside dev``: edit a handler or the app declaration, the workers restart on it.

A watcher (watchfiles: inotify, not polling) sees a ``.py`` file or ``pyproject.toml`` change
under the project; the project's modules are dropped from ``sys.modules`` and the app imported
again; ``LocalCloud.reload`` then lets each worker finish and settle the batch it holds before it
restarts them on the new app. What was accepted waits in SQLite in between, so nothing accepted is
lost and nothing settled runs twice. An edit that does not import (a syntax error, a bad
declaration, a handler that is gone) is reported, and the last good version keeps running: its
modules are put back as they were.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from portside.app import load_app
from portside.local.runtime import LocalCloud

log = logging.getLogger("portside.local")
IGNORED_DIRS = ("build", "dist", ".portside")


class Reloader:
    """Watch ``root`` and reload ``spec`` into ``cloud`` on each change; ``on_change(ok, text)`` says how it went."""

    def __init__(self, cloud: LocalCloud, spec: str, root: Path, on_change: Callable[[bool, str], None]) -> None:
        self.cloud, self.spec, self.root = cloud, spec, root.resolve()
        self.on_change = on_change
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Reloader:
        self._thread = threading.Thread(target=self._watch, name="portside-reload", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        from watchfiles import DefaultFilter, watch

        class SourceFilter(DefaultFilter):
            def __call__(self, change: object, path: str) -> bool:
                return (path.endswith(".py") or path.endswith("pyproject.toml")) and super().__call__(change, path)

        ignored = [str(self.root / d) for d in IGNORED_DIRS]
        for changes in watch(self.root, watch_filter=SourceFilter(ignore_paths=ignored), stop_event=self._stop,
                             debounce=200, step=50, raise_interrupt=False):
            names = sorted({Path(p).relative_to(self.root).as_posix() for _, p in changes})
            self.reload(names)

    def _ours(self, module: ModuleType | None) -> bool:
        """A module of the project (not portside itself, not an installed package)."""
        file = getattr(module, "__file__", None)
        if not file or getattr(module, "__name__", "").split(".")[0] == "portside":
            return False
        path = Path(file).resolve()
        return path.is_relative_to(self.root) and "site-packages" not in path.parts and ".venv" not in path.parts

    def reload(self, changed: list[str]) -> bool:
        """Import the app afresh and run it; on any failure put the old modules back and keep the old app."""
        what = ", ".join(changed) or "a file"
        saved = {name: m for name, m in list(sys.modules.items()) if self._ours(m)}
        for name in saved:
            del sys.modules[name]
        importlib.invalidate_caches()
        try:
            app = load_app(self.spec)
            self.cloud.reload(app)  # imports every handler first: a broken one leaves the old app running
        except Exception as e:  # noqa: BLE001 - whatever the edit broke, the last good version keeps running
            for name in [n for n, m in list(sys.modules.items()) if self._ours(m)]:
                del sys.modules[name]
            sys.modules.update(saved)
            text = str(e).splitlines()[0] if str(e) else type(e).__name__
            self.error = f"{what}: {type(e).__name__}: {text}" if type(e).__name__ not in text else f"{what}: {text}"
            self.on_change(False, self.error)
            return False
        self.error = None
        self.on_change(True, f"reloaded app {app.name!r} ({len(app.functions)} functions) after editing {what}")
        return True
