"""A seeded mutator of JSON payloads, for the adapters' fuzz tests (tests/aws, tests/gcp).

Each case takes a real payload and applies one to three mutations at random places: a value of
the wrong type or an extreme one (huge and negative numbers, "²" and other non-ASCII digits,
lone surrogates, NUL, invalid base64, nesting 1,000 deep), a key removed, a list emptied or
repeated, a string cut short; and inside string fields that hold JSON themselves (an SQS body
carrying an S3 notification or an SNS envelope) the same mutations one level down. The same seed
gives the same cases, so a failure names a case that can be replayed.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

DEEP = 1000  # past Python's recursion limit: json.loads of such text raises RecursionError
DEEP_OBJECT = 900  # an already parsed value this deep still exists (Lambda parsed it), walks may not


def deep_list(depth: int = DEEP_OBJECT) -> Any:
    out: Any = []
    for _ in range(depth):
        out = [out]
    return out


def deep_json(inner: str = '"aws:s3"', depth: int = DEEP) -> str:
    """JSON text nested ``depth`` deep that still looks like an S3 notification to a sniffer."""
    return '{"Records": [{"eventSource": "aws:s3", "s3": ' + '{"a": ' * depth + inner + "}" * depth + "}]}"


WEIRD: tuple[Any, ...] = (
    None, True, 0, -1, 1.5, 2**64, -(2**63), 1e308, -1e308, 10**400, "", "x", "²", "٣", "1e400",
    "99999999999999999999", "-5", "0", "\x00", "\ud800", "!!notbase64", "é" * 3, "9" * 5000, [], {}, [None],
    {"a": None}, {"": ""}, ["x", 1], "2026-13-45T99:99:99Z", "+999999-01-01T00:00:00Z", "%zz%", "a\nb",
)


def nodes(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every path into ``value`` (the root is ``()``), down to 40 levels."""
    yield path
    if len(path) >= 40:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from nodes(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from nodes(v, path + (i,))


def _get(value: Any, path: tuple) -> Any:
    for step in path:
        value = value[step]
    return value


def _set(root: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    _get(root, path[:-1])[path[-1]] = new
    return root


def _mutate_once(root: Any, rng: random.Random) -> Any:
    path = rng.choice(list(nodes(root)))
    node = _get(root, path)
    roll = rng.random()
    if isinstance(node, str) and node[:1] in "{[" and roll < 0.3:
        try:  # a string that carries JSON: mutate inside it, one level down
            inner = json.loads(node)
        except (ValueError, RecursionError):
            inner = None
        if inner is not None:
            try:
                text = json.dumps(_mutate_once(inner, rng))
            except (RecursionError, ValueError):
                text = deep_json()
            return _set(root, path, text)
    if isinstance(node, str) and roll < 0.45:
        choice = rng.randrange(4)
        new = (node[: rng.randrange(len(node) + 1)], node[::-1], deep_json(), node + "%" + node)[choice]
        return _set(root, path, new)
    if path and roll < 0.55:
        parent = _get(root, path[:-1])
        if isinstance(parent, dict):
            del parent[path[-1]]
            return root
    if isinstance(node, list) and roll < 0.65:
        return _set(root, path, [] if rng.random() < 0.5 or not node else node + node[:1] + [rng.choice(WEIRD)])
    if roll < 0.7:
        return _set(root, path, deep_list())
    return _set(root, path, copy.deepcopy(rng.choice(WEIRD)))


def mutants(seed_payloads: dict[str, Any], cases: int, seed: int = 11) -> Iterator[tuple[str, int, Any]]:
    """``cases`` mutants, spread evenly over the named payloads: (name, case number, payload)."""
    rng = random.Random(seed)
    names = sorted(seed_payloads)
    for n in range(cases):
        name = names[n % len(names)]
        value = copy.deepcopy(seed_payloads[name])
        for _ in range(rng.randint(1, 3)):
            value = _mutate_once(value, rng)
        yield name, n, value


def check_mapping(to_events: Callable[[], list[Any]]) -> None:
    """The contract of an adapter's ``to_events`` on any input: normalized events, whose fields all
    read (a message may read some on first use) and whose ``.json()`` returns or raises
    ``PermanentError``, or ``UnsupportedEvent`` saying what is wrong; nothing else."""
    from portside import PermanentError, UnsupportedEvent
    from portside.events import EVENT_TYPES

    try:
        events = to_events()
    except UnsupportedEvent as e:
        assert str(e)
        return
    assert all(isinstance(e, EVENT_TYPES) for e in events), events
    for event in events:
        repr(event)  # reads every field
        if hasattr(event, "json"):
            try:
                event.json()
            except PermanentError:
                pass
