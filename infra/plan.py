"""A plan without an account: run the program under mocks and print what it would create.

    python -m portside.infra.plan --cloud gcp            # or aws, or both (the default)
    python -m portside.infra.plan --stack gcp-dev                # that stack's config (Pulumi.gcp-dev.yaml)
    python -m portside.infra.plan --app shop.app:app --stack prod --cloud aws

Prints each component with its underlying resources (their names are the keys app:overrides
takes) and, per function, who may call it, the packages it imports (packaged or not) and its
grants, so both clouds can be compared before having either account.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from contextlib import redirect_stderr

from portside import project
from portside.app import App, load_app
from portside.declarations import Function, HttpTrigger
from portside.errors import DeclarationError
from portside.infra.audit import grants
from portside.infra.deps import Dependencies
from portside.infra.mocks import run
from portside.infra.settings import CLOUDS


def stack_config(stack: str) -> dict[str, str]:
    """The config of ``Pulumi.<stack>.yaml`` next to Pulumi.yaml (empty when there is no such file)."""
    import yaml  # a dependency of pulumi

    path = project.current().root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return {}
    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def render(cloud: str, app_spec: str | None = None, stack: str | None = None, app: App | None = None) -> str:
    """The plan of ``app`` (or the App at ``app_spec``, default the project's) on ``cloud`` as text, with the
    stack file's config."""
    app_spec = app_spec or project.app_spec()
    app = app or load_app(app_spec)
    config = {**stack_config(stack or f"{cloud}-dev"), "app:cloud": cloud, "app:app": app_spec}
    result = run(cloud, app, config=config, stack=stack)
    ctx = result.context
    lines = [f"{app.name} on {cloud} (stack {stack or cloud + '-dev'}): {len(ctx.tree)} components, "
             f"{sum(len(c.children) for c in ctx.tree)} resources"]
    for comp in ctx.tree:
        lines.append(f"{comp.kind} {comp.name}")
        for i, (kind, name) in enumerate(comp.children):
            lines.append(f"  {'└─' if i == len(comp.children) - 1 else '├─'} {kind} {name}")
        if comp.kind == "Function":
            lines += [f"  {line}" for line in function_notes(comp.decl, cloud, ctx.shared.get("deps"))]
            lines.append(f"  grants ({comp.decl.handler}, {comp.decl.trigger}):")
            lines += [f"    {g}" for g in grants(result, cloud, comp.name)]
    lines.append("outputs:")
    lines += list(_outputs(result.outputs, "  "))
    return "\n".join(lines)


ACCESS = {"public": "public: anyone on the internet may call it",
          "iam": {"aws": "private: IAM authorizer, SigV4-signed callers allowed execute-api:Invoke",
                  "gcp": "private: no allUsers, callers holding run.invoker with an ID token"}}


def function_notes(fn: Function, cloud: str, deps: Dependencies | None) -> list[str]:
    """Who may call ``fn`` (HTTP routes) and the third-party packages it imports, packaged or not."""
    out = []
    if isinstance(fn.trigger, HttpTrigger):
        access = ACCESS[fn.trigger.auth]
        out.append(f"route {fn.trigger.method} {fn.trigger.path}: {access if isinstance(access, str) else access[cloud]}")
    else:
        out.append("ingress: " + ("internal only (Pub/Sub, Eventarc, Cloud Scheduler)" if cloud == "gcp"
                                  else "invoked by its event source only"))
    needed = (deps.needs.get(fn.name) if deps else ()) or ()
    if not needed:
        out.append("dependencies: none beyond portside")
    else:
        where = "in the dependency layer" if cloud == "aws" else "in requirements.txt, installed by Cloud Build"
        out.append(f"dependencies: {', '.join(f'{d}=={deps.pins[d]}' for d in needed)} (packaged {where})")
    return out


def _outputs(value: object, indent: str):
    for key, v in value.items():  # type: ignore[attr-defined]
        if isinstance(v, dict):
            yield f"{indent}{key}:"
            yield from _outputs(v, indent + "  ")
        else:
            yield f"{indent}{key}: {v}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portside.infra.plan", description=__doc__.split("\n")[0])
    parser.add_argument("--cloud", choices=[*CLOUDS, "both"], default=None,
                        help="default: the --stack file's app:cloud, else both")
    parser.add_argument("--app", default=None, help="module:attribute of the App (default: the project's)")
    parser.add_argument("--stack", default=None, help="plan this stack: its name and Pulumi.<stack>.yaml config "
                                                      "(default <cloud>-dev)")
    parser.add_argument("--quiet", action="store_true", help="hide the program's warnings")
    args = parser.parse_args(argv)
    cloud_arg = args.cloud or (stack_config(args.stack).get("app:cloud") if args.stack else None) or "both"
    clouds = CLOUDS if cloud_arg == "both" else (cloud_arg,)
    for cloud in clouds:
        sink = io.StringIO() if args.quiet else sys.stderr
        try:
            with redirect_stderr(sink):
                text = render(cloud, args.app, args.stack)
        except (DeclarationError, ValueError) as e:
            print(f"{cloud}: cannot plan: {e}", file=sys.stderr)
            return 2
        print(text)
        if cloud != clouds[-1]:
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
