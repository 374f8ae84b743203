"""Assemble the AWS components from the app: resources first, then functions and their wiring."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from portside.infra.aws.edge import Api, Schedule
from portside.infra.aws.function import Function
from portside.infra.aws.messaging import Queue, Topic
from portside.infra.aws.storage import Bucket, Table
from portside.infra.component import Component, Context
from portside.infra.deps import PYTHON
from portside.infra.layer import build_layer
from portside.infra.package import Package

COMPONENTS = {"bucket": Bucket, "table": Table, "queue": Queue, "topic": Topic, "api": Api, "schedule": Schedule}


class Code(Component):
    """The function archive, uploaded once under its content-hash name to a private artifacts bucket,
    and the layer of the app's third-party packages, if any function imports one (infra/layer.py)."""

    kind = "Code"

    def __init__(self, package: Package, ctx: Context) -> None:
        super().__init__("code", ctx)
        self.bucket_resource = self.child(aws.s3.Bucket, "code", bucket_prefix=ctx.names.bucket("code"),
                                          force_destroy=True)
        self.child(aws.s3.BucketPublicAccessBlock, "code-public-access", bucket=self.bucket_resource.id,
                   block_public_acls=True, block_public_policy=True, ignore_public_acls=True,
                   restrict_public_buckets=True)
        self.child(aws.s3.BucketServerSideEncryptionConfiguration, "code-encryption", bucket=self.bucket_resource.id,
                   rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}])
        self.object = self.child(aws.s3.BucketObjectv2, "code-archive", bucket=self.bucket_resource.id,
                                 key=package.name, source=package.archive())
        self.bucket, self.key = self.bucket_resource.id, self.object.key
        self.layer: aws.lambda_.LayerVersion | None = None
        deps, arch = ctx.shared.get("deps"), ctx.settings.aws_architecture
        if deps is not None and any(deps.needs.values()):
            built = build_layer(deps.pins, arch)
            zipped = self.child(aws.s3.BucketObjectv2, "deps-archive", bucket=self.bucket_resource.id, key=built.name,
                                source=pulumi.FileAsset(str(built.zip)))
            self.layer = self.child(aws.lambda_.LayerVersion, "deps", layer_name=ctx.names("deps"),
                                    s3_bucket=self.bucket_resource.id, s3_key=zipped.key,
                                    compatible_runtimes=[f"python{PYTHON}"], compatible_architectures=[arch],
                                    description=", ".join(deps.lines())[:256])

    def finish(self) -> None:
        self.done(bucket=self.bucket, key=self.key, layer=self.layer.arn if self.layer is not None else None)


def build(ctx: Context, package: Package) -> dict[str, Any]:
    comps: dict[str, Any] = {}
    ctx.shared["components"] = comps
    ctx.shared["account"] = aws.get_caller_identity_output().account_id
    for res in ctx.app.resources.values():
        comps[res.name] = COMPONENTS[res.kind](res, ctx)
    code = Code(package, ctx)
    functions: dict[str, Function] = {}
    for fn in ctx.app.functions.values():
        source = comps[fn.trigger.source.name]
        inbox = source.inbox(fn) if isinstance(source, (Bucket, Queue, Topic)) else None
        fc = functions[fn.name] = Function(fn, ctx, inbox, code)
        if isinstance(source, (Api, Schedule)):
            source.route(fc) if isinstance(source, Api) else source.target(fc)
    for comp in [*comps.values(), code, *functions.values()]:
        comp.finish()
    return {
        "api_urls": {n: c.api.api_endpoint for n, c in comps.items() if isinstance(c, Api)},
        "resources": {n: c.physical for n, c in comps.items() if not isinstance(c, (Api, Schedule))},
        "functions": {n: f.function.name for n, f in functions.items()},
        "dead_letters": {n: f.dlq.url for n, f in functions.items() if f.dlq is not None},
        "code": code.key,
    }
