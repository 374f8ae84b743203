"""The base of every portside component, and the escape hatch.

Each component registers its underlying resources through ``child()``. Any argument of any
underlying resource can be overridden by its Pulumi name (the names `python -m portside.infra.plan`
prints), from code (``build(..., overrides=...)``) or from stack config (``app:overrides``):

    pulumi config set --path 'app:overrides.contact-jobs.message_retention_seconds' 1209600

Nested dicts merge; other values replace. Pulumi transforms work as well, through
``ResourceOptions(transforms=...)`` passed to ``build``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

import pulumi

from portside.app import App
from portside.errors import DeclarationError
from portside.infra.naming import Names
from portside.infra.settings import Settings

T = TypeVar("T", bound=pulumi.CustomResource)


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass
class Context:
    """What every component needs: the app, the cloud's names, overrides, shared parts."""

    app: App
    cloud: str
    names: Names
    settings: Settings
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    transforms: list[Any] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)  # e.g. the components by logical name
    tree: list[Component] = field(default_factory=list)  # every component, in creation order
    dependencies: dict[str, list[str]] = field(default_factory=dict)  # resource -> what it explicitly waits for
    resource_names: dict[int, str] = field(default_factory=dict)  # id(resource) -> its name

    def unused_overrides(self) -> list[str]:
        return sorted(set(self.overrides) - self.used)


class Component(pulumi.ComponentResource):
    """A ComponentResource whose children take overrides and sit under it in the tree."""

    kind = "component"

    def __init__(self, name: str, ctx: Context, opts: pulumi.ResourceOptions | None = None) -> None:
        base = pulumi.ResourceOptions(transforms=ctx.transforms or None)
        super().__init__(f"portside:{ctx.cloud}:{self.kind}", name, None, pulumi.ResourceOptions.merge(base, opts))
        self.ctx, self.name = ctx, name
        self.outputs: dict[str, Any] = {}
        self.children: list[tuple[str, str]] = []  # (e.g. "aws.s3.Bucket", resource name)
        ctx.tree.append(self)

    def child(self, cls: type[T], rname: str, /, *, depends_on: list[pulumi.Resource] | None = None, **args: Any) -> T:
        if rname in self.ctx.overrides:
            self.ctx.used.add(rname)
            args = merge(args, self.ctx.overrides[rname])
        opts = pulumi.ResourceOptions(parent=self, depends_on=[*self.ctx.depends_on, *(depends_on or [])])
        provider = cls.__module__.split(".")[0].removeprefix("pulumi_")
        self.children.append((f"{provider}.{cls.__module__.split('.')[1]}.{cls.__name__}", rname))
        try:
            made = cls(rname, opts=opts, **args)
        except TypeError as e:
            raise DeclarationError(f"resource {rname!r} ({cls.__module__}.{cls.__name__}): bad argument, "
                                   f"check app:overrides[{rname!r}]: {e}") from None
        self.ctx.resource_names[id(made)] = rname
        self.ctx.dependencies[rname] = [self.ctx.resource_names.get(id(d), "?") for d in opts.depends_on or []]
        return made

    def done(self, **outputs: Any) -> None:
        self.outputs = outputs
        self.register_outputs(outputs)
