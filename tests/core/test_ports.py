"""PortCache: every target makes one port per resource, on first use, and refuses non-port kinds."""

from __future__ import annotations

from typing import Any

import pytest

from portside import App
from portside.contract import item_json
from portside.declarations import Bucket, Resource
from portside.ports import PortCache


class Made:
    def __init__(self, target: Any, resource: Resource) -> None:
        self.target, self.resource = target, resource


class Target(PortCache):
    name = "test"
    port_types = {Bucket: Made}


def test_one_port_per_resource_made_on_first_use() -> None:
    app = App("ports")
    uploads, thumbs = app.bucket("uploads"), app.bucket("thumbs")
    target = Target()
    first = target.port(uploads)
    assert isinstance(first.raw, Made) and first.raw.target is target and first.raw.resource is uploads
    assert target.port(uploads) is first  # reused: clients are costly
    assert target.port(thumbs) is not first


def test_a_resource_without_a_port_is_refused_by_name() -> None:
    app = App("ports")
    with pytest.raises(TypeError, match=r"Queue\('jobs'\) has no port"):
        Target().port(app.queue("jobs"))


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", float("nan"), object()])
def test_items_hold_only_json_types_and_the_error_names_the_table(value: object) -> None:
    assert item_json({"id": "a", "n": 1.5, "tags": ["x"], "meta": {"ok": None}}, "notes") == \
        '{"id":"a","n":1.5,"tags":["x"],"meta":{"ok":null}}'
    with pytest.raises(TypeError, match=r"table 'notes' items must hold only JSON types"):
        item_json({"id": "a", "bad": value}, "notes")
