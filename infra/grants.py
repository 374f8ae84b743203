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
    ("bucket", "write"): "custom:objectWriter",
    ("queue", "send"): "roles/pubsub.publisher",
    ("topic", "publish"): "roles/pubsub.publisher",
    # Firestore has no per-database IAM resource: project binding with a condition on the database
    ("table", "read"): "roles/datastore.viewer",
    ("table", "write"): "custom:entityWriter",
}
# Write-only has no predefined role (storage.objectUser and datastore.user also read), so the program
# defines these in the project. Overwriting an object needs storage.objects.delete as well as create
# (cloud.google.com/storage/docs/access-control/iam-permissions); Firestore's set/create/delete need
# datastore.entities.create/update/delete (cloud.google.com/firestore/docs/security/iam).
GCP_CUSTOM_ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "objectWriter": ("portside object writer: create, overwrite and delete objects, never read them",
                     ("storage.objects.create", "storage.objects.delete")),
    "entityWriter": ("portside entity writer: create, update and delete documents, never read them",
                     ("datastore.entities.create", "datastore.entities.update", "datastore.entities.delete")),
}
GCP_INVOKER = "roles/run.invoker"
GCP_EVENT_RECEIVER = "roles/eventarc.eventReceiver"
GCP_DLQ_PUBLISH = "roles/pubsub.publisher"
GCP_FORBIDDEN = ("roles/owner", "roles/editor", "roles/viewer")
