"""Least privilege, read from what the program registered: every function may do exactly what it
declared (plus what its trigger needs), on exactly the declared resources. Nothing else.

The expected permissions are written out here, independently of infra/grants.py.
"""

from __future__ import annotations

import pytest

from portside.infra.audit import aws_statements, gcp_bindings, gcp_member
from portside.infra.mocks import PROJECT, PROJECT_NUMBER, Run
from tests.infra.apps import ASYNC, DECLARED, full_app

APP = full_app()

AWS_EXPECTED = {
    ("bucket", "read"): {("s3:GetObject", "/*"), ("s3:ListBucket", "")},
    ("bucket", "write"): {("s3:PutObject", "/*"), ("s3:DeleteObject", "/*")},
    ("queue", "send"): {("sqs:SendMessage", "")},
    ("topic", "publish"): {("sns:Publish", "")},
    ("table", "read"): {("dynamodb:GetItem", ""), ("dynamodb:Query", "")},
    ("table", "write"): {("dynamodb:PutItem", ""), ("dynamodb:UpdateItem", ""), ("dynamodb:DeleteItem", "")},
}
AWS_TOKENS = {"bucket": "aws:s3/bucket:Bucket", "queue": "aws:sqs/queue:Queue", "topic": "aws:sns/topic:Topic",
              "table": "aws:dynamodb/table:Table"}
TRIGGER_QUEUE = {"work": "jobs", "audit": "orders-audit", "ship": "orders-ship", "thumb": "uploads-thumb",
                 "purge": "uploads-purge"}


def flatten(statements: list[dict]) -> set[tuple[str, str]]:
    pairs = set()
    for st in statements:
        assert st["Effect"] == "Allow" and "NotAction" not in st and "NotResource" not in st
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        pairs |= {(a, r) for a in actions for r in resources}
    return pairs


@pytest.mark.parametrize("fn", sorted(DECLARED))
def test_aws_policy_is_exactly_the_declared_uses(aws_run: Run, fn: str) -> None:
    pairs = flatten(aws_statements(aws_run, fn))
    for action, resource in pairs:
        assert "*" not in action, f"{fn}: wildcard action {action}"
        assert resource != "*" and resource.startswith("arn:aws:"), f"{fn}: resource {resource}"
    kind = {r.name: r.kind for r in APP.resources.values()}
    expected = set()
    for res, access in DECLARED[fn]:
        arn = aws_run.named(res, AWS_TOKENS[kind[res]]).outputs["arn"]
        expected |= {(a, arn + suffix) for a, suffix in AWS_EXPECTED[(kind[res], access)]}
    if fn in TRIGGER_QUEUE:
        q = aws_run.named(TRIGGER_QUEUE[fn], "aws:sqs/queue:Queue").outputs["arn"]
        expected |= {(a, q) for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                      "sqs:ChangeMessageVisibility")}
    if fn in ASYNC:
        dlq = f"{TRIGGER_QUEUE.get(fn, fn)}-dlq"
        expected.add(("sqs:SendMessage", aws_run.named(dlq, "aws:sqs/queue:Queue").outputs["arn"]))
    group = aws_run.named(f"{fn}-logs").outputs["arn"]
    expected |= {("logs:CreateLogStream", f"{group}:log-stream:*"), ("logs:PutLogEvents", f"{group}:log-stream:*")}
    assert pairs == expected


def test_aws_one_role_per_function_and_only_its_inline_policy(aws_run: Run) -> None:
    roles = [r for r in aws_run.of_type("aws:iam/role:Role") if "lambda.amazonaws.com" in r.inputs["assumeRolePolicy"]]
    assert len(roles) == len(DECLARED) == len({r.inputs["name"] for r in roles})
    assert not aws_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert all("managedPolicyArns" not in r.inputs and "inlinePolicies" not in r.inputs for r in roles)
    # the scheduler's roles may only invoke their one function and send to its DLQ
    for fn in ("report", "tick"):
        pairs = flatten(aws_statements_named(aws_run, f"{fn}-scheduler-policy"))
        fn_arn = aws_run.named(fn, "aws:lambda/function:Function").outputs["arn"]
        dlq_arn = aws_run.named(f"{fn}-dlq", "aws:sqs/queue:Queue").outputs["arn"]
        assert pairs == {("lambda:InvokeFunction", fn_arn), ("sqs:SendMessage", dlq_arn)}


def aws_statements_named(run: Run, name: str) -> list[dict]:
    import json

    return json.loads(run.named(name, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"]


def test_aws_queue_policies_admit_only_their_source(aws_run: Run) -> None:
    import json

    policies = aws_run.of_type("aws:sqs/queuePolicy:QueuePolicy")
    assert len(policies) == 4  # 2 bucket triggers + 2 topic subscribers
    for p in policies:
        (st,) = json.loads(p.inputs["policy"])["Statement"]
        assert st["Action"] == "sqs:SendMessage" and st["Principal"]["Service"] in ("s3.amazonaws.com", "sns.amazonaws.com")
        assert st["Condition"]["ArnEquals"]["aws:SourceArn"].startswith(("arn:aws:s3:::", "arn:aws:sns:"))


GCP_EXPECTED = {
    ("bucket", "read"): "roles/storage.objectViewer", ("bucket", "write"): f"projects/{PROJECT}/roles/shop_gcp_dev_objectWriter",
    ("queue", "send"): "roles/pubsub.publisher", ("topic", "publish"): "roles/pubsub.publisher",
    ("table", "read"): "roles/datastore.viewer", ("table", "write"): f"projects/{PROJECT}/roles/shop_gcp_dev_entityWriter",
}


@pytest.mark.parametrize("fn", sorted(DECLARED))
def test_gcp_bindings_are_exactly_the_declared_uses(gcp_run: Run, fn: str) -> None:
    got = set()
    for b in gcp_bindings(gcp_run, fn):
        assert b.role not in ("roles/owner", "roles/editor", "roles/viewer") and not b.role.endswith("Admin")
        if b.type.startswith("gcp:projects/"):  # project-wide only where GCP has nothing narrower
            assert b.role == "roles/eventarc.eventReceiver" or (
                b.role in (GCP_EXPECTED[("table", "read")], GCP_EXPECTED[("table", "write")]) and b.condition)
        got.add((b.type.split(":")[-1], b.role, b.target, b.condition))
    kind = {r.name: r.kind for r in APP.resources.values()}
    expected = set()
    for res, access in DECLARED[fn]:
        role = GCP_EXPECTED[(kind[res], access)]
        if kind[res] == "bucket":
            expected.add(("BucketIAMMember", role, gcp_run.named(res, "gcp:storage/bucket:Bucket").outputs["name"], None))
        elif kind[res] in ("queue", "topic"):
            expected.add(("TopicIAMMember", role, gcp_run.named(res, "gcp:pubsub/topic:Topic").outputs["name"], None))
        else:
            db = gcp_run.named(res, "gcp:firestore/database:Database").outputs["name"]
            expected.add(("IAMMember", role, PROJECT, f'resource.name == "projects/{PROJECT}/databases/{db}"'))
    if fn in ASYNC:
        expected.add(("TopicIAMMember", "roles/pubsub.publisher", f"shop-gcp-dev-{fn}-dlq", None))
        expected.add(("ServiceIamMember", "roles/run.invoker", f"shop-gcp-dev-{fn}", None))
    if fn == "thumb":  # deletions come by Pub/Sub push (run.invoker above), not through Eventarc
        expected.add(("IAMMember", "roles/eventarc.eventReceiver", PROJECT, None))
    assert got == expected


def test_gcp_one_service_account_per_function(gcp_run: Run) -> None:
    accounts = [a for a in gcp_run.of_type("gcp:serviceaccount/account:Account") if a.name != "builder"]
    assert len(accounts) == len(DECLARED) == len({a.inputs["accountId"] for a in accounts})
    assert all(6 <= len(a.inputs["accountId"]) <= 30 for a in accounts)
    for fn in DECLARED:
        email = gcp_member(gcp_run, fn).split(":", 1)[1]
        assert gcp_run.named(fn, "gcp:cloudfunctionsv2/function:Function").inputs["serviceConfig"]["serviceAccountEmail"] == email


def test_gcp_builds_run_as_a_builder_with_only_build_roles(gcp_run: Run) -> None:
    builder = gcp_run.named("builder", "gcp:serviceaccount/account:Account").outputs
    member = f"serviceAccount:{builder['email']}"
    roles = {(r.type.split(":")[-1], r.inputs["role"], (r.inputs.get("condition") or {}).get("expression"))
             for r in gcp_run.resources if r.inputs.get("member") == member}
    sources = f"gcf-v2-sources-{PROJECT_NUMBER}-us-central1"
    assert roles == {
        ("BucketIAMMember", "roles/storage.objectViewer", None),  # our code bucket
        ("IAMMember", "roles/storage.objectViewer", f'resource.name.startsWith("projects/_/buckets/{sources}")'),
        ("IAMMember", "roles/artifactregistry.writer",
         f'resource.name.startsWith("projects/{PROJECT}/locations/us-central1/repositories/gcf-artifacts")'),
        ("IAMMember", "roles/logging.logWriter", None),  # Cloud Logging has nothing narrower than the project
    }
    for fn in DECLARED:
        build = gcp_run.named(fn, "gcp:cloudfunctionsv2/function:Function").inputs["buildConfig"]
        assert build["serviceAccount"] == builder["name"]


def test_gcp_private_api_has_no_public_invoker() -> None:
    from portside.infra.mocks import run

    result = run("gcp", APP, config={"app:publicApi": "false"})
    assert not [r for r in result.resources if r.inputs.get("member") in ("allUsers", "allAuthenticatedUsers")]
