"""The policy pack's validators (policy/portside_rules.py) over the reference app, under mocks, on
both clouds: the program passes every rule, and each rule catches the mistake it exists for.

pulumi_policy itself cannot share the project's venv (it pins protobuf 5; google-cloud-firestore needs
6), so the arguments are built here with the attributes its ResourceValidationArgs, StackValidationArgs
and PolicyResource carry (resource_type, props, name, urn, parent, dependencies).
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from portside import load_app
from portside.infra.deps import analyse
from portside.infra.mocks import Run
from tests.infra.conftest import reference_on

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = "handlers.app:app"
_spec = importlib.util.spec_from_file_location("portside_rules", ROOT / "policy" / "portside_rules.py")
rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rules)

reference = reference_on


def declared() -> tuple[set[str], dict[str, tuple[str, ...]]]:
    app = load_app(REFERENCE)
    private = {f.name for f in app.functions.values() if getattr(f.trigger, "private", False)}
    return private, analyse(app, REFERENCE, frozenset({"handlers"})).needs


def resources(result: Run, edit: Any = None) -> list[SimpleNamespace]:
    """The run as PolicyResources: props, parent (the component) and explicit dependencies."""
    parent = {name: comp.name for comp in result.context.tree for _, name in comp.children}
    recorded = [r for r in result.resources if not r.type.startswith("portside:")]
    out = {r.name: SimpleNamespace(resource_type=r.type, props=copy.deepcopy(r.outputs), name=r.name, urn=r.urn,
                                   parent=parent.get(r.name), dependencies=[]) for r in recorded}
    for name, res in out.items():
        res.dependencies = [out[d] for d in result.context.dependencies.get(name, []) if d in out]
    if edit is not None:
        edit(out)
    return list(out.values())


def violations(items: list[SimpleNamespace]) -> list[str]:
    found: list[str] = []
    report = lambda message, urn=None: found.append(message)  # noqa: E731 - ReportViolation's signature
    for _, check in rules.RESOURCE_RULES.values():
        for r in items:
            check(SimpleNamespace(resource_type=r.resource_type, props=r.props, name=r.name, urn=r.urn), report)
    for _, check in rules.stack_rules(*declared()).values():
        check(SimpleNamespace(resources=items), report)
    return found


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_the_reference_app_passes_every_rule(cloud: str) -> None:
    assert violations(resources(reference(cloud))) == []


def drop_redrive(out: dict) -> None:
    out["contact-jobs"].props.pop("redrivePolicy")


def wildcard(out: dict) -> None:
    policy = json.loads(out["store-policy"].props["policy"])
    policy["Statement"][0]["Action"] = ["dynamodb:*"]
    out["store-policy"].props["policy"] = json.dumps(policy)


def open_admin_route(out: dict) -> None:
    out["request-rebuild-route"].props["authorizationType"] = "NONE"


def no_layer(out: dict) -> None:
    out["make-thumbnail"].props.pop("layers")


def no_public_access_block(out: dict) -> None:
    out["uploads-public-access"].props["restrictPublicBuckets"] = False


@pytest.mark.parametrize("edit, expected", [
    (drop_redrive, "contact-jobs: queue portside-demo-aws-dev-contact-jobs has no redrive policy"),
    (wildcard, "store-policy: wildcard action 'dynamodb:*'"),
    (open_admin_route, "request-rebuild-route: route POST /admin/rebuild-projections is declared private"),
    (no_layer, "make-thumbnail: imports pillow but has no layer carrying them"),
    (no_public_access_block, "uploads: S3 bucket without a full public access block"),
])
def test_each_aws_rule_catches_its_mistake(edit: Any, expected: str) -> None:
    found = violations(resources(reference("aws"), edit))
    assert any(v.startswith(expected) for v in found), found


def public_admin(out: dict) -> None:
    out["request-rebuild-public"] = SimpleNamespace(
        resource_type="gcp:cloudrunv2/serviceIamMember:ServiceIamMember", name="request-rebuild-public", urn="u",
        props={"name": out["request-rebuild"].props["name"], "member": "allUsers", "role": "roles/run.invoker"},
        parent=None, dependencies=[])


def no_wait_for_agent(out: dict) -> None:
    out["make-thumbnail"].dependencies = []


def builder_cannot_read(out: dict) -> None:
    out["builder-reads-sources"].props["role"] = "roles/logging.logWriter"


def unpinned(out: dict) -> None:
    import pulumi

    archive = out["code-archive"].props["source"]
    assets = {**archive.assets, "requirements.txt": pulumi.StringAsset("functions-framework==3.10.2\n")}
    out["code-archive"].props["source"] = pulumi.AssetArchive(assets)


def push_without_dead_letter(out: dict) -> None:
    out["contact-jobs"].props.pop("deadLetterPolicy")


def public_bucket(out: dict) -> None:
    out["uploads"].props["publicAccessPrevention"] = "inherited"


def owner(out: dict) -> None:
    out["store-write-contacts"].props["role"] = "roles/owner"


@pytest.mark.parametrize("edit, expected", [
    (public_admin, "request-rebuild-public: function request-rebuild is declared private but allUsers"),
    (no_wait_for_agent, "make-thumbnail: created without waiting for the Cloud Storage service agent"),
    (builder_cannot_read, "make-thumbnail: its build account may not read gcf-v2-sources"),
    (unpinned, "make-thumbnail: imports pillow, which the source's requirements.txt does not pin"),
    (push_without_dead_letter, "contact-jobs: push subscription has no dead-letter policy"),
    (public_bucket, "uploads: bucket does not enforce public access prevention"),
    (owner, "store-write-contacts: grants the basic role roles/owner"),
])
def test_each_gcp_rule_catches_its_mistake(edit: Any, expected: str) -> None:
    found = violations(resources(reference("gcp"), edit))
    assert any(v.startswith(expected) for v in found), found


def test_the_pack_wraps_every_rule() -> None:
    """policy/__main__.py turns every rule into a pulumi_policy policy, none left out."""
    main = (ROOT / "policy" / "__main__.py").read_text()
    compile(main, "policy/__main__.py", "exec")
    assert "rules.RESOURCE_RULES.items()" in main and "rules.stack_rules(private, needs).items()" in main
    assert "PulumiPolicy.yaml" in {p.name for p in (ROOT / "policy").iterdir()}
