"""Raw payloads shaped as Google sends them (google-cloudevents schemas and samples, Pub/Sub
push documentation, Cloud Scheduler HTTP target headers). Physical names are deployment-like."""

from __future__ import annotations

import base64
import json
from typing import Any

PROJECT = "portside-test"
BUCKET = "gcpsample-dev-uploads-7f3a"  # physical
TOPIC = f"projects/{PROJECT}/topics/gcpsample-dev-orders"
QUEUE = f"projects/{PROJECT}/topics/gcpsample-dev-jobs"
RESOURCES = {"uploads": BUCKET, "orders": TOPIC, "jobs": QUEUE, "items": "gcpsample-dev-items"}


def storage_object(name: str = "photos/Screenshot 2026-11-22 at 9.21.22 PM.png", size: str = "4154") -> dict[str, Any]:
    """StorageObjectData: note size and generation are strings, as in the schema (int64 in JSON)."""
    return {
        "kind": "storage#object",
        "id": f"{BUCKET}/{name}/1763846582769318",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{BUCKET}/o/{name.replace('/', '%2F')}",
        "name": name, "bucket": BUCKET, "generation": "1763846582769318", "metageneration": "1",
        "contentType": "image/png", "timeCreated": "2026-11-22T21:43:02.791Z", "updated": "2026-11-22T21:43:02.791Z",
        "storageClass": "STANDARD", "timeStorageClassUpdated": "2026-11-22T21:43:02.791Z", "size": size,
        "md5Hash": "Kr0K4JjwIK6Jti0BdqkxXQ==", "crc32c": "bDHMlw==", "etag": "CKbVlsrwvYwDEAE=",
        "mediaLink": f"https://storage.googleapis.com/download/storage/v1/b/{BUCKET}/o/x?generation=1763846582769318&alt=media",
    }


def storage_event(kind: str = "finalized", data: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
    """A structured-mode CloudEvent as Eventarc builds it for Cloud Storage."""
    data = data if data is not None else storage_object()
    ce = {"specversion": "1.0", "id": "14406128144428067", "type": f"google.cloud.storage.object.v1.{kind}",
          "source": f"//storage.googleapis.com/projects/_/buckets/{BUCKET}", "subject": f"objects/{data.get('name')}",
          "time": "2026-11-22T21:43:02.791775Z", "bucket": BUCKET, "datacontenttype": "application/json",
          "traceparent": "00-7f0ba9a82f58ebe9b3caffa7ca5975ed-b260e8ed2ef4d72b-01", "data": data}
    ce.update(over)
    return ce


def pubsub_message(data: bytes = b'{"order": "o-1", "total": 42}', attributes: dict[str, str] | None = None,
                   mid: str = "2070443601311540", ordering_key: str | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"attributes": attributes if attributes is not None else {"ce-type": "order.placed"},
                           "data": base64.b64encode(data).decode(), "messageId": mid, "message_id": mid,
                           "publishTime": "2026-11-22T19:13:55.749123456Z", "publish_time": "2026-11-22T19:13:55.749123456Z"}
    if ordering_key:
        msg["orderingKey"] = ordering_key
    return msg


def push_body(attempt: int | None = 1, subscription: str = "gcpsample-dev-orders-on-order", **kw: Any) -> dict[str, Any]:
    """The wrapped push request body; deliveryAttempt is present when a dead-letter policy is set."""
    body: dict[str, Any] = {"message": pubsub_message(**kw), "subscription": f"projects/{PROJECT}/subscriptions/{subscription}"}
    if attempt is not None:
        body["deliveryAttempt"] = attempt
    return body


def message_published(**kw: Any) -> dict[str, Any]:
    """Eventarc's google.cloud.pubsub.topic.v1.messagePublished."""
    return {"specversion": "1.0", "id": "2070443601311540", "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": f"//pubsub.googleapis.com/{TOPIC}", "time": "2026-11-22T19:13:55.749Z",
            "datacontenttype": "application/json",
            "data": {"message": pubsub_message(**kw),
                     "subscription": f"projects/{PROJECT}/subscriptions/eventarc-us-central1-on-order-123-sub-456"}}


# google-cloudevents testdata DocumentEventData-complex.json, as Firestore's JSON form
FIRESTORE_COMPLEX = {
    "oldValue": {}, "updateMask": {},
    "value": {
        "createTime": "2020-04-23T14:25:05.349632Z",
        "fields": {
            "arrayValue": {"arrayValue": {"values": [{"integerValue": "1"}, {"integerValue": "2"}]}},
            "booleanValue": {"booleanValue": True},
            "doubleValue": {"doubleValue": 5.5},
            "geoPointValue": {"geoPointValue": {"latitude": 51.4543, "longitude": -0.9781}},
            "intValue": {"integerValue": "50"},
            "mapValue": {"mapValue": {"fields": {"field1": {"stringValue": "x"}, "field2": {
                "arrayValue": {"values": [{"stringValue": "x"}, {"integerValue": "1"}]}}}}},
            "nullValue": {"nullValue": None},
            "referenceValue": {"referenceValue": "projects/project-id/databases/(default)/documents/foo/bar/baz/qux"},
            "stringValue": {"stringValue": "text"},
            "timestampValue": {"timestampValue": "2020-04-23T14:23:53.241Z"},
            "id": {"stringValue": "IH75dRdeYJKd4uuQiqch"},
        },
        "name": "projects/project-id/databases/gcpsample-dev-items/documents/items/IH75dRdeYJKd4uuQiqch",
        "updateTime": "2020-04-23T14:25:05.349632Z",
    },
}


def firestore_event(kind: str = "created", data: Any = None, document: str = "items/IH75dRdeYJKd4uuQiqch",
                    content_type: str = "application/json") -> dict[str, Any]:
    """Attributes Eventarc sets on Firestore document events (database, namespace, document...)."""
    return {"specversion": "1.0", "id": "7b8f1804-d38b-4b68-b37d-e2fb5d12d5a0",
            "type": f"google.cloud.firestore.document.v1.{kind}",
            "source": f"//firestore.googleapis.com/projects/{PROJECT}/databases/gcpsample-dev-items",
            "subject": f"documents/{document}", "time": "2026-11-22T14:25:05.349632Z",
            "datacontenttype": content_type, "dataschema":
                "https://github.com/googleapis/google-cloudevents/blob/main/proto/google/events/cloud/firestore/v1/data.proto",
            "location": "us-central1", "project": PROJECT, "database": "gcpsample-dev-items", "namespace": "(default)",
            "document": document, "data": FIRESTORE_COMPLEX if data is None else data}


def firestore_protobuf(old: dict[str, Any] | None, new: dict[str, Any] | None, mask: list[str] = ()) -> bytes:
    """DocumentEventData serialized as production sends it (application/protobuf)."""
    from google.events.cloud.firestore_v1.types import DocumentEventData

    def doc(fields: dict[str, Any] | None) -> dict[str, Any] | None:
        if fields is None:
            return None
        return {"name": f"projects/{PROJECT}/databases/gcpsample-dev-items/documents/items/o-1",
                "fields": fields, "create_time": "2026-11-22T14:25:05.349632Z", "update_time": "2026-11-22T14:26:05Z"}

    from google.protobuf.json_format import ParseDict

    body: dict[str, Any] = {}
    if old is not None:
        body["oldValue"] = doc(old)
    if new is not None:
        body["value"] = doc(new)
    if mask:
        body["updateMask"] = {"fieldPaths": list(mask)}
    # the proto uses snake_case; ParseDict accepts the JSON (camelCase) names too
    body = json.loads(json.dumps(body).replace('"create_time"', '"createTime"').replace('"update_time"', '"updateTime"'))
    return DocumentEventData.serialize(DocumentEventData.wrap(ParseDict(body, DocumentEventData.pb()())))


SCHEDULER_HEADERS = {
    "Content-Type": "application/json", "User-Agent": "Google-Cloud-Scheduler", "X-CloudScheduler": "true",
    "X-CloudScheduler-JobName": "gcpsample-dev-on-tick", "X-CloudScheduler-ScheduleTime": "2026-11-22T03:00:00.118Z",
    "X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1",
}
SCHEDULER_BODY = json.dumps({"schedule": "nightly", "function": "on-tick"}).encode()
