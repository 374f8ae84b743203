"""Inventory, wiring, dead letters, encryption and public access, on both clouds, under mocks.

The app (tests/infra/apps.py) declares every resource kind and every trigger kind; each test
reads what the program registered and checks it against the declaration.
"""

from __future__ import annotations

import base64
import json

from portside import deployment
from portside.infra.mocks import Run
from tests.infra.apps import ASYNC, full_app

APP = full_app()
FUNCTIONS = {f.name: f for f in APP.functions.values()}
PHYSICAL = {"aws": "shop-aws-dev-", "gcp": "shop-gcp-dev-"}


def env_of(built: Run, cloud: str, fn: str) -> dict[str, str]:
    if cloud == "aws":
        return built.named(fn, "aws:lambda/function:Function").inputs["environment"]["variables"]
    return built.named(fn, "gcp:cloudfunctionsv2/function:Function").inputs["serviceConfig"]["environmentVariables"]


def test_every_declaration_has_a_component_of_its_kind(built: Run, cloud: str) -> None:
    components = {(r.type, r.name) for r in built.resources if r.type.startswith("portside:")}
    for res in APP.resources.values():
        assert (f"portside:{cloud}:{type(res).__name__}", res.name) in components
    for fn in APP.functions.values():
        assert (f"portside:{cloud}:Function", fn.name) in components


def test_every_resource_is_a_child_of_a_component_that_registers_outputs(built: Run) -> None:
    children = [(kind.split(".")[-1], name) for comp in built.context.tree for kind, name in comp.children]
    recorded = [(r.type.rsplit(":", 1)[-1], r.name) for r in built.resources if not r.type.startswith("portside:")]
    assert sorted(children) == sorted(recorded)  # nothing is created outside a component's child()
    components = [c for c in built.context.tree if c.kind != "ServiceAgents"]
    assert components and all(c.outputs for c in components)


INVENTORY = {
    "aws": {"bucket": "aws:s3/bucket:Bucket", "queue": "aws:sqs/queue:Queue", "topic": "aws:sns/topic:Topic",
            "table": "aws:dynamodb/table:Table", "api": "aws:apigatewayv2/api:Api"},
    "gcp": {"bucket": "gcp:storage/bucket:Bucket", "queue": "gcp:pubsub/topic:Topic", "topic": "gcp:pubsub/topic:Topic",
            "table": "gcp:firestore/database:Database"},
}


def test_inventory_per_declared_resource(built: Run, cloud: str) -> None:
    for res in APP.resources.values():
        token = INVENTORY[cloud].get(res.kind)
        if token:
            assert built.named(res.name, token)
    fn_token = {"aws": "aws:lambda/function:Function", "gcp": "gcp:cloudfunctionsv2/function:Function"}[cloud]
    assert {r.name for r in built.of_type(fn_token)} == set(FUNCTIONS)
    sched_token = {"aws": "aws:scheduler/schedule:Schedule", "gcp": "gcp:cloudscheduler/job:Job"}[cloud]
    assert len(built.of_type(sched_token)) == 2  # one per schedule consumer
    assert set(built.outputs["resources"]) == {n for n, r in APP.resources.items() if r.kind not in ("api", "schedule")}
    assert set(built.outputs["functions"]) == set(FUNCTIONS)


def test_functions_run_the_adapter_with_their_environment(built: Run, cloud: str) -> None:
    for name, fn in FUNCTIONS.items():
        env = env_of(built, cloud, name)
        assert env["PORTSIDE_APP"] == "handlers.app:app" and env["PORTSIDE_FUNCTION"] == name
        visible = json.loads(env["PORTSIDE_RESOURCES"])
        assert set(visible) == {u.resource.name for u in fn.uses} | {fn.trigger.source.name}
        if cloud == "aws":
            lam = built.named(name, "aws:lambda/function:Function").inputs
            assert (lam["handler"], lam["runtime"], lam["architectures"]) == ("portside.aws.handler", "python3.12", ["arm64"])
            assert lam["timeout"] == fn.timeout and lam["memorySize"] == fn.memory
            assert lam["s3Key"] == built.outputs["code"]
        else:
            gcf = built.named(name, "gcp:cloudfunctionsv2/function:Function").inputs
            assert gcf["buildConfig"]["runtime"] == "python312"
            assert gcf["buildConfig"]["source"]["storageSource"]["object"] == built.outputs["code"]
            targets = deployment.GCP_TARGETS
            # deletions arrive by Pub/Sub push (a Cloud Storage notification), creations through Eventarc
            assert gcf["buildConfig"]["entryPoint"] == targets["event" if name == "thumb" else "http"]
            assert env["GOOGLE_CLOUD_PROJECT"] == "demo-project"
            assert gcf["serviceConfig"]["timeoutSeconds"] == fn.timeout
    assert visible  # the loop ran


def test_aws_wiring(aws_run: Run) -> None:
    built = aws_run
    arn = {q.name: q.outputs["arn"] for q in built.of_type("aws:sqs/queue:Queue")}
    fn_arn = {f.name: f.outputs["arn"] for f in built.of_type("aws:lambda/function:Function")}
    esm = {r.name.removesuffix("-source"): r.inputs for r in built.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")}
    # each asynchronous consumer (not schedules) reads its own queue, reporting per-item failures
    expected_queue = {"work": "jobs", "audit": "orders-audit", "ship": "orders-ship",
                      "thumb": "uploads-thumb", "purge": "uploads-purge"}
    assert set(esm) == set(expected_queue)
    for fn, queue in expected_queue.items():
        assert esm[fn]["eventSourceArn"] == arn[queue] and esm[fn]["functionName"] == fn_arn[fn]
        assert esm[fn]["functionResponseTypes"] == ["ReportBatchItemFailures"]
        assert esm[fn]["batchSize"] == FUNCTIONS[fn].trigger.batch_size
        assert built.named(queue, "aws:sqs/queue:Queue").inputs["visibilityTimeoutSeconds"] >= 6 * FUNCTIONS[fn].timeout
    # one notification per bucket, with each function's prefix/suffix and event type
    note = built.named("uploads-notification").inputs["queues"]
    assert {(q["queueArn"], q["events"][0], q.get("filterPrefix"), q.get("filterSuffix")) for q in note} == {
        (arn["uploads-thumb"], "s3:ObjectCreated:*", "in/", ".png"), (arn["uploads-purge"], "s3:ObjectRemoved:*", "in/", None)}
    assert len(built.of_type("aws:s3/bucketNotification:BucketNotification")) == 1
    # SNS -> per-subscriber queue, raw, with the declared filter
    topic_arn = built.named("orders", "aws:sns/topic:Topic").outputs["arn"]
    subs = {s.name: s.inputs for s in built.of_type("aws:sns/topicSubscription:TopicSubscription")}
    assert subs["orders-ship-subscription"]["endpoint"] == arn["orders-ship"]
    assert all(s["topic"] == topic_arn and s["rawMessageDelivery"] and s["protocol"] == "sqs" for s in subs.values())
    assert json.loads(subs["orders-ship-subscription"]["filterPolicy"]) == {"ce-type": ["OrderPlaced"], "region": ["eu", "us"]}
    assert "filterPolicy" not in subs["orders-audit-subscription"]
    # HTTP routes -> integrations -> the right function; invoke permission scoped to the route
    routes = {r.inputs["routeKey"]: r.name.removesuffix("-route") for r in built.of_type("aws:apigatewayv2/route:Route")}
    assert routes == {"POST /orders": "place", "GET /orders/{id}": "get-order"}
    for fn in routes.values():
        assert built.named(f"{fn}-integration").inputs["integrationUri"] == fn_arn[fn]
    assert built.named("get-order-invoke").inputs["sourceArn"].endswith("/*/GET/orders/*")
    # schedules -> their function, cron converted to EventBridge form
    sched = {s.name: s.inputs for s in built.of_type("aws:scheduler/schedule:Schedule")}
    assert sched["report-schedule"]["scheduleExpression"] == "cron(0 3 ? * 2-6 *)"
    assert sched["tick-schedule"]["scheduleExpression"] == "rate(15 minutes)"
    assert sched["report-schedule"]["target"]["arn"] == fn_arn["report"]
    tick = json.loads(sched["report-schedule"]["target"]["input"])  # the adapter's template, filled in
    assert tick["schedule"] == "nightly" and tick["function"] == "report"


def test_gcp_wiring(gcp_run: Run) -> None:
    built = gcp_run
    url = {f.name: f.outputs["url"] for f in built.of_type("gcp:cloudfunctionsv2/function:Function")}
    topic_id = {t.name: t.outputs["id"] for t in built.of_type("gcp:pubsub/topic:Topic")}
    subs = {s.name: s.inputs for s in built.of_type("gcp:pubsub/subscription:Subscription")}
    for sub, topic, fn in (("jobs", "jobs", "work"), ("orders-audit", "orders", "audit"), ("orders-ship", "orders", "ship")):
        s = subs[sub]
        assert s["topic"] == topic_id[topic] and s["pushConfig"]["pushEndpoint"] == url[fn]
        assert s["pushConfig"]["oidcToken"]["serviceAccountEmail"].startswith(f"shop-gcp-dev-{fn}@")
        assert s["expirationPolicy"] == {"ttl": ""}  # never expires for inactivity
        assert s["ackDeadlineSeconds"] >= min(600, FUNCTIONS[fn].timeout)
    assert subs["orders-ship"]["filter"] == \
        'attributes.ce-type = "OrderPlaced" AND (attributes.region = "eu" OR attributes.region = "us")'
    assert "filter" not in subs["orders-audit"]
    assert subs["outbox-retained"]["topic"] == topic_id["outbox"] and "pushConfig" not in subs["outbox-retained"]
    assert subs["jobs"]["retryPolicy"] == {"minimumBackoff": "5s", "maximumBackoff": "300s"}
    bucket = built.named("uploads", "gcp:storage/bucket:Bucket").outputs["name"]
    trig = built.named("thumb", "gcp:cloudfunctionsv2/function:Function").inputs["eventTrigger"]
    assert trig["eventType"] == "google.cloud.storage.object.v1.finalized"
    assert trig["eventFilters"] == [{"attribute": "bucket", "value": bucket}]
    assert trig["retryPolicy"] == "RETRY_POLICY_RETRY"
    # deletions: a Cloud Storage notification (it carries overwrittenByGeneration) pushed to the function
    note = built.named("uploads-purge-notification", "gcp:storage/notification:Notification").inputs
    assert note == {"bucket": bucket, "topic": topic_id["uploads-purge"], "eventTypes": ["OBJECT_DELETE"],
                    "payloadFormat": "JSON_API_V1", "objectNamePrefix": "in/"}
    assert subs["uploads-purge"]["topic"] == topic_id["uploads-purge"]
    assert subs["uploads-purge"]["pushConfig"]["pushEndpoint"] == url["purge"]
    assert "eventTrigger" not in built.named("purge", "gcp:cloudfunctionsv2/function:Function").inputs
    jobs = {j.name: j.inputs for j in built.of_type("gcp:cloudscheduler/job:Job")}
    assert jobs["report-job"]["schedule"] == "0 3 * * 1-5" and jobs["tick-job"]["schedule"] == "*/15 * * * *"
    assert jobs["report-job"]["httpTarget"]["uri"] == url["report"]
    assert json.loads(base64.b64decode(jobs["report-job"]["httpTarget"]["body"])) == {"schedule": "nightly", "function": "report"}
    assert jobs["tick-job"]["retryConfig"]["retryCount"] == 1
    assert built.outputs["api_urls"]["web"] == {"POST /orders": url["place"] + "/orders",
                                                "GET /orders/{id}": url["get-order"] + "/orders/{id}"}
    # the Cloud Storage service agent may publish (Eventarc), and the APIs are enabled
    assert built.named("storage-agent-publisher").inputs["role"] == "roles/pubsub.publisher"
    services = {s.inputs["service"] for s in built.of_type("gcp:projects/service:Service")}
    assert {"cloudfunctions.googleapis.com", "eventarc.googleapis.com", "firestore.googleapis.com",
            "cloudscheduler.googleapis.com", "pubsub.googleapis.com", "run.googleapis.com"} <= services


def test_aws_dead_letter_on_every_asynchronous_path(aws_run: Run) -> None:
    built, queues = aws_run, aws_run.of_type("aws:sqs/queue:Queue")
    for name in ASYNC:
        t = FUNCTIONS[name].trigger
        dlq = next(q for q in queues if q.outputs["url"] == env_of(built, "aws", name)["PORTSIDE_DLQ_URL"])
        assert dlq.inputs["messageRetentionSeconds"] == 14 * 24 * 3600
        if t.kind == "schedule":  # asynchronous invoke: Lambda retries, then its on-failure destination
            cfg = built.named(f"{name}-async").inputs
            assert cfg["destinationConfig"]["onFailure"]["destination"] == dlq.outputs["arn"]
            assert cfg["maximumRetryAttempts"] == t.max_attempts - 1
            target = built.named(f"{name}-schedule").inputs["target"]
            assert target["deadLetterConfig"]["arn"] == dlq.outputs["arn"]
        else:  # SQS redrive into this DLQ after max_attempts receives
            source_arn = built.named(f"{name}-source").inputs["eventSourceArn"]
            queue = next(q for q in queues if q.outputs["arn"] == source_arn)
            redrive = json.loads(queue.inputs["redrivePolicy"])
            assert redrive == {"deadLetterTargetArn": dlq.outputs["arn"], "maxReceiveCount": t.max_attempts}
    for name in set(FUNCTIONS) - ASYNC:
        assert "PORTSIDE_DLQ_URL" not in env_of(built, "aws", name)


def test_gcp_dead_letter_on_every_asynchronous_path(gcp_run: Run) -> None:
    built, subs = gcp_run, gcp_run.of_type("gcp:pubsub/subscription:Subscription")
    agent = [r for r in built.resources if "gcp-sa-pubsub" in str(r.inputs.get("member"))]
    for name in ASYNC:
        t = FUNCTIONS[name].trigger
        dlq_id = env_of(built, "gcp", name)["PORTSIDE_DEAD_LETTER_TOPIC"]
        assert any(s.inputs["topic"] == dlq_id and s.inputs["messageRetentionDuration"] == "604800s"
                   for s in subs), "dead letters are retained by a subscription"
        url = built.named(name, "gcp:cloudfunctionsv2/function:Function").outputs["url"]
        pushed = [s for s in subs if s.inputs.get("pushConfig", {}).get("pushEndpoint") == url]
        assert len(pushed) == (1 if t.kind in ("queue-message", "topic-event", "object-deleted") else 0)
        for sub in pushed:  # Pub/Sub moves the message after max_attempts; its agent may do so
            assert sub.inputs["deadLetterPolicy"] == {"deadLetterTopic": dlq_id, "maxDeliveryAttempts": t.max_attempts}
            roles = {(r.type.rsplit(":", 1)[1], r.inputs["role"]) for r in agent
                     if r.inputs.get("subscription", r.inputs.get("topic")) in (sub.inputs["name"], dlq_id.rsplit("/")[-1])}
            assert roles == {("SubscriptionIAMMember", "roles/pubsub.subscriber"),
                             ("TopicIAMMember", "roles/pubsub.publisher")}
    for name in set(FUNCTIONS) - ASYNC:
        assert "PORTSIDE_DEAD_LETTER_TOPIC" not in env_of(built, "gcp", name)


def test_encryption_and_public_access(built: Run, cloud: str) -> None:
    if cloud == "aws":
        buckets = {b.outputs["bucket"] for b in built.of_type("aws:s3/bucket:Bucket")}
        assert len(buckets) == 3  # uploads, thumbs, code
        blocks = {b.inputs["bucket"]: b.inputs for b in built.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")}
        sse = {b.inputs["bucket"]: b.inputs for b in
               built.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")}
        for b in buckets:
            assert all(blocks[b][k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
            assert sse[b]["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
        queues, topics = built.of_type("aws:sqs/queue:Queue"), built.of_type("aws:sns/topic:Topic")
        assert queues and all(q.inputs["sqsManagedSseEnabled"] for q in queues)
        assert topics and all(t.inputs["kmsMasterKeyId"] == "alias/aws/sns" for t in topics)
        assert built.of_type("aws:dynamodb/table:Table")  # the loop below checks each
        for t in built.of_type("aws:dynamodb/table:Table"):
            assert t.inputs["serverSideEncryption"] == {"enabled": True} and t.inputs["pointInTimeRecovery"] == {"enabled": True}
            assert t.inputs["billingMode"] == "PAY_PER_REQUEST"
        assert built.named("seen", "aws:dynamodb/table:Table").inputs["ttl"] == {"attributeName": "expires_at", "enabled": True}
        groups = built.of_type("aws:cloudwatch/logGroup:LogGroup")
        assert groups and all(g.inputs["retentionInDays"] == 30 for g in groups)
    else:
        buckets = built.of_type("gcp:storage/bucket:Bucket")
        assert len(buckets) == 3
        assert all(b.inputs["uniformBucketLevelAccess"] and b.inputs["publicAccessPrevention"] == "enforced" for b in buckets)
        assert built.of_type("gcp:firestore/database:Database")  # the loop below checks each
        for db in built.of_type("gcp:firestore/database:Database"):
            assert db.inputs["type"] == "FIRESTORE_NATIVE"
            assert db.inputs["pointInTimeRecoveryEnablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
        ttl = built.named("seen-ttl").inputs
        assert (ttl["collection"], ttl["field"]) == ("seen", "expires_at")
        public = {r.name for r in built.resources if r.inputs.get("member") in ("allUsers", "allAuthenticatedUsers")}
        assert public == {"place-public", "get-order-public"}  # only the HTTP API's functions


NAME_FIELDS = {
    "aws:sqs/queue:Queue": "name", "aws:lambda/function:Function": "name", "aws:iam/role:Role": "name",
    "aws:sns/topic:Topic": "name", "aws:dynamodb/table:Table": "name", "aws:scheduler/schedule:Schedule": "name",
    "aws:apigatewayv2/api:Api": "name", "aws:s3/bucket:Bucket": "bucketPrefix",
    "gcp:cloudfunctionsv2/function:Function": "name", "gcp:pubsub/topic:Topic": "name",
    "gcp:pubsub/subscription:Subscription": "name", "gcp:firestore/database:Database": "name",
    "gcp:storage/bucket:Bucket": "name", "gcp:cloudscheduler/job:Job": "name",
    "gcp:serviceaccount/account:Account": "accountId",
}


def test_physical_names_checked_are_the_names_created(built: Run, cloud: str) -> None:
    """infra/physical.py (what the checks validate) and the components (what is created) agree."""
    from portside.infra.physical import aws_names, gcp_names

    enumerated = (aws_names if cloud == "aws" else gcp_names)(APP, built.context.names)
    created = [(r.type, r.inputs[NAME_FIELDS[r.type]]) for r in built.resources if r.type in NAME_FIELDS]
    assert sorted(n for _, n in enumerated) == sorted(n for _, n in created)
