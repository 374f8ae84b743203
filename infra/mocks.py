"""Run the program without a cloud: Pulumi mocks that fill computed outputs and record everything.

Used by the tests and by ``python -m portside.infra.plan``. Outputs are realistic enough that the
policies, bindings and environment the program builds read like the real ones.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pulumi

ACCOUNT, REGION, PROJECT, PROJECT_NUMBER = "123456789012", "us-east-1", "demo-project", "314159265358"


@dataclass
class Recorded:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    transforms: list[Any] = field(default_factory=list)  # registered with the engine (mocks do not run them)


def _aws(token: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    service = token.split(":")[1].split("/")[0]
    phys = inputs.get("name") or (inputs["bucketPrefix"] + "abc123" if inputs.get("bucketPrefix") else name)
    out: dict[str, Any] = {"name": phys}
    if service == "s3" and token.endswith(":Bucket"):
        out.update(bucket=phys, arn=f"arn:aws:s3:::{phys}", id=phys)
    elif service == "sqs" and token.endswith(":Queue"):
        out.update(arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:{phys}", url=f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{phys}",
                   id=f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{phys}")
    elif service == "sns" and token.endswith(":Topic"):
        out.update(arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:{phys}", id=f"arn:aws:sns:{REGION}:{ACCOUNT}:{phys}")
    elif service == "dynamodb":
        out.update(arn=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{phys}")
    elif service == "lambda" and token.endswith(":Function"):
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{phys}"
        out.update(arn=arn, invokeArn=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations")
    elif service == "lambda" and token.endswith(":LayerVersion"):
        out.update(arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{inputs['layerName']}:1")
    elif service == "cloudwatch":
        out.update(arn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{phys}")
    elif service == "iam" and token.endswith(":Role"):
        out.update(arn=f"arn:aws:iam::{ACCOUNT}:role/{phys}", id=phys)
    elif service == "apigatewayv2" and token.endswith(":Api"):
        out.update(apiEndpoint=f"https://{name}123.execute-api.{REGION}.amazonaws.com",
                   executionArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{name}123",
                   arn=f"arn:aws:apigateway:{REGION}::/apis/{name}123",
                   id=f"{name}123")
    elif service == "scheduler":
        out.update(arn=f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{phys}")
    elif service == "s3" and "bucketObject" in token:
        out.update(id=inputs.get("key"))
    return out


def _gcp(token: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    project = inputs.get("project") or PROJECT
    phys = inputs.get("name") or name
    out: dict[str, Any] = {"name": phys}
    if token == "gcp:pubsub/topic:Topic":
        out.update(id=f"projects/{project}/topics/{phys}")
    elif token == "gcp:pubsub/subscription:Subscription":
        out.update(id=f"projects/{project}/subscriptions/{phys}")
    elif token == "gcp:serviceaccount/account:Account":
        email = f"{inputs['accountId']}@{project}.iam.gserviceaccount.com"
        out.update(email=email, member=f"serviceAccount:{email}", name=f"projects/{project}/serviceAccounts/{email}",
                   id=f"projects/{project}/serviceAccounts/{email}")
    elif token == "gcp:cloudfunctionsv2/function:Function":
        url = f"https://{phys}-abc123-uc.a.run.app"
        out.update(url=url, serviceConfig={**(inputs.get("serviceConfig") or {}), "uri": url})
    elif token == "gcp:storage/bucket:Bucket":
        out.update(url=f"gs://{phys}", id=phys)
    elif token == "gcp:firestore/database:Database":
        out.update(id=f"projects/{project}/databases/{phys}")
    elif token == "gcp:projects/serviceIdentity:ServiceIdentity":
        agent = inputs["service"].split(".")[0]
        email = f"service-{PROJECT_NUMBER}@gcp-sa-{agent}.iam.gserviceaccount.com"
        out.update(email=email, member=f"serviceAccount:{email}")
    elif token == "gcp:projects/iAMCustomRole:IAMCustomRole":
        out.update(name=f"projects/{project}/roles/{inputs['roleId']}", id=f"projects/{project}/roles/{inputs['roleId']}")
    return out


class RecordingMocks(pulumi.runtime.Mocks):
    """Echo inputs, fill what the provider would compute, remember every registration."""

    def __init__(self) -> None:
        self.resources: list[Recorded] = []
        self.log: list[str] = []  # "resource <name>" and "call <token>", in the order the engine saw them

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        fill = _aws if args.typ.startswith("aws:") else _gcp if args.typ.startswith("gcp:") else (lambda *a: {})
        outputs = {**args.inputs, **fill(args.typ, args.name, args.inputs)}
        rid = str(outputs.get("id") or f"{args.name}-id")
        self.log.append(f"resource {args.name}")
        self.resources.append(Recorded(f"urn:pulumi:{args.typ}::{args.name}", args.typ, args.name,
                                       dict(args.inputs), outputs, list(getattr(args, "transforms", None) or [])))
        return rid, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.log.append(f"call {args.token}")
        if args.token == "gcp:organizations/getProject:getProject":
            return {"number": PROJECT_NUMBER, "projectId": PROJECT, "name": PROJECT}, []
        if args.token == "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":
            email = f"service-{PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
            return {"emailAddress": email, "member": f"serviceAccount:{email}"}, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "userId": ACCOUNT}, []
        return {}, []


@dataclass
class Run:
    """What one mocked run produced."""

    resources: list[Recorded]
    outputs: dict[str, Any] = field(default_factory=dict)
    context: Any = None  # the program's Context: its .tree lists every component and its children
    log: list[str] = field(default_factory=list)  # what the engine saw, in order (RecordingMocks.log)

    def depends_on(self, name: str) -> set[str]:
        """The resources ``name`` waits for, explicitly and transitively (depends_on, not inputs)."""
        direct = self.context.dependencies if self.context is not None else {}
        seen: set[str] = set()
        todo = list(direct.get(name, []))
        while todo:
            dep = todo.pop()
            if dep not in seen:
                seen.add(dep)
                todo += direct.get(dep, [])
        return seen

    def of_type(self, token: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == token]

    def named(self, name: str, token: str | None = None) -> Recorded:
        hits = [r for r in self.resources if r.name == name and (token is None or r.type == token)]
        if len(hits) != 1:
            raise LookupError(f"{len(hits)} resources named {name!r} ({token or 'any type'})")
        return hits[0]


def run(cloud: str, app: Any = None, config: dict[str, str] | None = None, stack: str | None = None,
        mocks: RecordingMocks | None = None, **build_args: Any) -> Run:
    """Build ``app`` on ``cloud`` under fresh mocks (preview=False, so apply callbacks run)."""
    from portside.infra.program import build  # late: after set_mocks, like a real program start

    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = mocks if mocks is not None else RecordingMocks()
    stack = stack or f"{cloud}-dev"
    pulumi.runtime.set_mocks(mocks, project=getattr(app, "name", None) or "portside", stack=stack, preview=False)
    cfg = {"app:cloud": cloud}
    if cloud == "gcp":
        cfg |= {"gcp:project": PROJECT, "gcp:region": "us-central1"}
    pulumi.runtime.set_all_config(cfg | (config or {}))
    result: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> Any:
        outs = build(app, export=False, on_context=lambda c: result.__setitem__("context", c), **build_args)
        result["outputs"] = outs
        return pulumi.Output.from_input(outs).apply(lambda v: result.__setitem__("resolved", v))

    program()
    return Run(mocks.resources, result.get("resolved", {}), result.get("context"), mocks.log)
