"""What the console shows: the last invocations and writes of the running app, and the traces they form.

Two kinds of entries, both plain dicts ready for JSON:

- ``invocation``: one finished attempt of a handler (a ``Report``), with its span (trace id,
  span id, parent span id) from the trace context its event carried;
- ``write``: a message sent or published, an object put or deleted, by a handler (its parent is
  the invocation that wrote it) or from outside (the console, the CLI: a root).

A trace is every entry with one trace id, as a tree: an invocation's children are the writes it
made; a write's children are the invocations of the event it produced, their attempts grouped.
An object event carries no trace context, so the write that produced it lends it its trace.
Kept in memory, the last ``limit`` entries: a console for the running process, not an archive.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from portside.delivery import Action
from portside.events import AnyEvent, ObjectCreated, ObjectDeleted
from portside.local.report import Report, preview
from portside.runtime import current
from portside.trace import TRACEPARENT, parse_traceparent

LIMIT = 10_000


def outcome_of(report: Report) -> str:
    """ok | error (an HTTP answer of 400 or more) | retry | dead-letter | dropped."""
    if report.status is not None:
        return "ok" if report.status < 400 else "error"
    if report.outcome.ok:
        return "ok"
    action = report.decision.action if report.decision else Action.DEAD_LETTER
    return {Action.RETRY: "retry", Action.DEAD_LETTER: "dead-letter", Action.DROP: "dropped"}.get(action, "error")


class Journal:
    """A bounded, thread-safe log of entries; waiters wake when one is added."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._seq = itertools.count(1)
        self._changed = threading.Condition()
        self._lent: dict[str, tuple[str, str]] = {}  # object event id -> (trace id, span id) of its write

    # -- recording --
    def _add(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._changed:
            entry["seq"] = next(self._seq)
            self._entries.append(entry)
            self._changed.notify_all()
        return entry

    def invocation(self, report: Report) -> dict[str, Any]:
        o = report.outcome
        event = o.event
        trace = o.trace
        trace_id, span_id, parent = (trace.trace_id, trace.span_id, trace.parent_span_id) if trace else ("", "", None)
        lent = self._lent.get(event.id)  # kept for the retries of the same event
        if lent is not None and parent is None:  # an object event: the write that produced it is its parent
            trace_id, parent = lent
        kind, _, resource = report.source.partition(" ")
        if kind == "http":
            resource = resource.split(" ", 1)[-1]  # the path
        error = o.error
        return self._add({
            "type": "invocation", "time": time.time(), "ms": round(o.seconds * 1000, 3), "source": report.source,
            "source_kind": kind, "resource": resource, "function": report.function, "event_kind": type(event).__name__,
            "event_id": event.id, "attempt": o.attempt, "outcome": outcome_of(report), "status": report.status,
            "delay": report.decision.delay if report.decision and report.decision.action is Action.RETRY else None,
            "error_type": type(error).__name__ if error else None,
            "error": (str(error).splitlines() or [""])[0][:500] if error else None,
            "trace_id": trace_id, "span_id": span_id, "parent_span_id": parent, "preview": preview(event)})

    def write(self, action: str, resource: str, event: AnyEvent, consumers: int) -> dict[str, Any]:
        """A message sent or published, or an object put or deleted (``action``), reaching ``consumers``."""
        inv = current()
        if inv is not None:
            trace_id, parent = inv.trace.trace_id, inv.trace.span_id
        else:
            carried = parse_traceparent(getattr(event, "attributes", {}).get(TRACEPARENT))
            trace_id, parent = (carried.trace_id, carried.span_id) if carried else ("", None)
        if isinstance(event, (ObjectCreated, ObjectDeleted)) and consumers:
            if not trace_id:
                trace_id = event.id  # an upload from outside starts a trace of its own
            self._lent[event.id] = (trace_id, parent or "")
            if len(self._lent) > self._entries.maxlen:  # type: ignore[operator]
                self._lent.pop(next(iter(self._lent)))
        return self._add({"type": "write", "time": time.time(), "action": action, "resource": resource,
                          "event_kind": type(event).__name__, "event_id": event.id, "consumers": consumers,
                          "function": inv.function.name if inv else None, "trace_id": trace_id,
                          "parent_span_id": parent, "preview": preview(event)})

    # -- reading --
    def entries(self, after: int = 0, *, function: str | None = None, resource: str | None = None,
                outcome: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """The newest ``limit`` entries after ``after`` that match every filter given."""
        with self._changed:
            found = [e for e in self._entries if e["seq"] > after]
        if function:
            found = [e for e in found if e.get("function") == function]
        if resource:
            found = [e for e in found if e.get("resource") == resource]
        if outcome:
            found = [e for e in found if e.get("outcome", "write" if e["type"] == "write" else None) == outcome]
        return found[-limit:]

    def wait(self, after: int, timeout: float) -> bool:
        """Block until an entry newer than ``after`` exists (True) or ``timeout`` passes (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: bool(self._entries) and self._entries[-1]["seq"] > after, timeout)

    def traces(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest traces, each summed up: its root, when, how long, how many invocations and failures."""
        with self._changed:
            entries = [e for e in self._entries if e["trace_id"]]
        by_trace: dict[str, list[dict[str, Any]]] = {}
        for e in entries:
            by_trace.setdefault(e["trace_id"], []).append(e)
        out = [summary(tid, es) for tid, es in by_trace.items()]
        out.sort(key=lambda t: t["last_seq"], reverse=True)
        return out[:limit]

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        with self._changed:
            entries = [e for e in self._entries if e["trace_id"] == trace_id]
        if not entries:
            return None
        return {**summary(trace_id, entries), "roots": tree(entries)}


def summary(trace_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    invocations = [e for e in entries if e["type"] == "invocation"]
    spans = {e["span_id"] for e in invocations}
    roots = [e for e in entries if not e.get("parent_span_id") or e["parent_span_id"] not in spans]
    first = min(entries, key=lambda e: e["seq"])
    root = min(roots, key=lambda e: e["seq"]) if roots else first
    starts = [e["time"] - e.get("ms", 0) / 1000 for e in entries]
    ends = [e["time"] for e in entries]
    return {"trace_id": trace_id, "root": label(root), "started": min(starts), "ms": round((max(ends) - min(starts)) * 1000, 1),
            "invocations": len(invocations), "functions": sorted({e["function"] for e in invocations}),
            "failed": sum(e["outcome"] not in ("ok",) for e in invocations),
            "dead_letters": sum(e["outcome"] == "dead-letter" for e in invocations),
            "last_seq": max(e["seq"] for e in entries)}


def label(entry: dict[str, Any]) -> str:
    if entry["type"] == "write":
        return f"{entry['action']} {entry['resource']}"
    return f"{entry['source']} -> {entry['function']}"


def tree(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Writes under the invocation that made them; invocations of an event under the write that produced
    it (its attempts grouped, per function); whatever has no parent here is a root."""
    entries = sorted(entries, key=lambda e: e["seq"])
    writes = [e for e in entries if e["type"] == "write"]
    invocations = [e for e in entries if e["type"] == "invocation"]
    write_of = {w["event_id"]: w for w in writes}
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}  # (parent key, function, event id) -> node
    group_of_span: dict[str, dict[str, Any]] = {}
    for inv in invocations:
        parent_write = write_of.get(inv["event_id"])
        parent_key = f"w{parent_write['seq']}" if parent_write else f"s{inv['parent_span_id'] or ''}"
        key = (parent_key, inv["function"], inv["event_id"])
        node = groups.get(key)
        if node is None:
            node = groups[key] = {"type": "invocation", "function": inv["function"], "source": inv["source"],
                                  "event_id": inv["event_id"], "event_kind": inv["event_kind"],
                                  "preview": inv["preview"], "attempts": [], "children": [], "_parent": parent_key,
                                  "seq": inv["seq"]}
        node["attempts"].append({k: inv[k] for k in ("seq", "time", "ms", "attempt", "outcome", "status", "delay",
                                                     "error_type", "error", "span_id")})
        node["outcome"] = inv["outcome"]
        group_of_span[inv["span_id"]] = node
    write_nodes = {f"w{w['seq']}": {"type": "write", "action": w["action"], "resource": w["resource"],
                                    "event_id": w["event_id"], "event_kind": w["event_kind"], "preview": w["preview"],
                                    "consumers": w["consumers"], "time": w["time"], "children": [], "seq": w["seq"],
                                    "_parent": f"s{w['parent_span_id'] or ''}"} for w in writes}
    roots: list[dict[str, Any]] = []
    for key, node in list(write_nodes.items()):
        owner = group_of_span.get(node["_parent"][1:])
        (owner["children"] if owner else roots).append(node)
    for node in groups.values():
        p = node["_parent"]
        owner = write_nodes.get(p) if p.startswith("w") else group_of_span.get(p[1:])
        (owner["children"] if owner else roots).append(node)
    for node in [*groups.values(), *write_nodes.values()]:
        node.pop("_parent", None)
        node["children"].sort(key=lambda n: n["seq"])
        if node["type"] == "invocation":
            a = node["attempts"]
            node["start"] = a[0]["time"] - a[0]["ms"] / 1000
            node["ms"] = round(sum(x["ms"] for x in a), 3)
    roots.sort(key=lambda n: n["seq"])
    return roots
