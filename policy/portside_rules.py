"""The cloud rules a real account enforces (or that a safe deployment needs), as CrossGuard validators.

Plain functions of the arguments Pulumi's policy SDK passes (``args.resource_type``, ``args.props``,
``args.name``; for stack rules ``args.resources``, each with ``dependencies`` and ``parent``) and a
``report(message, urn=None)`` callback, so the tests call them directly on a mocked run and
``__main__.py`` wraps them in ``pulumi_policy`` policies. No import of pulumi_policy here.

Props are Pulumi's camelCase property names (``redrivePolicy``), as the engine passes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

Report = Callable[..., None]
FORBIDDEN_ROLES = ("roles/owner", "roles/editor", "roles/viewer")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
IAM_MEMBER_TYPES = ("gcp:projects/iAMMember:IAMMember", "gcp:storage/bucketIAMMember:BucketIAMMember",
                    "gcp:pubsub/topicIAMMember:TopicIAMMember", "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember",
                    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
GCS_AGENT = "@gs-project-accounts.iam.gserviceaccount.com"


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    statements = (document or {}).get("Statement", []) if isinstance(document, Mapping) else []
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


# -- resource rules ------------------------------------------------------------------------------

def no_wildcard_permissions(args: Any, report: Report) -> None:
    """No "*" action or resource, no NotAction/NotResource; on GCP never owner/editor/viewer."""
    if args.resource_type in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"):
        for st in _statements(args.props.get("policy")):
            if "NotAction" in st or "NotResource" in st:
                report(f"{args.name}: statement {st.get('Sid', '?')} uses NotAction/NotResource")
            for action in _listed(st.get("Action", [])):
                if isinstance(action, str) and "*" in action:
                    report(f"{args.name}: wildcard action {action!r}")
            for resource in _listed(st.get("Resource", [])):
                if resource == "*":
                    report(f"{args.name}: statement {st.get('Sid', '?')} applies to every resource (\"*\")")
    elif args.resource_type in IAM_MEMBER_TYPES and args.props.get("role") in FORBIDDEN_ROLES:
        report(f"{args.name}: grants the basic role {args.props['role']}")


def dead_letter_on_async_paths(args: Any, report: Report) -> None:
    """Every asynchronous path ends in a dead letter: SQS redrive, Scheduler and async-invoke DLQs,
    Pub/Sub push subscriptions' dead-letter policy."""
    p, t = args.props, args.resource_type
    if t == "aws:sqs/queue:Queue":
        name = str(p.get("name") or args.name)
        if not name.removesuffix(".fifo").endswith("-dlq") and not p.get("redrivePolicy"):
            report(f"{args.name}: queue {name} has no redrive policy to a dead-letter queue")
    elif t == "aws:scheduler/schedule:Schedule" and not (p.get("target") or {}).get("deadLetterConfig"):
        report(f"{args.name}: schedule target has no dead-letter queue")
    elif t == "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig" and \
            not ((p.get("destinationConfig") or {}).get("onFailure") or {}).get("destination"):
        report(f"{args.name}: asynchronous invocations have no on-failure destination")
    elif t == "gcp:pubsub/subscription:Subscription" and p.get("pushConfig") and not p.get("deadLetterPolicy"):
        report(f"{args.name}: push subscription has no dead-letter policy")


def encrypted_and_private_storage(args: Any, report: Report) -> None:
    """Queues, topics and tables encrypted; Cloud Storage buckets uniform and never public."""
    p, t = args.props, args.resource_type
    if t == "aws:sqs/queue:Queue" and not (p.get("sqsManagedSseEnabled") or p.get("kmsMasterKeyId")):
        report(f"{args.name}: SQS queue is not encrypted")
    elif t == "aws:sns/topic:Topic" and not p.get("kmsMasterKeyId"):
        report(f"{args.name}: SNS topic is not encrypted")
    elif t == "aws:dynamodb/table:Table" and not (p.get("serverSideEncryption") or {}).get("enabled"):
        report(f"{args.name}: DynamoDB table has no server-side encryption setting")
    elif t == "gcp:storage/bucket:Bucket":
        if p.get("publicAccessPrevention") != "enforced":
            report(f"{args.name}: bucket does not enforce public access prevention")
        if not p.get("uniformBucketLevelAccess"):
            report(f"{args.name}: bucket has no uniform bucket-level access")
    elif t in IAM_MEMBER_TYPES and p.get("member") in PUBLIC_MEMBERS and \
            t != "gcp:cloudrunv2/serviceIamMember:ServiceIamMember":
        report(f"{args.name}: makes a {t.split(':')[1].split('/')[0]} resource public ({p['member']})")


RESOURCE_RULES: dict[str, tuple[str, Callable[[Any, Report], None]]] = {
    "no-wildcard-permissions": ("No wildcard action or resource, no basic roles", no_wildcard_permissions),
    "dead-letter-on-async-paths": ("Every asynchronous path has a dead letter", dead_letter_on_async_paths),
    "encrypted-and-private-storage": ("Encryption and public-access settings", encrypted_and_private_storage),
}


# -- stack rules ---------------------------------------------------------------------------------

def _closure(resource: Any) -> list[Any]:
    """``resource``'s dependencies, transitively."""
    seen: dict[int, Any] = {}
    todo = list(resource.dependencies or [])
    while todo:
        dep = todo.pop()
        if id(dep) not in seen:
            seen[id(dep)] = dep
            todo += list(dep.dependencies or [])
    return list(seen.values())


def s3_buckets_blocked_and_encrypted(args: Any, report: Report) -> None:
    """Every S3 bucket has a public access block (all four settings on) and default encryption beside it."""
    by_parent: dict[Any, list[Any]] = {}
    for r in args.resources:
        by_parent.setdefault(getattr(r.parent, "urn", r.parent), []).append(r)
    for r in args.resources:
        if r.resource_type != "aws:s3/bucket:Bucket":
            continue
        siblings = by_parent.get(getattr(r.parent, "urn", r.parent), [])
        blocks = [s for s in siblings if s.resource_type == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"]
        if not any(all(b.props.get(k) for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                 "restrictPublicBuckets")) for b in blocks):
            report(f"{r.name}: S3 bucket without a full public access block", r.urn)
        if not any(s.resource_type.startswith("aws:s3/bucketServerSideEncryptionConfiguration") for s in siblings):
            report(f"{r.name}: S3 bucket without default encryption", r.urn)


def build_account_reads_sources(args: Any, report: Report) -> None:
    """A Cloud Functions build reads gcf-v2-sources-<number>-<region> (terraform-provider-google #20571):
    each function waits for its build account's read grant there."""
    for r in args.resources:
        if r.resource_type != "gcp:cloudfunctionsv2/function:Function":
            continue
        builder = str((r.props.get("buildConfig") or {}).get("serviceAccount") or "")
        if not builder:
            report(f"{r.name}: no dedicated build service account (the default one lacks the rights on new projects)",
                   r.urn)
            continue
        email = builder.rsplit("/", 1)[-1]
        grants = [d for d in _closure(r) if d.resource_type == "gcp:projects/iAMMember:IAMMember"
                  and d.props.get("role") in ("roles/storage.objectViewer", "roles/storage.objectAdmin")
                  and "gcf-v2-sources-" in str((d.props.get("condition") or {}).get("expression", "gcf-v2-sources-"))
                  and (not email or "@" not in email or str(d.props.get("member", "")).endswith(email))]
        if not grants:
            report(f"{r.name}: its build account may not read gcf-v2-sources-<project number>-<region> "
                   "before the function is created", r.urn)


def storage_triggers_wait_for_agent(args: Any, report: Report) -> None:
    """A storage trigger (Eventarc or a notification) waits for the Cloud Storage agent's publisher grant."""
    for r in args.resources:
        event = str((r.props.get("eventTrigger") or {}).get("eventType", ""))
        if not (event.startswith("google.cloud.storage.") or r.resource_type == "gcp:storage/notification:Notification"):
            continue
        if not any(d.props.get("role") == "roles/pubsub.publisher" and GCS_AGENT in str(d.props.get("member", ""))
                   for d in _closure(r)):
            report(f"{r.name}: created without waiting for the Cloud Storage service agent's pubsub.publisher grant",
                   r.urn)


def private_routes_stay_private(private: Iterable[str]) -> Callable[[Any, Report], None]:
    """No public route the app declared private (``auth="iam"``): AWS routes ``<function>-route`` use
    IAM authorization; GCP services of those functions have no allUsers/allAuthenticatedUsers invoker."""
    names = set(private)

    def validate(args: Any, report: Report) -> None:
        functions = {r.props.get("name"): r.name for r in args.resources
                     if r.resource_type == "gcp:cloudfunctionsv2/function:Function"}
        for r in args.resources:
            if r.resource_type == "aws:apigatewayv2/route:Route" and r.name.removesuffix("-route") in names:
                if r.props.get("authorizationType") in (None, "NONE"):
                    report(f"{r.name}: route {r.props.get('routeKey')} is declared private but takes unsigned calls",
                           r.urn)
            elif r.resource_type == "gcp:cloudrunv2/serviceIamMember:ServiceIamMember" and \
                    r.props.get("member") in PUBLIC_MEMBERS:
                fn = functions.get(r.props.get("name")) or r.name.removesuffix("-public")
                if fn in names:
                    report(f"{r.name}: function {fn} is declared private but {r.props['member']} may invoke it", r.urn)
    return validate


def dependencies_packaged(needs: Mapping[str, Sequence[str]]) -> Callable[[Any, Report], None]:
    """Every function that imports a third-party package gets it: a layer on AWS, the pinned
    requirements.txt of the source archive on GCP. ``needs``: function -> distributions it imports."""
    def validate(args: Any, report: Report) -> None:
        archives = [r for r in args.resources if r.resource_type == "gcp:storage/bucketObject:BucketObject"]
        for r in args.resources:
            dists = needs.get(r.name) or ()
            if not dists:
                continue
            if r.resource_type == "aws:lambda/function:Function" and not r.props.get("layers"):
                report(f"{r.name}: imports {', '.join(dists)} but has no layer carrying them", r.urn)
            elif r.resource_type == "gcp:cloudfunctionsv2/function:Function":
                text = "\n".join(archive_text(a.props.get("source"), "requirements.txt") for a in archives)
                pinned = {line.split("==")[0].strip().lower() for line in text.splitlines() if "==" in line}
                missing = [d for d in dists if d.lower() not in pinned]
                if missing:
                    report(f"{r.name}: imports {', '.join(missing)}, which the source's requirements.txt does not pin",
                           r.urn)
    return validate


def archive_text(source: Any, path: str) -> str:
    """The text of ``path`` in an asset archive: a pulumi.AssetArchive (mocks) or its serialized form."""
    assets = getattr(source, "assets", None)
    if assets is None and isinstance(source, Mapping):
        assets = source.get("assets")
    asset = (assets or {}).get(path)
    text = getattr(asset, "text", None)
    if text is None and isinstance(asset, Mapping):
        text = asset.get("text")
    if text is None and getattr(asset, "path", None):
        with open(asset.path) as f:
            text = f.read()
    return text or ""


def stack_rules(private: Iterable[str], needs: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, Callable]]:
    """The stack-wide rules; two need the app's declarations (its private routes, its imports)."""
    return {
        "s3-buckets-blocked-and-encrypted": ("S3 buckets block public access and encrypt by default",
                                             s3_buckets_blocked_and_encrypted),
        "build-account-reads-sources": ("The Cloud Functions build account can read the sources",
                                        build_account_reads_sources),
        "storage-triggers-wait-for-agent": ("Storage triggers wait for the Cloud Storage agent's grant",
                                            storage_triggers_wait_for_agent),
        "private-routes-stay-private": ("No public route the app declared private", private_routes_stay_private(private)),
        "dependencies-packaged": ("Every imported third-party package is packaged", dependencies_packaged(needs)),
    }
