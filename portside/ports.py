"""The ports: what each target (fake, local, AWS, GCP) implements so handlers can reach the world.

Handlers never see these directly: they call the resource handles (``bucket.put``), which check
the declared permission and forward to ``Target.port(resource)``. Bodies arrive here already
encoded (bytes) and attributes already carry trace context. One contract suite
(``tests/contract``) runs every operation against every target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

from portside.declarations import Bucket, Queue, Resource, Table, Topic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO, ClassVar, Protocol, overload, runtime_checkable
else:
    # The protocols are contracts for type checkers: at run time nothing checks them, and importing
    # typing would cost every cold start ~4 ms (bench/startup.py), so here they are plain classes.
    Protocol = object

    def runtime_checkable(cls: type) -> type:
        return cls

__all__ = ["BucketPort", "PortCache", "QueuePort", "TablePort", "Target", "TopicPort"]


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


Port = BucketPort | QueuePort | TopicPort | TablePort


@runtime_checkable
class Target(Protocol):
    """A place handlers run: the fake cloud, the local runtime, AWS or GCP.

    Optional: ``instance`` (a str naming this running instance) and ``instance_alive(instance)
    -> bool``, for a target that can tell a dead instance from a live one (the local runtime);
    ``portside.idempotency`` then takes over a dead instance's in-progress records at once.
    """

    name: str

    def now(self) -> datetime:
        """The target's clock (the fake cloud's is virtual), timezone-aware UTC."""

    if TYPE_CHECKING:
        @overload
        def port(self, resource: Bucket) -> BucketPort: ...
        @overload
        def port(self, resource: Queue) -> QueuePort: ...
        @overload
        def port(self, resource: Topic) -> TopicPort: ...
        @overload
        def port(self, resource: Table) -> TablePort: ...

    def port(self, resource: Resource) -> Port:
        """The port for ``resource``."""


class PortCache:
    """Base of every target: one port per resource, made on a handler's first use of it and
    reused after, since a cloud client costs tens of milliseconds to create and a warm function
    serves many invocations. A target lists its port classes in ``port_types`` (each called
    with the target and the resource) or overrides ``make_port``; ``port`` returns it behind
    the contract checks (``portside.contract``), the same on every target."""

    port_types: ClassVar[Mapping[type[Resource], Callable[[Any, Resource], Any]]] = {}

    def __init__(self) -> None:
        self._ports: dict[str, Any] = {}

    if TYPE_CHECKING:
        @overload
        def port(self, resource: Bucket) -> BucketPort: ...
        @overload
        def port(self, resource: Queue) -> QueuePort: ...
        @overload
        def port(self, resource: Topic) -> TopicPort: ...
        @overload
        def port(self, resource: Table) -> TablePort: ...

    def port(self, resource: Resource) -> Port:
        port = self._ports.get(resource.name)
        if port is None:
            from portside.contract import checked  # with the first port: a start that uses none pays nothing

            port = self._ports[resource.name] = checked(resource, self.make_port(resource))
        return port

    def make_port(self, resource: Resource) -> Any:
        for kind, make in self.port_types.items():
            if isinstance(resource, kind):
                return make(self, resource)
        raise TypeError(f"{resource!r} has no port: handlers reach it through its trigger")
