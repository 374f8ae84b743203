"""Normalized events: immutable, typed, and loud about wrong input where it is made."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from portside import (
    Event,
    Headers,
    HttpRequest,
    HttpResponse,
    Message,
    ObjectCreated,
    PermanentError,
    RecordChanged,
    Tick,
    UnsupportedEvent,
)
from portside.events import parse_time

T = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_events_are_frozen_and_slotted() -> None:
    m = Message("m1", b"{}", "jobs", time=T)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.body = b"x"  # type: ignore[misc]
    assert not hasattr(m, "__dict__")
    with pytest.raises(TypeError):
        m.attributes["a"] = "b"  # type: ignore[index]


@pytest.mark.parametrize("build, message", [
    (lambda: Message("m1", {"a": 1}, "jobs"), "Message.body must be bytes (or str), got dict"),
    (lambda: Message("", b"", "jobs"), "Message.id must not be empty"),
    (lambda: Message("m1", b"", "jobs", {"n": 1}), "Message.attributes must map str to str, got 'n': int"),
    (lambda: Message("m1", b"", "jobs", attempt=0), "Message.attempt must be an int >= 1"),
    (lambda: Message("m1", b"", "jobs", time=datetime(2026, 1, 1)), "must be timezone-aware"),
    (lambda: ObjectCreated("e1", "uploads", 42), "ObjectCreated.key must be a str, got int"),  # type: ignore[arg-type]
    (lambda: ObjectCreated("e1", "uploads", "k", size=-1), "ObjectCreated.size must be a non-negative int"),
    (lambda: RecordChanged("r1", "orders", {"id": 1}, "changed"), "kind must be created, updated or deleted"),
    (lambda: RecordChanged("r1", "orders", {}, "created"), "RecordChanged.key must be a non-empty mapping"),
    (lambda: HttpRequest("r1", "GET", "/", query={"a": 1}), "query must map str to str values"),
    (lambda: HttpResponse(700), "status must be an int from 100 to 599"),
    (lambda: Event("Thing", "/src", extensions={"Bad-Name": "x"}), "lowercase letters and digits"),
    (lambda: Tick("t1", None), "Tick.schedule must be a str, got NoneType"),  # type: ignore[arg-type]
])
def test_wrong_types_and_missing_fields_fail_where_the_event_is_made(build, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((TypeError, ValueError), match=message.replace("(", r"\(").replace(")", r"\)")):
        build()


def test_missing_required_field_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'source'"):
        Message("m1", b"")  # type: ignore[call-arg]


def test_message_json_text_and_bad_json_is_permanent() -> None:
    m = Message("m1", '{"a": [1, 2]}', "jobs")
    assert m.json() == {"a": [1, 2]} and m.text() == '{"a": [1, 2]}'
    with pytest.raises(PermanentError, match="body of Message m2 is not valid JSON"):
        Message("m2", b"not json", "jobs").json()


def test_headers_are_case_insensitive_and_repeated_values_joined() -> None:
    h = Headers([("Accept", "a"), ("accept", "b"), ("X-Id", "1")])
    assert h["ACCEPT"] == "a, b" and "x-id" in h and h == {"accept": "a, b", "x-id": "1"}
    r = HttpRequest("r1", "post", "/x", {"Content-Type": "application/json"}, {"q": ["1", "2"]}, b'{"k": 1}')
    assert r.method == "POST" and r.headers["content-type"] == "application/json"
    assert r.query["q"] == ("1", "2") and r.arg("q") == "1" and r.json() == {"k": 1}


def test_cloudevent_round_trip_through_a_message() -> None:
    e = Event("OrderPlaced", "/orders", {"id": "o1"}, id="e1", time=T, subject="o1",
              extensions={"correlationid": "c1"})
    back = Message("m1", e.to_bytes(), "orders").event()
    assert back == e


def test_binary_mode_cloudevent_in_attributes() -> None:
    attrs = {"ce-specversion": "1.0", "ce-id": "e9", "ce-source": "/s", "ce-type": "T",
             "ce-time": "2026-03-01T12:00:00Z", "content-type": "application/json"}
    e = Message("m1", b'{"x": 1}', "t", attrs).event()
    assert (e.id, e.type, e.data, e.time) == ("e9", "T", {"x": 1}, T)


def test_message_that_is_not_a_cloudevent_is_unsupported() -> None:
    with pytest.raises(UnsupportedEvent, match=r"missing \['specversion', 'id', 'source', 'type'\]"):
        Message("m1", b'{"hello": 1}', "t").event()


@pytest.mark.parametrize("raw, expected", [
    ("2026-03-01T12:00:00Z", T),
    ("2026-03-01T12:00:00.123456789Z", T.replace(microsecond=123456)),
    ("1772366400000", T),
    (1772366400000, T),
])
def test_parse_time_accepts_what_clouds_send(raw, expected) -> None:  # type: ignore[no-untyped-def]
    assert parse_time(raw) == expected


def test_response_knows_text_from_binary() -> None:
    assert HttpResponse.json_body({"a": 1}, 201).is_text
    assert not HttpResponse(200, {"content-type": "image/png"}, b"\x89PNG").is_text
