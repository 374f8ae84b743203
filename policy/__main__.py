"""portside's CrossGuard policy pack: ``pulumi preview --policy-pack policy`` (docs/guides/policy.md).

Pulumi runs this file in its own virtualenv (PulumiPolicy.yaml, requirements.txt): pulumi-policy pins
protobuf 5, which google-cloud-firestore's protobuf 6 excludes from the project's own venv. The rules
live in portside_rules.py, free of pulumi_policy, so the tests call them directly on mocked runs.
Two rules read the app's declarations (its private routes, its imports); portside's core and the
app import nothing beyond the standard library, so they load here from the project folder.
"""

import importlib.util
import sys
from pathlib import Path

import portside_rules as rules
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def declarations() -> tuple[set[str], dict[str, tuple[str, ...]]]:
    """The project's private routes and each function's third-party imports."""
    from portside import project
    from portside.app import load_app

    spec = project.current(ROOT).app
    app = load_app(spec)
    private = {f.name for f in app.functions.values() if getattr(f.trigger, "private", False)}
    loader = importlib.util.spec_from_file_location("portside_infra_deps", ROOT / "infra" / "deps.py")
    deps = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(deps)
    local = frozenset(f.handler.split(".")[0].split(":")[0] for f in app.functions.values()) - {"portside"}
    return private, deps.analyse(app, spec, local).needs


private, needs = declarations()
PolicyPack(
    name="portside",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        *(ResourceValidationPolicy(name=name, description=text, validate=check)
          for name, (text, check) in rules.RESOURCE_RULES.items()),
        *(StackValidationPolicy(name=name, description=text, validate=check)
          for name, (text, check) in rules.stack_rules(private, needs).items()),
    ],
)
