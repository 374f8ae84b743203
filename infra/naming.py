"""Physical names and each cloud's naming rules, checked before anything is registered."""

from __future__ import annotations

import hashlib
import re

# kind -> (max length, pattern, what the cloud calls it)
RULES: dict[str, tuple[int, str, str]] = {
    "aws:lambda": (64, r"^[A-Za-z0-9_-]+$", "Lambda function name"),
    "aws:role": (64, r"^[\w+=,.@-]+$", "IAM role name"),
    "aws:sqs": (80, r"^[A-Za-z0-9_-]+(\.fifo)?$", "SQS queue name"),
    "aws:sns": (256, r"^[A-Za-z0-9_-]+$", "SNS topic name"),
    "aws:dynamodb": (255, r"^[A-Za-z0-9_.-]{3,}$", "DynamoDB table name"),
    "aws:schedule": (64, r"^[0-9a-zA-Z_.-]+$", "EventBridge Scheduler schedule name"),
    "aws:api": (128, r"^.+$", "API Gateway name"),
    "aws:bucket": (37, r"^[a-z0-9][a-z0-9.-]*-$", "S3 bucket prefix"),
    # 2nd gen functions become Cloud Run services, whose names (and so revision names) allow 49
    "gcp:function": (49, r"^[a-z]([a-z0-9-]*[a-z0-9])?$", "Cloud Functions (Cloud Run service) name"),
    "gcp:topic": (255, r"^(?!goog)[A-Za-z][\w.~+%-]{2,}$", "Pub/Sub topic name"),
    "gcp:subscription": (255, r"^(?!goog)[A-Za-z][\w.~+%-]{2,}$", "Pub/Sub subscription name"),
    "gcp:account": (30, r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", "service account id"),
    "gcp:firestore": (63, r"^[a-z][a-z0-9-]{2,61}[a-z0-9]$", "Firestore database id"),
    "gcp:scheduler": (500, r"^[A-Za-z0-9_-]+$", "Cloud Scheduler job name"),
    "gcp:bucket": (63, r"^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$", "Cloud Storage bucket name"),
}


def shorten(name: str, limit: int) -> str:
    """``name`` if it fits, else a prefix of it plus an 8-hex hash of the whole (stable, unique)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


def problem(kind: str, name: str) -> str | None:
    """Why ``name`` is not a valid physical name of ``kind``, or None."""
    limit, pattern, what = RULES[kind]
    cloud = kind.split(":")[0]
    if len(name) > limit:
        return (f"name {name!r} is {len(name)} characters; {cloud} allows at most {limit} for a {what} "
                "(shorten the declared name or set a shorter prefix: pulumi config set app:prefix <short>)")
    if not re.match(pattern, name):
        return f"name {name!r} is not a valid {what} on {cloud} (must match {pattern})"
    return None


def sid(text: str) -> str:
    """An IAM statement id: alphanumerics only."""
    return re.sub(r"[^A-Za-z0-9]", "", text.title())


class Names:
    """Every physical name the program gives, in one place, so checks and components agree."""

    def __init__(self, prefix: str, cloud: str, project: str | None = None) -> None:
        self.prefix, self.cloud, self.project = prefix, cloud, project

    def __call__(self, *parts: str) -> str:
        return "-".join((self.prefix, *parts))

    def fifo(self, name: str, fifo: bool) -> str:
        return f"{name}.fifo" if fifo else name

    def bucket(self, logical: str) -> str:
        """AWS: a bucket_prefix (S3 appends a unique suffix); GCP: globally unique via the project id."""
        if self.cloud == "aws":
            return shorten(self(logical), 36) + "-"
        return shorten(self(logical, self.project or ""), 63)

    def service_account(self, function: str) -> str:
        """GCP service account ids are 6-30 characters: shortened with a hash when longer."""
        sa = shorten(self(function), 30)
        return sa if len(sa) >= 6 else f"{sa}-fn-sa"
