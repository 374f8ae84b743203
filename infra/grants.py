"""Declared uses -> exact permissions, per cloud: the only place IAM vocabulary lives.

AWS: (resource kind, access) -> actions, and which ARN form they apply to.
GCP: (resource kind, access) -> a predefined role bound on the one resource.
"""

from __future__ import annotations

# kind, access -> [(actions, arn suffix)]: "" is the resource ARN itself, "/*" its objects
AWS_ACTIONS: dict[tuple[str, str], list[tuple[tuple[str, ...], str]]] = {
    ("bucket", "read"): [(("s3:GetObject",), "/*"), (("s3:ListBucket",), "")],
    ("bucket", "write"): [(("s3:PutObject", "s3:DeleteObject"), "/*")],
    ("queue", "send"): [(("sqs:SendMessage",), "")],
    ("topic", "publish"): [(("sns:Publish",), "")],
    ("table", "read"): [(("dynamodb:GetItem", "dynamodb:Query"), "")],
    ("table", "write"): [(("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"), "")],
}
# what a trigger itself needs (not declared by the handler)
AWS_SQS_CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility")
AWS_DLQ_SEND = ("sqs:SendMessage",)
AWS_LOGS = ("logs:CreateLogStream", "logs:PutLogEvents")

GCP_ROLES: dict[tuple[str, str], str] = {
    ("bucket", "read"): "roles/storage.objectViewer",
    # no predefined role can create, overwrite and delete without also reading; scoped to the bucket
    ("bucket", "write"): "roles/storage.objectUser",
    ("queue", "send"): "roles/pubsub.publisher",
    ("topic", "publish"): "roles/pubsub.publisher",
    # Firestore has no per-database IAM resource: project binding with a condition on the database
    ("table", "read"): "roles/datastore.viewer",
    ("table", "write"): "roles/datastore.user",
}
GCP_INVOKER = "roles/run.invoker"
GCP_EVENT_RECEIVER = "roles/eventarc.eventReceiver"
GCP_DLQ_PUBLISH = "roles/pubsub.publisher"
GCP_FORBIDDEN = ("roles/owner", "roles/editor", "roles/viewer")
