"""google-cloud-backed ports (docs/architecture.md, "Ports"): Cloud Storage, Pub/Sub, Firestore.

Client libraries are imported on first use of a port and their clients are created once
per process and reused by every invocation (a cold start pays only for what the handler
touches). The emulator variables work as the libraries define them:
``STORAGE_EMULATOR_HOST``, ``PUBSUB_EMULATOR_HOST``, ``FIRESTORE_EMULATOR_HOST``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, BinaryIO
from urllib.parse import quote

from portside import deployment as env
from portside.contract import item_json
from portside.declarations import Bucket, Queue, Resource, Table, Topic
from portside.errors import DeclarationError, NotFound
from portside.ports import PortCache

log = logging.getLogger("portside.gcp")
PUBLISH_TIMEOUT = 30.0  # seconds to wait for Pub/Sub to accept one message
_lock = threading.Lock()
_clients: dict[tuple[str, ...], Any] = {}


def _client(key: tuple[str, ...], make: Any) -> Any:
    """One client per kind (and project/database) per process, created on first use."""
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = make()
    return client


def reset_clients() -> None:
    """Forget cached clients (tests switch emulators; a deployed function never needs this)."""
    _clients.clear()


def project_id() -> str | None:
    return os.environ.get(env.PROJECT) or os.environ.get("GCLOUD_PROJECT") or None


def topic_path(physical: str, project: str | None = None) -> str:
    """``projects/P/topics/T`` from a full path or a bare topic name plus the project."""
    if physical.startswith("projects/"):
        return physical
    project = project or project_id()
    if not project:
        raise DeclarationError(f"topic {physical!r} is a bare name and {env.PROJECT} is not set: "
                               "set it, or pass the full projects/P/topics/T path")
    return f"projects/{project}/topics/{physical}"


# -- Cloud Storage -----------------------------------------------------------------------------

def storage_client(project: str | None) -> Any:
    def make() -> Any:
        from google.cloud import storage

        if os.environ.get("STORAGE_EMULATOR_HOST"):
            from google.auth.credentials import AnonymousCredentials

            return storage.Client(project=project or "emulator", credentials=AnonymousCredentials())
        return storage.Client(project=project)
    return _client(("storage", project or ""), make)


class GcsBucket:
    """BucketPort on one Cloud Storage bucket."""

    def __init__(self, name: str, logical: str, project: str | None = None) -> None:
        self.name, self.logical, self.project = name, logical, project
        self._bucket: Any = None

    @property
    def bucket(self) -> Any:
        if self._bucket is None:
            self._bucket = storage_client(self.project).bucket(self.name)
        return self._bucket

    def get(self, key: str) -> bytes:
        from google.api_core.exceptions import NotFound as GNotFound

        try:
            return self.bucket.blob(key).download_as_bytes()
        except GNotFound:
            raise NotFound(f"bucket {self.logical!r} has no object {key!r}") from None

    def exists(self, key: str) -> bool:
        return bool(self.bucket.blob(key).exists())

    def list(self, prefix: str = "") -> Iterator[str]:
        client = storage_client(self.project)
        return iter(sorted(b.name for b in client.list_blobs(self.name, prefix=prefix or None)))

    def signed_url(self, key: str, expires: int = 3600) -> str:
        """A V4 signed GET URL. On Cloud Functions the runtime account has no private key, so
        signing goes through IAM signBlob (the account needs iam.serviceAccountTokenCreator
        on itself). Under an emulator there is nothing to sign: the plain emulator URL."""
        emulator = os.environ.get("STORAGE_EMULATOR_HOST")
        if emulator:
            return f"{emulator.rstrip('/')}/{self.name}/{quote(key)}"
        blob = self.bucket.blob(key)
        creds = storage_client(self.project)._credentials
        kwargs: dict[str, Any] = {}
        if not hasattr(creds, "sign_bytes") or type(creds).__module__.startswith("google.auth.compute_engine"):
            import google.auth.transport.requests

            creds.refresh(google.auth.transport.requests.Request())
            kwargs = {"service_account_email": creds.service_account_email, "access_token": creds.token}
        return blob.generate_signed_url(version="v4", expiration=timedelta(seconds=expires), method="GET", **kwargs)

    def put(self, key: str, data: bytes | BinaryIO, content_type: str | None = None,
            metadata: dict[str, str] | None = None) -> None:
        if not isinstance(key, str) or not key:
            raise ValueError(f"object key must be a non-empty str, got {key!r}")
        blob = self.bucket.blob(key)
        if metadata:
            blob.metadata = dict(metadata)
        ctype = content_type or "application/octet-stream"
        if isinstance(data, (bytes, bytearray, memoryview)):
            blob.upload_from_string(bytes(data), content_type=ctype)
        else:
            blob.upload_from_file(data, content_type=ctype)

    def delete(self, key: str) -> None:
        from google.api_core.exceptions import NotFound as GNotFound

        try:
            self.bucket.blob(key).delete()
        except GNotFound:
            pass  # deleting a missing key is not an error (as on S3 and GCS semantics elsewhere)


# -- Pub/Sub -----------------------------------------------------------------------------------

def publisher_client() -> Any:
    """Batch settings for a function: one message at a time, flushed within 10 ms, because
    the handler waits on each publish and the instance may freeze after the response."""
    def make() -> Any:
        from google.cloud import pubsub_v1

        return pubsub_v1.PublisherClient(
            batch_settings=pubsub_v1.types.BatchSettings(max_messages=100, max_bytes=1_000_000, max_latency=0.01),
            publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True))
    return _client(("publisher",), make)


def publish(path: str, body: bytes, attributes: Mapping[str, str], ordering_key: str | None) -> str:
    """Publish and wait for the message id (a function must not answer before it is sent)."""
    client = publisher_client()
    try:
        return client.publish(path, body, ordering_key=ordering_key or "", **attributes).result(timeout=PUBLISH_TIMEOUT)
    except Exception:
        if ordering_key:  # a failed publish pauses its ordering key until resumed
            client.resume_publish(path, ordering_key)
        raise


class PubSubChannel:
    """QueuePort and TopicPort on one Pub/Sub topic (on GCP both are Pub/Sub topics)."""

    def __init__(self, path: str, logical: str) -> None:
        self.path, self.logical = path, logical

    def publish(self, body: bytes, attributes: dict[str, str], ordering_key: str | None = None) -> str:
        return publish(self.path, body, attributes, ordering_key)

    def send(self, body: bytes, attributes: dict[str, str], delay: int = 0, ordering_key: str | None = None) -> str:
        """Pub/Sub has no per-message delay: the message goes now (``portside.contract`` warns)."""
        return publish(self.path, body, attributes, ordering_key)


# -- Firestore ---------------------------------------------------------------------------------

def firestore_client(project: str | None, database: str) -> Any:
    def make() -> Any:
        from google.cloud import firestore

        return firestore.Client(project=project or ("emulator" if os.environ.get("FIRESTORE_EMULATOR_HOST") else None),
                                database=database)
    return _client(("firestore", project or "", database), make)


DOC_ID_BYTES = 1500  # Firestore document ids (cloud.google.com/firestore/quotas)


def doc_id(value: Any) -> str:
    """A key value -> a valid document id ('/' escaped; '.', '..' and '__x__' avoided)."""
    text = quote(value if isinstance(value, str) else json.dumps(value), safe="")
    return f"~{text}" if text in (".", "..") or text.startswith("__") else text


def document_id(values: list[Any]) -> str:
    """The document id of a key (``pk`` or ``pk#sk``); a key whose escaped form is over Firestore's
    1500 bytes is named by its SHA-256 instead (queries filter on the key fields, not the id)."""
    text = "#".join(doc_id(v) for v in values)
    if len(text) <= DOC_ID_BYTES:
        return text
    import hashlib

    return "~sha256~" + hashlib.sha256(json.dumps(values).encode()).hexdigest()


def plain(value: Any) -> Any:
    """Firestore values -> JSON types: timestamps as RFC 3339 text, bytes as base64, GeoPoint as
    a dict, references as paths. Handlers never see a Firestore type."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, datetime):  # DatetimeWithNanoseconds is a datetime
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if hasattr(value, "latitude") and hasattr(value, "longitude"):
        return {"latitude": value.latitude, "longitude": value.longitude}
    if hasattr(value, "path"):
        return value.path
    return str(value)


def _checked(item: Mapping[str, Any], table: str) -> dict[str, Any]:
    """Items hold only JSON types on every cloud: refuse the rest here, naming the table."""
    return json.loads(item_json(item, table))


class FirestoreTable:
    """TablePort on a Firestore collection: the document id is the key (``pk`` or ``pk#sk``)."""

    def __init__(self, resource: Table, database: str, collection: str, project: str | None = None) -> None:
        self.resource, self.database, self.collection, self.project = resource, database, collection, project
        self.fields = (resource.key,) if resource.sort_key is None else (resource.key, resource.sort_key)

    @property
    def _col(self) -> Any:
        return firestore_client(self.project, self.database).collection(self.collection)

    def _doc(self, key: Mapping[str, Any]) -> Any:
        missing = [f for f in self.fields if f not in key]
        if missing:
            raise ValueError(f"table {self.resource.name!r} needs key fields {list(self.fields)}, missing {missing}")
        return self._col.document(document_id([key[f] for f in self.fields]))

    def _stored(self, item: dict[str, Any]) -> dict[str, Any]:
        """Firestore TTL deletes only documents whose TTL field holds a timestamp (a number is ignored:
        cloud.google.com/firestore/docs/ttl), so the table's ``ttl`` field, epoch seconds as on DynamoDB,
        is stored as one; ``_read`` turns it back into the number the handler wrote."""
        ttl, value = self.resource.ttl, item.get(self.resource.ttl or "")
        if ttl and isinstance(value, (int, float)) and not isinstance(value, bool):
            return {**item, ttl: datetime.fromtimestamp(value, timezone.utc)}
        return item

    def _read(self, doc: dict[str, Any] | None) -> dict[str, Any] | None:
        ttl = self.resource.ttl
        if doc is not None and ttl and isinstance(doc.get(ttl), datetime):
            seconds = doc[ttl].timestamp()
            doc = {**doc, ttl: int(seconds) if seconds.is_integer() else seconds}
        return plain(doc)

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        snap = self._doc(key).get()
        return self._read(snap.to_dict()) if snap.exists else None

    def put(self, item: dict[str, Any]) -> None:
        self._doc(item).set(self._stored(_checked(item, self.resource.name)))

    def put_if_absent(self, item: dict[str, Any]) -> bool:
        from google.api_core.exceptions import AlreadyExists

        try:
            self._doc(item).create(self._stored(_checked(item, self.resource.name)))
        except AlreadyExists:
            return False
        return True

    def update(self, key: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        from google.api_core.exceptions import NotFound as GNotFound
        from google.cloud.firestore_v1.field_path import FieldPath

        doc = self._doc(key)
        fields = {k: v for k, v in self._stored(_checked(changes, self.resource.name)).items() if k not in self.fields}
        try:
            if fields:
                # each name is one field, even with dots in it (update() would read "a.b" as a path)
                doc.update({FieldPath(k).to_api_repr(): v for k, v in fields.items()})
            elif not doc.get().exists:
                raise GNotFound("no document")
        except GNotFound:
            raise NotFound(f"table {self.resource.name!r} has no item {dict(key)!r}") from None
        return self._read(doc.get().to_dict())

    def delete(self, key: dict[str, Any]) -> None:
        self._doc(key).delete()

    def query(self, partition: Any, limit: int | None = None) -> list[dict[str, Any]]:
        """Items of one partition in sort key order. Ordering server side needs a composite
        index (partition ==, sort key asc); without one it falls back to sorting here."""
        from google.api_core.exceptions import FailedPrecondition
        from google.cloud.firestore_v1.base_query import FieldFilter

        t = self.resource
        q = self._col.where(filter=FieldFilter(t.key, "==", partition))
        if t.sort_key is None:
            return [self._read(s.to_dict()) for s in (q.limit(limit) if limit else q).stream()]
        try:
            ordered = q.order_by(t.sort_key)
            return [self._read(s.to_dict()) for s in (ordered.limit(limit) if limit else ordered).stream()]
        except FailedPrecondition as e:
            log.warning("table %r: no composite index for (%s ==, %s asc); sorting in the function: %s",
                        t.name, t.key, t.sort_key, e)
            items = [self._read(s.to_dict()) for s in q.stream()]
            items.sort(key=lambda i: i[t.sort_key])  # string keys: code point order, as Firestore sorts
            return items[:limit] if limit else items


# -- the target --------------------------------------------------------------------------------

class GcpTarget(PortCache):
    """Where a deployed function's handlers run: ports resolved from PORTSIDE_RESOURCES."""

    name = "gcp"

    def __init__(self, resources: Mapping[str, Any], project: str | None = None) -> None:
        super().__init__()
        self.resources, self.project = dict(resources), project or project_id()

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def physical(self, resource: Resource) -> Any:
        try:
            return self.resources[resource.name]
        except KeyError:
            raise DeclarationError(
                f"{resource.kind} {resource.name!r} has no physical name in {env.RESOURCES} "
                f"(known: {sorted(self.resources)}): the deployment does not grant this function its use"
            ) from None

    def make_port(self, resource: Resource) -> Any:
        physical = self.physical(resource)
        if isinstance(resource, Bucket):
            return GcsBucket(str(physical), resource.name, self.project)
        if isinstance(resource, (Queue, Topic)):
            return PubSubChannel(topic_path(str(physical), self.project), resource.name)
        if isinstance(resource, Table):
            if isinstance(physical, Mapping):
                database, collection = physical.get("database") or "(default)", physical.get("collection") or resource.name
            else:
                text = str(physical)
                database = text.rsplit("/databases/", 1)[-1] if "/databases/" in text else text or "(default)"
                collection = resource.name
            return FirestoreTable(resource, database, collection, self.project)
        raise DeclarationError(f"{resource.kind} {resource.name!r} has no port on gcp")


__all__ = ["FirestoreTable", "GcpTarget", "GcsBucket", "PubSubChannel", "plain", "publish", "topic_path"]
