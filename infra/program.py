"""The program: stack config + the app's declarations -> one cloud's components and stack outputs.

``build()`` is what ``__main__`` runs and what the tests and ``infra.plan`` call under mocks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from infra.checks import check
from infra.component import Context
from infra.envnames import DEFAULTS, missing_entries, missing_names
from infra.naming import Names
from infra.package import build_package
from infra.settings import Settings, check_cloud, name_prefix, read_settings
from portside.app import App, load_app
from portside.errors import DeclarationError


def build(app: App | None = None, settings: Settings | None = None, *,
          overrides: dict[str, dict[str, Any]] | None = None, transforms: list[Any] | None = None,
          export: bool = True, on_context: Callable[[Context], None] | None = None) -> dict[str, Any]:
    """Provision ``app`` on ``settings.cloud``; return the stack outputs (also exported)."""
    settings = settings or read_settings()
    check_cloud(settings.cloud)
    app = app or load_app(settings.app_spec)
    names = Names(name_prefix(app.name, settings), settings.cloud, settings.project)
    check(app, settings.cloud, names, pulumi.log.warn)  # before any resource is registered
    package = build_package(app, settings.cloud, settings.app_spec)
    if not any(p.startswith(f"adapters/{settings.cloud}/") for p in package.files):
        pulumi.log.warn(f"adapters/{settings.cloud} is not in this checkout: the archive has no adapter to run")
    entries = missing_entries(settings.cloud)
    if entries:
        raise DeclarationError(f"adapters/{settings.cloud}/__init__.py defines no {entries}: the deployed functions "
                               f"call them (infra/envnames.py names the entry points)")
    unnamed = missing_names(settings.cloud)
    if unnamed:
        pulumi.log.warn(f"adapters/{settings.cloud}/env.py does not define {unnamed}; infra uses the defaults "
                        f"{[DEFAULTS[k] for k in unnamed]}")
    ctx = Context(app=app, cloud=settings.cloud, names=names, settings=settings,
                  overrides={**settings.overrides, **(overrides or {})}, transforms=list(transforms or []))
    if on_context is not None:
        on_context(ctx)
    if settings.cloud == "aws":
        from infra.aws.build import build as build_cloud
    else:
        from infra.gcp.build import build as build_cloud
    outputs = build_cloud(ctx, package)
    unused = ctx.unused_overrides()
    if unused:
        raise DeclarationError(f"overrides name resources this program does not create: {unused} "
                               "(run `python -m infra.plan --cloud <cloud>` to see every resource name)")
    outputs["cloud"] = settings.cloud
    if export:
        for key, value in outputs.items():
            pulumi.export(key, value)
    return outputs
