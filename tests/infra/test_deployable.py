"""Issue 10's findings, one test each: what a real account enforces and mocks accept.

Each test fails on the program as it stood before the fix (reviewed against the providers' docs and
issue threads cited in each docstring) and passes now. The reference app is planned as the project
declares it (handlers/app.py and handlers/requirements.txt).
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest

from portside import DeclarationError, load_app
from portside.infra.mocks import ACCOUNT, PROJECT, PROJECT_NUMBER, Run, run
from portside.infra.package import build_package
from tests.infra.conftest import reference_on

REFERENCE = "handlers.app:app"
reference = reference_on


def gcf(r: Run, fn: str) -> dict:
    return r.named(fn, "gcp:cloudfunctionsv2/function:Function").inputs


# -- AWS -----------------------------------------------------------------------------------------

def test_aws_scheduler_role_trusts_only_this_accounts_schedules() -> None:
    """EventBridge Scheduler's execution role guide conditions the trust on aws:SourceAccount (confused
    deputy): docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role."""
    trust = json.loads(reference("aws").named("daily-order-report-scheduler-role").inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_aws_api_stage_is_throttled_and_config_changes_it() -> None:
    """Without stage limits every route shares the account's regional quota (10,000 rps):
    docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html."""
    stage = reference("aws").named("public-stage").inputs
    assert stage["defaultRouteSettings"] == {"throttlingRateLimit": 50, "throttlingBurstLimit": 100}
    tuned = run("aws", load_app(REFERENCE), config={"app:apiRateLimit": "5", "app:apiBurstLimit": "10"})
    assert tuned.named("public-stage").inputs["defaultRouteSettings"] == {"throttlingRateLimit": 5,
                                                                          "throttlingBurstLimit": 10}


def test_aws_private_route_takes_only_iam_signed_calls() -> None:
    """POST /admin/rebuild-projections queues up to 366 jobs per call: it is declared auth="iam" and gets
    API Gateway's IAM authorization (apigateway/latest/developerguide/http-api-access-control-iam.html)."""
    r = reference("aws")
    routes = {x.inputs["routeKey"]: x.inputs.get("authorizationType") for x in r.of_type("aws:apigatewayv2/route:Route")}
    assert routes.pop("POST /admin/rebuild-projections") == "AWS_IAM"
    assert set(routes.values()) == {"NONE"}  # the others stay public, as declared


def test_aws_thumbnail_functions_get_pillow_in_a_layer_built_for_their_architecture() -> None:
    """Both thumbnail Lambdas import Pillow; the archive holds no third-party code, so they need a layer."""
    r = reference("aws")
    (layer,) = r.of_type("aws:lambda/layerVersion:LayerVersion")
    assert layer.inputs["compatibleArchitectures"] == ["arm64"]
    assert layer.inputs["compatibleRuntimes"] == ["python3.12"]
    with_layer = {f.name for f in r.of_type("aws:lambda/function:Function") if f.inputs.get("layers")}
    assert with_layer == {"make-thumbnail", "remove-thumbnail"}  # and no other function carries it
    assert r.named("make-thumbnail", "aws:lambda/function:Function").inputs["layers"] == [layer.outputs["arn"]]


def test_archive_name_depends_on_sources_and_requirements_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without Python 3.12 ships no bytecode; that must not rename the archive and so update
    every function."""
    import portside.infra.package as package

    app = load_app(REFERENCE)
    with_bytecode = build_package(app, "aws", REFERENCE)
    monkeypatch.setattr(package, "interpreter", lambda version: None)
    without = build_package(app, "aws", REFERENCE)
    assert not [p for p in without.files if p.endswith(".pyc")]
    assert with_bytecode.name == without.name


def test_an_undeclared_import_fails_the_plan_naming_module_import_and_file(tmp_path: Path) -> None:
    pkg = f"shop_{uuid.uuid4().hex[:8]}"
    (tmp_path / pkg).mkdir()
    (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / pkg / "app.py").write_text(
        "from portside import App\napp = App('shop')\n"
        f"app.function('{pkg}.work:run', trigger=app.queue('jobs').on_message())\n")
    (tmp_path / pkg / "helpers.py").write_text("import json\nimport yaml\n")
    (tmp_path / pkg / "work.py").write_text(
        f"from typing import TYPE_CHECKING\nfrom {pkg} import helpers\nif TYPE_CHECKING:\n    import boto3\n"
        "def run(event):\n    import PIL.Image\n    return helpers\n")
    sys.path.insert(0, str(tmp_path))
    try:
        app = load_app(f"{pkg}.app:app")
        with pytest.raises(DeclarationError) as caught:
            run("aws", app, config={"app:app": f"{pkg}.app:app"})
        text = str(caught.value)
        assert f"{pkg}/work.py:6 ({pkg}.work, function 'run') imports 'PIL'" in text
        assert f"{pkg}/helpers.py:2 ({pkg}.helpers, function 'run') imports 'yaml'" in text  # found through helpers
        assert f"add the distribution that provides it (here: pillow) to {tmp_path / pkg / 'requirements.txt'}" in text
        assert "boto3" not in text  # under TYPE_CHECKING: never imported at run time
        (tmp_path / pkg / "requirements.txt").write_text("pillow\npyyaml\n")
        run("aws", app, config={"app:app": f"{pkg}.app:app"})  # declared: it plans
    finally:
        sys.path.remove(str(tmp_path))


# -- GCP -----------------------------------------------------------------------------------------

def test_gcp_builder_reads_the_sources_bucket_cloud_functions_copies_to() -> None:
    """The build fetches gs://gcf-v2-sources-<project number>-<region>/...: "Access to bucket
    gcf-v2-sources-594424405950-us-central1 denied. You must grant Storage Object Viewer permission"
    (terraform-provider-google #20571). The bucket appears on the first deploy: a conditioned grant."""
    r = reference("gcp")
    grant = r.named("builder-reads-sources").inputs
    assert grant["role"] == "roles/storage.objectViewer"
    assert grant["condition"]["expression"] == \
        f'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-{PROJECT_NUMBER}-us-central1")'
    assert "builder-reads-sources" in r.depends_on("make-thumbnail")


def test_gcp_builder_project_roles_are_conditioned_except_logging() -> None:
    """The builder held logging.logWriter and artifactregistry.writer on the whole project; Artifact
    Registry can be narrowed to the gcf-artifacts repository, Cloud Logging cannot."""
    r = reference("gcp")
    member = f"serviceAccount:{r.named('builder', 'gcp:serviceaccount/account:Account').outputs['email']}"
    project_wide = [x.inputs for x in r.of_type("gcp:projects/iAMMember:IAMMember") if x.inputs["member"] == member]
    unconditioned = {g["role"] for g in project_wide if not g.get("condition")}
    assert unconditioned == {"roles/logging.logWriter"}
    ar = next(g for g in project_wide if g["role"] == "roles/artifactregistry.writer")
    assert "repositories/gcf-artifacts" in ar["condition"]["expression"]


def test_gcp_fresh_project_enables_resource_manager_before_looking_the_project_up() -> None:
    """get_project needs cloudresourcemanager.googleapis.com, which a fresh project lacks."""
    r = reference("gcp")
    services = {s.inputs["service"] for s in r.of_type("gcp:projects/service:Service")}
    assert "cloudresourcemanager.googleapis.com" in services
    log = r.log
    assert log.index("resource api-cloudresourcemanager") < log.index("call gcp:organizations/getProject:getProject")


def test_gcp_storage_triggers_wait_for_the_storage_agent_and_iam_propagation() -> None:
    """A storage trigger created before the Cloud Storage agent may publish fails; Eventarc's agent must
    exist and hold its role first (pulumi-gcp #1290: ServiceIdentity + roles/eventarc.serviceAgent;
    terraform-provider-google #25294: create the agents, then wait for the IAM bindings)."""
    r = reference("gcp")
    agent = r.named("eventarc-agent", "gcp:projects/serviceIdentity:ServiceIdentity").inputs
    assert agent["service"] == "eventarc.googleapis.com"
    assert r.named("eventarc-agent-role").inputs["role"] == "roles/eventarc.serviceAgent"
    sleep = r.named("iam-propagation", "time:index/sleep:Sleep")
    assert sleep.inputs["createDuration"] == "90s"
    assert {"storage-agent-publisher", "eventarc-agent-role", "builder-reads-sources"} <= r.depends_on("iam-propagation")
    for fn in ("make-thumbnail", "remove-thumbnail", "store"):
        assert {"iam-propagation", "storage-agent-publisher"} <= r.depends_on(fn) or fn == "store"
        assert "iam-propagation" in r.depends_on(fn)
    assert "storage-agent-publisher" in r.depends_on("uploads-remove-thumbnail-notification")


def test_gcp_write_only_uses_cannot_read() -> None:
    """storage.objectUser and datastore.user also read; a write-only use gets a custom role."""
    r = reference("gcp")
    roles = {x.inputs["roleId"]: set(x.inputs["permissions"]) for x in r.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")}
    assert roles == {"portside_demo_gcp_dev_objectWriter": {"storage.objects.create", "storage.objects.delete"},
                     "portside_demo_gcp_dev_entityWriter": {"datastore.entities.create", "datastore.entities.update",
                                                            "datastore.entities.delete"}}
    thumbs = r.named("make-thumbnail-write-thumbnails").inputs
    assert thumbs["role"] == f"projects/{PROJECT}/roles/portside_demo_gcp_dev_objectWriter"
    granted = {x.inputs["role"] for x in r.resources if "role" in x.inputs}
    assert not granted & {"roles/storage.objectUser", "roles/datastore.user"}


def test_gcp_functions_only_pubsub_eventarc_or_scheduler_call_take_internal_traffic() -> None:
    """Cloud Run's internal ingress still admits Pub/Sub push, Eventarc and Cloud Scheduler of the
    project (cloud.google.com/run/docs/securing/ingress)."""
    app, r = load_app(REFERENCE), reference("gcp")
    for name, fn in app.functions.items():
        expected = "ALLOW_ALL" if fn.trigger.kind == "http" else "ALLOW_INTERNAL_ONLY"
        assert gcf(r, name)["serviceConfig"]["ingressSettings"] == expected, name


def test_gcp_private_route_has_no_public_invoker() -> None:
    r = reference("gcp")
    public = {x.name for x in r.of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
              if x.inputs["member"] == "allUsers"}
    assert "request-rebuild-public" not in public and "accept-public" in public


def test_gcp_requirements_are_pinned_from_the_app_not_this_repositorys_extras() -> None:
    """Unpinned, each of 20 builds resolves its own versions; and the app's Pillow came from pyproject."""
    import PIL

    package = build_package(load_app(REFERENCE), "gcp", REFERENCE,
                            __import__("portside.infra.deps", fromlist=["analyse"]).analyse(
                                load_app(REFERENCE), REFERENCE, frozenset({"handlers"})))
    lines = [x for x in package.files["requirements.txt"].decode().splitlines() if not x.startswith("#")]
    assert lines and all("==" in x and not any(c in x for c in "<>~;") for x in lines)
    assert f"pillow=={PIL.__version__}" in lines
    assert any(x.startswith("functions-framework==") for x in lines)
    assert not [x for x in lines if x.split("==")[0] in ("pulumi", "boto3", "pytest", "moto")]


def test_the_plan_shows_dependencies_and_route_access(capsys: pytest.CaptureFixture[str]) -> None:
    from portside.infra.plan import main

    assert main(["--cloud", "aws", "--quiet"]) == 0
    out = capsys.readouterr().out
    thumb = out.split("Function make-thumbnail\n", 1)[1].split("\nFunction ", 1)[0]
    assert "  dependencies: pillow==" in thumb and "(packaged in the dependency layer)" in thumb
    admin = out.split("Function request-rebuild\n", 1)[1].split("\nFunction ", 1)[0]
    assert "  route POST /admin/rebuild-projections: private: IAM authorizer" in admin
    assert "  dependencies: none beyond portside" in admin
    assert "  route POST /contact: public" in out
