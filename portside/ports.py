"""The ports of DESIGN §5: what each target implements so handlers can reach the world.

Handlers never see these directly: they call the resource handles (``bucket.put``),
which check the declared permission and forward to ``Target.port(resource)``.
Bodies arrive here already encoded (bytes) and attributes already carry trace context.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO, Protocol, runtime_checkable

from portside.resources import Resource


class BucketPort(Protocol):
    def get(self, key: str) -> bytes:
        """The object's bytes; ``portside.NotFound`` if there is none."""

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix``, in lexicographic order."""

    def signed_url(self, key: str, expires: int) -> str: ...

    def put(self, key: str, data: bytes | BinaryIO, content_type: str | None,
            metadata: dict[str, str]) -> None: ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error (as on S3 and GCS)."""


class QueuePort(Protocol):
    def send(self, body: bytes, attributes: dict[str, str], delay: int,
             ordering_key: str | None) -> str:
        """Enqueue; returns the message id."""


class TopicPort(Protocol):
    def publish(self, body: bytes, attributes: dict[str, str], ordering_key: str | None) -> str:
        """Fan out to every subscription; returns the message id."""


class TablePort(Protocol):
    """Items are plain dicts of JSON types; ``key`` dicts hold exactly the key fields."""

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None: ...

    def put(self, item: dict[str, Any]) -> None: ...

    def put_if_absent(self, item: dict[str, Any]) -> bool:
        """Conditional create: False, and nothing written, if the key exists."""

    def update(self, key: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """Set fields of an existing item (``NotFound`` if none) and return it."""

    def delete(self, key: dict[str, Any]) -> None: ...

    def query(self, partition: Any, limit: int | None) -> list[dict[str, Any]]: ...


@runtime_checkable
class Target(Protocol):
    """A place handlers run: the fake cloud, the local runtime, AWS or GCP."""

    name: str

    def port(self, resource: Resource) -> Any:
        """The port for ``resource``: a BucketPort, QueuePort, TopicPort or TablePort."""
