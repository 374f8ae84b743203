"""In-memory ports. Writes fire triggers through the FakeCloud, as the real clouds do.

They store what the contract (``portside.contract``) let through: keys, attributes and items
were checked before they arrive here, the same checks every target runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from portside.contract import item_json
from portside.declarations import Bucket, Queue, Table, Topic
from portside.errors import NotFound


class FakeCloud(Protocol):
    """What the ports call back into: the cloud turns each write into the deliveries it causes."""

    def _object_changed(self, bucket: Bucket, key: str, stored: StoredObject | None) -> None: ...

    def _enqueue(self, queue: Queue, body: bytes, attributes: dict[str, str], delay: int,
                 ordering_key: str | None) -> str: ...

    def _fan_out(self, topic: Topic, body: bytes, attributes: dict[str, str]) -> str: ...


@dataclass(frozen=True, slots=True)
class StoredObject:
    data: bytes
    content_type: str | None
    metadata: dict[str, str]
    etag: str


class FakeBucket:
    def __init__(self, cloud: FakeCloud, resource: Bucket) -> None:
        self.cloud, self.resource = cloud, resource
        self.objects: dict[str, StoredObject] = {}

    def get(self, key: str) -> bytes:
        try:
            return self.objects[key].data
        except KeyError:
            raise NotFound(f"bucket {self.resource.name!r} has no object {key!r}") from None

    def exists(self, key: str) -> bool:
        return key in self.objects

    def list(self, prefix: str = "") -> Iterator[str]:
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))

    def signed_url(self, key: str, expires: int = 3600) -> str:
        return f"fake://{self.resource.name}/{key}?expires={expires}"

    def put(self, key: str, data: bytes | BinaryIO, content_type: str | None = None,
            metadata: dict[str, str] | None = None) -> None:
        body = data if isinstance(data, bytes) else data.read()
        stored = StoredObject(body, content_type, dict(metadata or {}), hashlib.md5(body).hexdigest())
        self.objects[key] = stored
        self.cloud._object_changed(self.resource, key, stored)

    def delete(self, key: str) -> None:
        stored = self.objects.pop(key, None)
        if stored is not None:
            self.cloud._object_changed(self.resource, key, None)


class FakeQueue:
    def __init__(self, cloud: FakeCloud, resource: Queue) -> None:
        self.cloud, self.resource = cloud, resource

    def send(self, body: bytes, attributes: dict[str, str], delay: int = 0,
             ordering_key: str | None = None) -> str:
        return self.cloud._enqueue(self.resource, body, attributes, delay, ordering_key)


class FakeTopic:
    def __init__(self, cloud: FakeCloud, resource: Topic) -> None:
        self.cloud, self.resource = cloud, resource

    def publish(self, body: bytes, attributes: dict[str, str], ordering_key: str | None = None) -> str:
        return self.cloud._fan_out(self.resource, body, attributes)


def _plain(item: dict[str, Any], table: str) -> dict[str, Any]:
    """A deep copy: what a handler holds never aliases what the table stores."""
    return json.loads(item_json(item, table))


class FakeTable:
    def __init__(self, cloud: FakeCloud, resource: Table) -> None:
        self.cloud, self.resource = cloud, resource
        self.items: dict[tuple[str, ...], dict[str, Any]] = {}

    def _id(self, key: dict[str, Any]) -> tuple[str, ...]:
        t = self.resource
        return (key[t.key],) if t.sort_key is None else (key[t.key], key[t.sort_key])

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        item = self.items.get(self._id(key))
        return _plain(item, self.resource.name) if item is not None else None

    def put(self, item: dict[str, Any]) -> None:
        self.items[self._id(item)] = _plain(item, self.resource.name)

    def put_if_absent(self, item: dict[str, Any]) -> bool:
        if self._id(item) in self.items:
            return False
        self.put(item)
        return True

    def update(self, key: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        current = self.items.get(self._id(key))
        if current is None:
            raise NotFound(f"table {self.resource.name!r} has no item {key!r}")
        updated = _plain({**current, **changes, **key}, self.resource.name)
        self.items[self._id(key)] = updated
        return _plain(updated, self.resource.name)

    def delete(self, key: dict[str, Any]) -> None:
        self.items.pop(self._id(key), None)

    def query(self, partition: str, limit: int | None = None) -> list[dict[str, Any]]:
        """One partition in sort key order: code point order of the (string) sort keys."""
        t = self.resource
        found = [v for k, v in self.items.items() if k[0] == partition]
        if t.sort_key is not None:
            found.sort(key=lambda i: i[t.sort_key])
        return [_plain(i, t.name) for i in found[:limit]]
