"""Publish what a handler recorded, even if it dies between the two: a transactional outbox.

    outbox = Outbox(app, "outbox", topics=[orders], proofs=[order_log])  # a table, a schedule, a relay
    app.function("shop.orders:place", ..., uses=[*outbox.uses, order_log.read_write, orders.publisher])

    with outbox.publishing(orders, event, proof=Proof(order_log, key, {"event_id": event.id})):
        order_log.put_if_absent(row)  # the record; the event is published when the block ends

No cloud's table port writes two items atomically, so the message is staged first: a pending
entry (the encoded message, its topic, and the *proof*: which item must exist, with which
fields, for the message to be true) is written before the block runs; when the block ends the
message is published and the entry deleted. A relay function, run by a schedule, finishes what
a dead handler left: an entry older than ``grace`` (or whose owner the target knows is gone,
see ``portside.ports.Target``) is published if its proof holds and dropped if it does not (the
handler died before recording, or lost a race to record). Publication is at least once, as
every delivery is: consumers of an outbox's topics are idempotent (``portside.idempotency``).

Pending entries share one partition (``box = "pending"``) so the relay reads them with one
query; they live for the length of a handler's block, so the partition stays small.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from portside.app import App
from portside.declarations import Function, Use
from portside.errors import DeclarationError
from portside.events import Event, Tick
from portside.handles import Body, Table, Topic, encode_body, event_attributes
from portside.record import Record, setfield
from portside.runtime import current, target_time
from portside.telemetry import Logger, outgoing_attributes, stamp_event

TYPE_CHECKING = False  # typing, logging, base64 and contextlib stay out of a handler module's import
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any

log = Logger("portside.outbox")
PENDING = "pending"
_RELAYS: dict[Function, Outbox] = {}  # the relay function -> its outbox


class Proof(Record):
    """The message is true once ``table`` holds an item at ``key`` whose fields include ``match``."""

    __slots__ = ("table", "key", "match")
    table: Table
    key: Mapping[str, Any]
    match: Mapping[str, Any]

    def __init__(self, table: Table, key: Mapping[str, Any], match: Mapping[str, Any] | None = None) -> None:
        setfield(self, "table", table)
        setfield(self, "key", key)
        setfield(self, "match", match if match is not None else {})

    def holds(self) -> bool:
        item = self.table.get(dict(self.key))
        return item is not None and all(item.get(k) == v for k, v in self.match.items())


class Staged:
    """What ``Outbox.publishing`` staged, as a context manager: the block runs between staging and
    publishing; ``cancel()`` withdraws the message when the block ends. If the block raises, a
    message without a proof is discarded; one whose proof already holds (the record was made, then
    something failed) stays for the relay."""

    __slots__ = ("outbox", "entry", "proof", "cancelled")

    def __init__(self, outbox: Outbox, entry: dict[str, Any], proof: Proof | None) -> None:
        self.outbox, self.entry, self.proof, self.cancelled = outbox, entry, proof, False

    def cancel(self) -> None:
        self.cancelled = True

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        key = {"box": PENDING, "id": self.entry["id"]}
        if kind is not None:
            if self.proof is None or not self.proof.holds():
                self.outbox.table.delete(key)
        elif self.cancelled:
            self.outbox.table.delete(key)
        else:
            self.outbox._publish(self.entry)


class Outbox:
    """A table of pending messages and the scheduled relay that publishes what handlers left."""

    def __init__(self, app: App, name: str = "outbox", *, topics: Sequence[Topic], proofs: Sequence[Table] = (),
                 every: str = "1 minute", grace: float = 120.0) -> None:
        if not topics:
            raise DeclarationError(f"outbox {name!r} needs the topics it publishes to")
        self.table: Table = app.table(name, key="box", sort_key="id")
        self.topics = {t.name: t for t in topics}
        self.proofs = {t.name: t for t in proofs}
        self.grace = grace
        schedule = app.schedule(f"{name}-relay", rate=every)
        self.relay_function = app.function(
            "portside.outbox:relay", name=f"{name}-relay", trigger=schedule.on_tick(),
            uses=[self.table.read_write, *(t.publisher for t in topics), *(t.reader for t in proofs)], timeout=60)
        _RELAYS[self.relay_function] = self

    @property
    def uses(self) -> tuple[Use, ...]:
        """What a function that publishes through this outbox must declare, besides the topic."""
        return (self.table.read_write,)

    def publishing(self, topic: Topic, message: Body, attributes: Mapping[str, str] | None = None, *,
                   proof: Proof | None = None) -> Staged:
        """Stage ``message`` for ``topic``; ``with`` it, run the block (the record), then it is published.

        The block may ``cancel()`` what it staged (nothing to announce after all: a duplicate)."""
        if topic.name not in self.topics:
            raise DeclarationError(f"outbox {self.table.name!r} does not publish to topic {topic.name!r}: "
                                   "add it to topics=")
        if proof is not None and proof.table.name not in self.proofs:
            raise DeclarationError(f"outbox {self.table.name!r} cannot check table {proof.table.name!r}: "
                                   "add it to proofs=")
        return Staged(self, self._stage(topic, message, attributes, proof), proof)

    def _stage(self, topic: Topic, message: Body, attributes: Mapping[str, str] | None,
               proof: Proof | None) -> dict[str, Any]:
        if isinstance(message, Event):
            message = stamp_event(message)
        body, attrs = encode_body(message), outgoing_attributes(event_attributes(message, attributes))
        from base64 import b64encode

        inv = current()
        now = target_time()
        entry: dict[str, Any] = {"box": PENDING, "id": f"{int(now * 1000):015d}-{os.urandom(6).hex()}",
                                 "topic": topic.name, "body": b64encode(body).decode(), "attributes": attrs,
                                 "staged": now}
        owner = getattr(inv.target, "instance", None) if inv else None
        if owner:
            entry["owner"] = owner
        if proof is not None:
            entry["proof"] = {"table": proof.table.name, "key": dict(proof.key), "match": dict(proof.match)}
        self.table.put(entry)
        return entry

    def _publish(self, entry: Mapping[str, Any]) -> None:
        from base64 import b64decode

        self.topics[entry["topic"]].publish(b64decode(entry["body"]), dict(entry["attributes"]))
        self.table.delete({"box": PENDING, "id": entry["id"]})

    def relay(self) -> dict[str, int]:
        """Publish or drop what dead handlers left; leave what live ones are still doing."""
        inv = current()
        now, done = target_time(), {"published": 0, "dropped": 0, "waiting": 0}
        alive = getattr(inv.target, "instance_alive", None) if inv else None
        for entry in self.table.query(PENDING):
            owner_gone = bool(entry.get("owner")) and alive is not None and not alive(entry["owner"])
            if not owner_gone and now - float(entry.get("staged", 0)) < self.grace:
                done["waiting"] += 1
                continue
            spec = entry.get("proof")
            if spec is None or Proof(self.proofs[spec["table"]], spec["key"], spec["match"]).holds():
                self._publish(entry)
                done["published"] += 1
                log.warning("outbox %s: published %s for a handler that stopped before publishing it",
                            self.table.name, entry["id"])
            else:
                self.table.delete({"box": PENDING, "id": entry["id"]})
                done["dropped"] += 1
                log.info("outbox %s: dropped %s, whose record was never made", self.table.name, entry["id"])
        return done


def relay(tick: Tick) -> dict[str, int]:
    """The scheduled relay's handler (declared by ``Outbox``)."""
    inv = current()
    outbox = _RELAYS.get(inv.function) if inv else None
    if outbox is None:
        raise DeclarationError(f"no outbox declared relay function {inv.function.name if inv else '?'!r}")
    return outbox.relay()
