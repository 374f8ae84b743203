"""Local ports: buckets are directories, queues/topics/tables are rows in the SQLite store.

Every write that fires a trigger (an object put, a send, a publish) commits the event's
deliveries in the same transaction as the write's own record, so an accepted write
always reaches its handlers, even across a crash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from datetime import datetime
from json.encoder import encode_basestring_ascii
from pathlib import Path
from random import getrandbits
from typing import Any, BinaryIO, Protocol
from urllib.parse import quote

from portside.app import App
from portside.contract import check_key, item_json
from portside.declarations import (
    Bucket,
    ObjectCreatedTrigger,
    ObjectDeletedTrigger,
    Queue,
    Table,
    Topic,
    TopicTrigger,
)
from portside.errors import NotFound
from portside.events import AnyEvent, Message, ObjectCreated, ObjectDeleted
from portside.local import codec
from portside.local.store import Store


class LocalCloud(Protocol):
    """What the ports need of the runtime that owns them (``portside.local.runtime.LocalCloud``)."""

    app: App
    store: Store
    secret: bytes
    url: str | None

    def now(self) -> datetime: ...

    def observe(self, action: str, resource: str, event: AnyEvent, consumers: int) -> None:
        """A write committed: ``action`` (send, publish, put, delete) on ``resource`` made ``event``
        (the test client remembers the messages, the console shows every write)."""


def new_id() -> str:
    """32 random hex digits, as ``uuid4().hex`` reads, from ``random`` (reseeded in a forked child):
    ids must not collide, not be secret, and os.urandom's system call lets another thread take the
    GIL on every send."""
    return "%032x" % getrandbits(128)


MAX_NAME_BYTES = 200  # a file name is at most 255 bytes; room for the temporary name's suffix


def file_name(segment: str) -> str:
    """A key's segment as a file name: itself, or (longer than a file name may be) a readable
    prefix and a hash of the whole. Keys are listed from the objects table, never from names."""
    if len(segment.encode("utf-8", "surrogatepass")) <= MAX_NAME_BYTES:
        return segment
    digest = hashlib.sha256(segment.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{segment[:40]}~{digest}"


class LocalBucket:
    def __init__(self, cloud: LocalCloud, resource: Bucket) -> None:
        self.cloud, self.resource = cloud, resource
        self.root = cloud.store.dir / "buckets" / resource.name

    def path(self, key: str) -> Path:
        return self.root.joinpath(*map(file_name, check_key(key).split("/")))

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound(f"bucket {self.resource.name!r} has no object {key!r}") from None

    def exists(self, key: str) -> bool:
        return bool(self.cloud.store.read("SELECT 1 FROM objects WHERE bucket=? AND key=?",
                                          (self.resource.name, check_key(key))))

    def list(self, prefix: str = "") -> Iterator[str]:
        rows = self.cloud.store.read("SELECT key FROM objects WHERE bucket=? AND substr(key, 1, ?)=? ORDER BY key",
                                     (self.resource.name, len(prefix), prefix))
        return iter([r[0] for r in rows])

    def signed_url(self, key: str, expires: int = 3600) -> str:
        """A URL the running local server answers until ``expires`` seconds from now (HMAC-signed)."""
        until = int(time.time()) + int(expires)
        sig = sign(self.cloud.secret, self.resource.name, check_key(key), until)
        base = self.cloud.url or "http://127.0.0.1"
        return f"{base}/_portside/objects/{self.resource.name}/{quote(key)}?expires={until}&signature={sig}"

    def put(self, key: str, data: bytes | BinaryIO, content_type: str | None = None,
            metadata: dict[str, str] | None = None) -> None:
        path = self.path(key)
        body = data if isinstance(data, bytes) else bytes(data) if isinstance(data, bytearray) else data.read()
        etag = hashlib.md5(body).hexdigest()
        try:
            make_dirs(path.parent)
            tmp = path.with_name(f".{path.name}.{new_id()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(body)
            os.replace(tmp, path)
        except (NotADirectoryError, IsADirectoryError, FileExistsError) as e:
            raise ValueError(f"object key {key!r} collides with another object's path in bucket "
                             f"{self.resource.name!r} ({e.strerror}): a key cannot be both an object and a "
                             "'folder' on the local target") from None
        now = time.time()
        event = ObjectCreated(new_id(), self.resource.name, key, self.cloud.now(), len(body), etag, content_type)
        with self.cloud.store.tx() as db:
            db.execute("INSERT OR REPLACE INTO objects VALUES (?,?,?,?,?,?,?)",
                       (self.resource.name, key, len(body), etag, content_type, json.dumps(metadata or {}), now))
            fired = self._fire(db, ObjectCreatedTrigger, key, event)
        self.cloud.observe("put", self.resource.name, event, fired)

    def delete(self, key: str) -> None:
        path = self.path(key)
        existed = self.exists(key)
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        if not existed:
            return
        event = ObjectDeleted(new_id(), self.resource.name, key, self.cloud.now())
        with self.cloud.store.tx() as db:
            db.execute("DELETE FROM objects WHERE bucket=? AND key=?", (self.resource.name, key))
            fired = self._fire(db, ObjectDeletedTrigger, key, event)
        self.cloud.observe("delete", self.resource.name, event, fired)

    def _fire(self, db: Any, kind: type, key: str, event: Any) -> int:
        """Queue ``event`` for each function it triggers; how many."""
        text, fired = None, 0
        for fn in self.cloud.app.consumers(self.resource):
            if type(fn.trigger) is kind and fn.trigger.matches(key):
                text = text or codec.dump(event)
                self.cloud.store.add(db, fn.name, f"bucket {self.resource.name}", text, time.time())
                fired += 1
        return fired


def make_dirs(path: Path) -> None:
    """``mkdir -p`` with every folder it creates 0700."""
    if path.is_dir():
        return
    make_dirs(path.parent)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        if not path.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(path)) from None


def sign(secret: bytes, bucket: str, key: str, until: int) -> str:
    return hmac.new(secret, f"{bucket}\n{key}\n{until}".encode(), hashlib.sha256).hexdigest()[:32]


class _Consumers:
    """The functions a resource triggers, looked up once per app (a hot reload brings a new one)."""

    def __init__(self, cloud: LocalCloud, resource: Queue | Topic) -> None:
        self.cloud, self.resource = cloud, resource
        self._app: App | None = None
        self._functions: list[Any] = []
        self._names: list[str] = [""]  # their names; a queue no function consumes keeps its messages for ''

    def consumers(self) -> list[Any]:
        app = self.cloud.app
        if app is not self._app:
            self._functions, self._app = list(app.consumers(self.resource)), app
            self._names = [f.name for f in self._functions] or [""]
        return self._functions


class LocalQueue(_Consumers):
    def __init__(self, cloud: LocalCloud, resource: Queue) -> None:
        super().__init__(cloud, resource)
        self.source = f"queue {resource.name}"

    def send(self, body: bytes, attributes: dict[str, str], delay: int = 0,
             ordering_key: str | None = None) -> str:
        message = Message(new_id(), body, self.resource.name, attributes, 1, ordering_key, self.cloud.now())
        text = codec.dump(message)
        consumers = len(self.consumers())
        group = ordering_key if self.resource.fifo else None  # FIFO: delivered in order within the group
        self.cloud.store.deliver(self._names, self.source, text, time.time() + delay, group)
        self.cloud.observe("send", self.resource.name, message, consumers)
        return message.id


class LocalTopic(_Consumers):
    def __init__(self, cloud: LocalCloud, resource: Topic) -> None:
        super().__init__(cloud, resource)
        self.source = f"topic {resource.name}"

    def publish(self, body: bytes, attributes: dict[str, str], ordering_key: str | None = None) -> str:
        """One delivery per matching subscription, committed before this returns."""
        message = Message(new_id(), body, self.resource.name, attributes, 1, None, self.cloud.now())
        subscribers = [f.name for f in self.consumers()
                       if isinstance(f.trigger, TopicTrigger) and f.trigger.matches(attributes)]
        if subscribers:
            self.cloud.store.deliver(subscribers, self.source, codec.dump(message), time.time())
        self.cloud.observe("publish", self.resource.name, message, len(subscribers))
        return message.id


_compact = json.JSONEncoder(separators=(",", ":")).encode  # made once: json.dumps makes one a call
_quote = encode_basestring_ascii  # what _compact returns for a str


class LocalTable:
    """Items as JSON text keyed by (table, partition JSON, sort JSON)."""

    takes_item_text = True  # the port contract hands over the item's JSON text it checked (one encoding)

    def __init__(self, cloud: LocalCloud, resource: Table) -> None:
        self.cloud, self.resource = cloud, resource

    def _key(self, key: dict[str, Any]) -> tuple[str, str, str]:
        t = self.resource
        try:
            pk = key[t.key]
            pk = _quote(pk) if pk.__class__ is str else _compact(pk)  # a str: the text _compact makes of it
            sk = _compact(key[t.sort_key]) if t.sort_key else ""
        except KeyError as e:
            raise ValueError(f"table {t.name!r} needs key field {e.args[0]!r}") from None
        return t.name, pk, sk

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        rows = self.cloud.store.read("SELECT item FROM items WHERE tbl=? AND pk=? AND sk=?", self._key(key))
        return json.loads(rows[0][0]) if rows else None

    def put(self, item: dict[str, Any], text: str | None = None) -> None:
        text = text or item_json(item, self.resource.name)
        self.cloud.store.write("INSERT OR REPLACE INTO items VALUES (?,?,?,?)", (*self._key(item), text))

    def put_if_absent(self, item: dict[str, Any], text: str | None = None) -> bool:
        text = text or item_json(item, self.resource.name)
        return self.cloud.store.execute("INSERT OR IGNORE INTO items VALUES (?,?,?,?)",
                                        (*self._key(item), text)) == 1

    def update(self, key: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        k = self._key(key)
        with self.cloud.store.tx() as db:
            row = db.execute("SELECT item FROM items WHERE tbl=? AND pk=? AND sk=?", k).fetchone()
            if row is None:
                raise NotFound(f"table {self.resource.name!r} has no item {key!r}")
            updated = {**json.loads(row[0]), **changes, **key}
            db.execute("UPDATE items SET item=? WHERE tbl=? AND pk=? AND sk=?",
                       (item_json(updated, self.resource.name), *k))
        return updated

    def delete(self, key: dict[str, Any]) -> None:
        self.cloud.store.write("DELETE FROM items WHERE tbl=? AND pk=? AND sk=?", self._key(key))

    def query(self, partition: Any, limit: int | None = None) -> list[dict[str, Any]]:
        t = self.resource
        rows = self.cloud.store.read("SELECT item FROM items WHERE tbl=? AND pk=?",
                                     (t.name, _compact(partition)))
        items = [json.loads(r[0]) for r in rows]
        if t.sort_key is not None:
            items.sort(key=lambda i: i[t.sort_key])  # string keys: code point order, as the clouds sort
        return items[:limit] if limit is not None else items

    def scan(self) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self.cloud.store.read("SELECT item FROM items WHERE tbl=?",
                                                                 (self.resource.name,))]
