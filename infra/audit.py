"""Read back what a mocked run granted each function: parsed AWS policies, GCP IAM bindings.

The tests assert least privilege with these, and ``portside.infra.plan`` prints them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from portside.infra.mocks import Run

SCOPES = {"BucketIAMMember": "bucket", "TopicIAMMember": "topic", "SubscriptionIAMMember": "subscription",
          "ServiceIamMember": "service", "IAMMember": "project"}
GCP_TARGET_KEYS = ("bucket", "topic", "subscription", "name", "project", "serviceAccountId")


@dataclass(frozen=True)
class Binding:
    """One GCP IAM member resource of a function's service account."""

    type: str  # e.g. "gcp:storage/bucketIAMMember:BucketIAMMember"
    role: str
    target: str  # the bucket, topic, service or project it is bound on
    condition: str | None

    @property
    def scope(self) -> str:
        """What the binding is on: bucket, topic, subscription, service, service account or project."""
        kind = self.type.rsplit(":", 1)[-1]
        return SCOPES.get(kind, "project" if self.type.startswith("gcp:projects/") else kind)


def aws_statements(run: Run, function: str) -> list[dict[str, Any]]:
    """The statements of ``function``'s inline role policy (its only policy)."""
    policy = run.named(f"{function}-policy", "aws:iam/rolePolicy:RolePolicy").inputs["policy"]
    return json.loads(policy)["Statement"]


def gcp_member(run: Run, function: str) -> str:
    return "serviceAccount:" + run.named(f"{function}-sa", "gcp:serviceaccount/account:Account").outputs["email"]


def gcp_bindings(run: Run, function: str) -> list[Binding]:
    member = gcp_member(run, function)
    out = []
    for r in run.resources:
        if r.inputs.get("member") == member:
            target = next((str(r.inputs[k]) for k in GCP_TARGET_KEYS if r.inputs.get(k)), "?")
            condition = (r.inputs.get("condition") or {}).get("expression")
            out.append(Binding(r.type, r.inputs["role"], target, condition))
    return out


def grants(run: Run, cloud: str, function: str) -> list[str]:
    """Human-readable grants of ``function``: "actions -> resources" or "role on target"."""
    if cloud == "aws":
        lines = []
        for st in aws_statements(run, function):
            res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            lines.append(f"{', '.join(st['Action'])} -> {', '.join(res)}")
        return lines
    return [f"{b.role} on {b.scope} {b.target}" + (f" if {b.condition}" if b.condition else "")
            for b in gcp_bindings(run, function)]
