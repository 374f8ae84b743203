"""The program: stack config + the app's declarations -> one cloud's components and stack outputs.

``build()`` is what ``__main__`` runs and what the tests and ``portside.infra.plan`` call under mocks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from portside import project
from portside.app import App, load_app
from portside.errors import DeclarationError
from portside.infra.checks import check
from portside.infra.component import Context
from portside.infra.deps import analyse
from portside.infra.naming import Names
from portside.infra.package import build_package, handler_packages
from portside.infra.settings import Settings, check_cloud, name_prefix, read_settings


def main() -> None:
    """What ``pulumi up`` runs: find the project from the working directory (Pulumi starts the program
    in the folder ``main:`` names), make its packages importable, build its app on the stack's cloud."""
    project.current().importable()
    build()


def build(app: App | None = None, settings: Settings | None = None, *,
          overrides: dict[str, dict[str, Any]] | None = None, transforms: list[Any] | None = None,
          export: bool = True, on_context: Callable[[Context], None] | None = None) -> dict[str, Any]:
    """Provision ``app`` on ``settings.cloud``; return the stack outputs (also exported)."""
    settings = settings or read_settings()
    check_cloud(settings.cloud)
    app = app or load_app(settings.app_spec)
    names = Names(name_prefix(app.name, settings), settings.cloud, settings.project)
    check(app, settings.cloud, names, pulumi.log.warn)  # before any resource is registered
    local = frozenset(handler_packages(app, settings.app_spec))
    deps = analyse(app, settings.app_spec, local, settings.aws_architecture if settings.cloud == "aws" else "x86_64")
    package = build_package(app, settings.cloud, settings.app_spec, deps)
    ctx = Context(app=app, cloud=settings.cloud, names=names, settings=settings,
                  overrides={**settings.overrides, **(overrides or {})}, transforms=list(transforms or []))
    ctx.shared["deps"] = deps
    if on_context is not None:
        on_context(ctx)
    if settings.cloud == "aws":
        from portside.infra.aws.build import build as build_cloud
    else:
        from portside.infra.gcp.build import build as build_cloud
    outputs = build_cloud(ctx, package)
    unused = ctx.unused_overrides()
    if unused:
        raise DeclarationError(f"overrides name resources this program does not create: {unused} "
                               "(run `python -m portside.infra.plan --cloud <cloud>` to see every resource name)")
    outputs["cloud"] = settings.cloud
    if export:
        for key, value in outputs.items():
            pulumi.export(key, value)
    return outputs
