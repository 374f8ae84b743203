"""GCS sends OBJECT_DELETE when an upload overwrites an object; S3 does not. Handlers must not know.

Cloud Storage Pub/Sub notifications mark the deletion an overwrite causes with the attribute
``overwrittenByGeneration`` (https://cloud.google.com/storage/docs/pubsub-notifications, "Attributes":
"overwrittenByGeneration: For OBJECT_DELETE and OBJECT_ARCHIVE events, the generation number of the object
that overwrote the object"). Eventarc's storage CloudEvent carries only the object (StorageObjectData in
googleapis/google-cloudevents has no such field), so the program routes deletions through a notification
(infra/gcp/storage.py) and the adapter drops the overwrite's half.

The two push bodies below are real ones captured from a bucket (published in a public write-up of GCS
notifications): one overwrite of ``sample/one_class_svm.png`` and one true deletion of it.
"""

from __future__ import annotations

import json

from portside import App, Message, ObjectDeleted
from portside.gcp import names_for, to_events

BUCKET = "sandbox-hara.appspot.com"
OVERWRITE_DATA = "ewogICJraW5kIjogInN0b3JhZ2Ujb2JqZWN0IiwKICAiaWQiOiAic2FuZGJveC1oYXJhLmFwcHNwb3QuY29tL3NhbXBsZS9vbmVfY2xhc3Nfc3ZtLnBuZy8xNTA3MjYwNTA3NzkyNzk3IiwKICAic2VsZkxpbmsiOiAiaHR0cHM6Ly93d3cuZ29vZ2xlYXBpcy5jb20vc3RvcmFnZS92MS9iL3NhbmRib3gtaGFyYS5hcHBzcG90LmNvbS9vL3NhbXBsZSUyRm9uZV9jbGFzc19zdm0ucG5nIiwKICAibmFtZSI6ICJzYW1wbGUvb25lX2NsYXNzX3N2bS5wbmciLAogICJidWNrZXQiOiAic2FuZGJveC1oYXJhLmFwcHNwb3QuY29tIiwKICAiZ2VuZXJhdGlvbiI6ICIxNTA3MjYwNTA3NzkyNzk3IiwKICAibWV0YWdlbmVyYXRpb24iOiAiMSIsCiAgImNvbnRlbnRUeXBlIjogImltYWdlL3BuZyIsCiAgInRpbWVDcmVhdGVkIjogIjIwMTctMTAtMDZUMDM6Mjg6MjcuNzc3WiIsCiAgInVwZGF0ZWQiOiAiMjAxNy0xMC0wNlQwMzoyODoyNy43NzdaIiwKICAic3RvcmFnZUNsYXNzIjogIlNUQU5EQVJEIiwKICAidGltZVN0b3JhZ2VDbGFzc1VwZGF0ZWQiOiAiMjAxNy0xMC0wNlQwMzoyODoyNy43NzdaIiwKICAic2l6ZSI6ICIxMjI0MiIsCiAgIm1kNUhhc2giOiAiMHVXSnp0aFJxeXlyb0tSSEIyQ3EyQT09IiwKICAibWVkaWFMaW5rIjogImh0dHBzOi8vd3d3Lmdvb2dsZWFwaXMuY29tL2Rvd25sb2FkL3N0b3JhZ2UvdjEvYi9zYW5kYm94LWhhcmEuYXBwc3BvdC5jb20vby9zYW1wbGUlMkZvbmVfY2xhc3Nfc3ZtLnBuZz9nZW5lcmF0aW9uPTE1MDcyNjA1MDc3OTI3OTcmYWx0PW1lZGlhIiwKICAiY3JjMzJjIjogImxHeUd0UT09IiwKICAiZXRhZyI6ICJDSjNMbXZtRzI5WUNFQUU9Igp9Cg=="
DELETE_DATA = "ewogICJraW5kIjogInN0b3JhZ2Ujb2JqZWN0IiwKICAiaWQiOiAic2FuZGJveC1oYXJhLmFwcHNwb3QuY29tL3NhbXBsZS9vbmVfY2xhc3Nfc3ZtLnBuZy8xNTA3MjYwNTY2NTE0MDEyIiwKICAic2VsZkxpbmsiOiAiaHR0cHM6Ly93d3cuZ29vZ2xlYXBpcy5jb20vc3RvcmFnZS92MS9iL3NhbmRib3gtaGFyYS5hcHBzcG90LmNvbS9vL3NhbXBsZSUyRm9uZV9jbGFzc19zdm0ucG5nIiwKICAibmFtZSI6ICJzYW1wbGUvb25lX2NsYXNzX3N2bS5wbmciLAogICJidWNrZXQiOiAic2FuZGJveC1oYXJhLmFwcHNwb3QuY29tIiwKICAiZ2VuZXJhdGlvbiI6ICIxNTA3MjYwNTY2NTE0MDEyIiwKICAibWV0YWdlbmVyYXRpb24iOiAiMSIsCiAgImNvbnRlbnRUeXBlIjogImltYWdlL3BuZyIsCiAgInRpbWVDcmVhdGVkIjogIjIwMTctMTAtMDZUMDM6Mjk6MjYuNTAyWiIsCiAgInVwZGF0ZWQiOiAiMjAxNy0xMC0wNlQwMzoyOToyNi41MDJaIiwKICAic3RvcmFnZUNsYXNzIjogIlNUQU5EQVJEIiwKICAidGltZVN0b3JhZ2VDbGFzc1VwZGF0ZWQiOiAiMjAxNy0xMC0wNlQwMzoyOToyNi41MDJaIiwKICAic2l6ZSI6ICIxMjI0MiIsCiAgIm1kNUhhc2giOiAiMHVXSnp0aFJxeXlyb0tSSEIyQ3EyQT09IiwKICAibWVkaWFMaW5rIjogImh0dHBzOi8vd3d3Lmdvb2dsZWFwaXMuY29tL2Rvd25sb2FkL3N0b3JhZ2UvdjEvYi9zYW5kYm94LWhhcmEuYXBwc3BvdC5jb20vby9zYW1wbGUlMkZvbmVfY2xhc3Nfc3ZtLnBuZz9nZW5lcmF0aW9uPTE1MDcyNjA1NjY1MTQwMTImYWx0PW1lZGlhIiwKICAiY3JjMzJjIjogImxHeUd0UT09IiwKICAiZXRhZyI6ICJDTnpTbXBXSDI5WUNFQUU9Igp9Cg=="


def push(data: str, message_id: str, generation: str, **extra: str) -> bytes:
    attributes = {"objectGeneration": generation, "bucketId": BUCKET, "eventType": "OBJECT_DELETE",
                  "resource": f"projects/_/buckets/{BUCKET}/objects/sample/one_class_svm.png#{generation}",
                  "notificationConfig": f"projects/_/buckets/{BUCKET}/notificationConfigs/3",
                  "payloadFormat": "JSON_API_V1", "objectId": "sample/one_class_svm.png", **extra}
    return json.dumps({"message": {"data": data, "attributes": attributes, "messageId": message_id,
                                   "publishTime": "2017-10-06T03:29:27.472Z"},
                       "subscription": "projects/sandbox-hara/subscriptions/samplesubsc"}).encode()


def names(trigger: str = "deleted"):
    app = App("overwrites")
    uploads, jobs = app.bucket("uploads"), app.queue("jobs")
    fn = app.function("handlers.thumbnails:remove_thumbnail", trigger=uploads.on_deleted())
    other = app.function("handlers.contact:store", trigger=jobs.on_message())
    resources = {"uploads": BUCKET, "jobs": "projects/p/topics/jobs"}
    return names_for(fn if trigger == "deleted" else other, resources)


def test_a_true_deletion_is_an_object_deleted_event() -> None:
    [event] = to_events(push(DELETE_DATA, "157811238131329", "1507260566514012"), names())
    assert isinstance(event, ObjectDeleted)
    assert (event.id, event.bucket, event.key, event.size, event.version, event.etag) == \
        ("157811238131329", "uploads", "sample/one_class_svm.png", 12242, "1507260566514012", "CNzSmpWH29YCEAE=")


def test_the_deletion_half_of_an_overwrite_is_no_event() -> None:
    body = push(OVERWRITE_DATA, "157825666482053", "1507260507792797", overwrittenByGeneration="1507260566514012")
    assert to_events(body, names()) == []


def test_a_queue_message_that_looks_like_a_notification_stays_a_message() -> None:
    body = push(DELETE_DATA, "157811238131329", "1507260566514012")
    [event] = to_events(body, names("queue"))
    assert isinstance(event, Message) and event.attributes["eventType"] == "OBJECT_DELETE"
