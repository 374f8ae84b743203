"""The app's event flow from its declarations: sources -> handlers -> what each writes, sends or publishes.

One graph, two drawings: ``mermaid`` (what ``portside graph`` prints) and ``svg`` (the console's,
each node a link to its recent events).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from portside.app import App
from portside.declarations import (
    HttpTrigger,
    ObjectCreatedTrigger,
    ObjectDeletedTrigger,
    QueueTrigger,
    Resource,
    Schedule,
    TopicTrigger,
)

VERBS = {"write": "writes", "send": "sends", "publish": "publishes"}


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # a resource kind, or "function"
    name: str
    detail: str = ""  # a schedule's cron or rate

    @property
    def label(self) -> str:
        return self.name if self.kind == "function" else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    trigger: bool  # a trigger (solid) or a write (dotted)


@dataclass(frozen=True)
class Flow:
    functions: list[Node]
    resources: list[Node]
    edges: list[Edge]


def _rid(r: Resource) -> str:
    return f"{r.kind}_{r.name}".replace("-", "_")


def _fid(name: str) -> str:
    return "fn_" + name.replace("-", "_")


def trigger_label(t: Any) -> str:
    if isinstance(t, HttpTrigger):
        return f"{t.method} {t.path}"
    if isinstance(t, (ObjectCreatedTrigger, ObjectDeletedTrigger)):
        what = "created" if isinstance(t, ObjectCreatedTrigger) else "deleted"
        match = " ".join(x for x in (f"{t.prefix}*" if t.prefix else "", f"*{t.suffix}" if t.suffix else "") if x)
        return f"{what} {match}".strip()
    if isinstance(t, TopicTrigger):
        types = ", ".join(t.filter.get("ce-type", ()))
        parts = [types] * bool(types) + [f"{k}={' or '.join(v)}" for k, v in t.filter.items() if k != "ce-type"]
        return " ".join(parts) or "every event"
    if isinstance(t, QueueTrigger):
        return f"batch {t.batch_size}" if t.batch_size > 1 else "message"
    return "tick"


def flow(app: App) -> Flow:
    """The functions, the resources they touch (in declaration order) and the edges between them."""
    used: set[str] = set()
    edges: list[Edge] = []
    functions = []
    for fn in app.functions.values():
        functions.append(Node(_fid(fn.name), "function", fn.name))
        src = fn.trigger.source
        used.add(src.name)
        edges.append(Edge(_rid(src), _fid(fn.name), trigger_label(fn.trigger), True))
        for use in fn.uses:
            if use.access in VERBS:
                used.add(use.resource.name)
                edges.append(Edge(_fid(fn.name), _rid(use.resource), VERBS[use.access], False))
    resources = []
    for r in app.resources.values():
        if r.name in used:
            detail = (r.cron or f"every {r.rate}") if isinstance(r, Schedule) else ""
            resources.append(Node(_rid(r), r.kind, r.name, detail))
    return Flow(functions, resources, edges)


_SHAPES = {"api": ('(["', '"])'), "bucket": ('[("', '")]'), "table": ('[("', '")]'), "queue": ('[/"', '"/]'),
           "topic": ('{{"', '"}}'), "schedule": ('(["', '"])')}


def mermaid(app: App) -> str:
    """The flow as a Mermaid flowchart (``portside graph``)."""
    f = flow(app)
    lines = ["flowchart LR"]
    lines += [f'  {n.id}["{n.name}"]' for n in f.functions]
    for n in f.resources:
        open_, close = _SHAPES.get(n.kind, ('["', '"]'))
        lines.append(f"  {n.id}{open_}{n.label}{'<br/>' + n.detail if n.detail else ''}{close}")
    for e in f.edges:
        lines.append(f'  {e.source} -->|"{e.label}"| {e.target}' if e.trigger else f"  {e.source} -.->|{e.label}| {e.target}")
    lines.append("  classDef fn fill:#eef,stroke:#557")
    lines.append("  class " + ",".join(n.id for n in f.functions) + " fn")
    return "\n".join(lines)


# -- the console's drawing: three columns (what triggers, the functions, what is only written) --
_W, _H, _GAP, _COL = 210, 34, 14, 400


def layout(app: App) -> tuple[Flow, dict[str, tuple[float, float]]]:
    """Each node's (x, y): sources left, functions in the middle (next to their source), sinks right."""
    f = flow(app)
    sources = {e.source for e in f.edges if e.trigger}
    left = [n for n in f.resources if n.id in sources]
    right = [n for n in f.resources if n.id not in sources]
    pos: dict[str, tuple[float, float]] = {}
    for i, n in enumerate(left):
        pos[n.id] = (10, 10 + i * (_H + _GAP))
    trigger_of = {e.target: e.source for e in f.edges if e.trigger}
    order = {n.id: i for i, n in enumerate(left)}
    fns = sorted(f.functions, key=lambda n: order.get(trigger_of.get(n.id, ""), 0))
    for i, n in enumerate(fns):
        pos[n.id] = (10 + _COL, 10 + i * (_H + _GAP))
    writers: dict[str, list[float]] = {}
    for e in f.edges:
        if not e.trigger:
            writers.setdefault(e.target, []).append(pos[e.source][1])
    right.sort(key=lambda n: sum(writers.get(n.id, [0])) / len(writers.get(n.id, [0])))
    y = 10.0
    for n in right:  # near the average height of its writers, never overlapping the one above
        want = sum(writers.get(n.id, [0])) / len(writers.get(n.id, [0]))
        y = max(y, want)
        pos[n.id] = (10 + 2 * _COL, y)
        y += _H + _GAP
    return f, pos


def svg(app: App) -> str:
    """The flow as SVG; each node links to ``#events?function=NAME`` or ``#events?resource=NAME``."""
    f, pos = layout(app)
    width = 10 + 2 * _COL + _W + 10
    height = max((y for _, y in pos.values()), default=0) + _H + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="flow" viewBox="0 0 {width} {height:.0f}" '
           f'width="{width}" height="{height:.0f}" role="img" aria-label="event flow of app {escape(app.name)}">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>']
    for e in f.edges:
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        back = x2 < x1  # a function writing to something that triggers: curve back to the left column
        sx, sy = (x1 if back else x1 + _W), y1 + _H / 2
        tx, ty = (x2 + _W if back else x2), y2 + _H / 2
        bend = -120 if back else 0
        mid = (sx + tx) / 2
        d = (f"M {sx:.0f} {sy:.0f} C {sx + bend:.0f} {sy:.0f}, {tx - bend:.0f} {ty:.0f}, {tx:.0f} {ty:.0f}" if back
             else f"M {sx:.0f} {sy:.0f} C {mid:.0f} {sy:.0f}, {mid:.0f} {ty:.0f}, {tx:.0f} {ty:.0f}")
        cls = "edge trigger" if e.trigger else "edge write"
        out.append(f'<path class="{cls}" d="{d}" marker-end="url(#arrow)"><title>{escape(e.label)}</title></path>')
        if e.trigger:  # one trigger per function: its label sits just left of the function, never overlapping
            out.append(f'<text class="edge-label" x="{tx - 8:.0f}" y="{ty - 6:.0f}" text-anchor="end">'
                       f'{escape(e.label)}</text>')
    for n in [*f.resources, *f.functions]:
        x, y = pos[n.id]
        link = f"#events?function={n.name}" if n.kind == "function" else f"#events?resource={n.name}"
        out.append(f'<a href="{escape(link)}" class="node {escape(n.kind)}" data-node="{escape(n.name)}">'
                   f'<rect x="{x:.0f}" y="{y:.0f}" width="{_W}" height="{_H}" rx="{16 if n.kind == "function" else 4}"/>'
                   f'<text x="{x + _W / 2:.0f}" y="{y + _H / 2 + 5:.0f}" text-anchor="middle">{escape(n.label)}</text>'
                   f'<title>{escape(n.label)}{escape(" (" + n.detail + ")") if n.detail else ""}: recent events</title></a>')
    out.append("</svg>")
    return "\n".join(out)


__all__ = ["Edge", "Flow", "Node", "flow", "layout", "mermaid", "svg", "trigger_label"]
