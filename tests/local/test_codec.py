"""The local codec: a stored event reads back equal, whatever the user put in its attributes or data."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from portside import Event, HttpRequest, Message, ObjectCreated, RecordChanged, Tick, UnsupportedEvent
from portside.local import codec

T = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)


@pytest.mark.parametrize("attributes", [{"$b": "aGk="}, {"$t": "2026-01-01T00:00:00"}, {"$j": "x"}, {"v": "1"}])
def test_a_message_whose_only_attribute_looks_like_an_encoding_mark_reads_back_as_sent(attributes: dict) -> None:
    message = Message("m1", b"\x00body", "jobs", attributes, 3, "k", T)
    assert codec.load(codec.dump(message)) == message


def test_user_data_that_looks_like_an_encoding_mark_reads_back_as_sent() -> None:
    event = Event("t", "s", {"$b": "aGk="}, id="e1", time=T, extensions={"tx": "now"})
    assert codec.load(codec.dump(event)) == event
    assert codec.load(codec.dump(Event("t", "s", b"\x01raw", id="e2", time=T))).data == b"\x01raw"
    change = RecordChanged("r1", "items", {"$b": "x"}, "updated", {"$t": "a"}, {"$j": [1]}, T)
    assert codec.load(codec.dump(change)) == change


def test_every_event_kind_round_trips() -> None:
    events = [HttpRequest("h1", "POST", "/x", {"A": "b"}, {"q": ("1", "2")}, b"{}", {"id": "7"}, {"c": "d"},
                          "127.0.0.1", "POST /x", T),
              ObjectCreated("o1", "b", "k/$b", T, 3, "etag", "text/plain"), Tick("t1", "s", T)]
    for event in events:
        back = codec.load(codec.dump(event))
        assert back == event and type(back) is type(event)


def test_rows_written_by_the_previous_format_still_load() -> None:
    old = ('{"kind":"Message","id":"m1","body":{"$b":"aGk="},"source":"jobs","attributes":{"a":"b"},'
           '"attempt":1,"ordering_key":null,"time":{"$t":"2026-01-02T03:04:05.678000+00:00"}}')
    assert codec.load(old) == Message("m1", b"hi", "jobs", {"a": "b"}, 1, None, T)


def test_an_unreadable_row_is_an_unsupported_event_naming_it() -> None:
    with pytest.raises(UnsupportedEvent, match="stored event is not readable"):
        codec.load('{"$kind":"Message","$v":2,"body":{"$x":1}}')


@pytest.mark.parametrize("message", [
    Message("m1", b"\x00\xffbody", "jobs", {"traceparent": "00-ab-cd-01", "é\"\\\n": "\u2028 ☃ \x7f"}, 3, "k é", T),
    Message("m2", b"", "q", {}, 1, None, datetime(2026, 1, 2, tzinfo=timezone.utc)),
    Message("\"m3\"", b"{}", "jobs", {"a": ""}, 12, None, datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(
        __import__("datetime").timedelta(hours=-3, minutes=-30)))),
])
def test_a_message_is_written_as_the_generic_encoder_writes_it_and_read_back_equal(message: Message) -> None:
    """dump and load read and write a Message in line (every send and every delivery): the text is the
    one the generic path makes, byte for byte, and it reads back equal."""
    text = codec.dump(message)
    fields = {name: getattr(message, name) for name in ("id", "body", "source", "attributes", "attempt",
                                                         "ordering_key", "time")}
    generic = codec._encode({"$kind": "Message", "$v": codec.VERSION,
                             **{name: value if value.__class__ in codec._PLAIN else codec._enc(value)
                                for name, value in fields.items()}})
    assert text == generic
    back = codec.load(text)
    assert back == message and type(back) is Message and type(back.attributes) is type(message.attributes)


@pytest.mark.parametrize("field, value, error", [
    ("id", 7, "Message.id must be a str"), ("id", "", "Message.id must not be empty"),
    ("source", None, "Message.source must be a str"), ("attempt", 0, "Message.attempt must be an int >= 1"),
    ("attempt", True, "Message.attempt must be an int >= 1"), ("ordering_key", 5, "Message.ordering_key"),
    ("attributes", {"$j": {"a": 1}}, "Message.attributes must map str to str"),
    ("time", {"$t": "2026-01-02T03:04:05"}, "Message.time must be timezone-aware"),
])
def test_a_stored_message_with_a_wrong_field_is_refused_naming_it(field: str, value: object, error: str) -> None:
    import json

    row = json.loads(codec.dump(Message("m1", b"hi", "jobs", {"a": "b"}, 1, None, T)))
    row[field] = value
    with pytest.raises(UnsupportedEvent, match=f"stored event is not readable.*{error}"):
        codec.load(json.dumps(row))


@pytest.mark.parametrize("message", [
    Message("m1", b'{"id": 1}', "jobs", {}, 1, None, T),
    Message("m2", b"\x00\xff", 'q"uote', {',"ordering_key":': ',"attempt":7,"ordering_key":"x"'}, 4, 'k,"time":"z"', T),
    Message("m3", b"x", "jobs", {"a": "b"}, 2, 'g\\"', T),
    Message('id"\\x', b"x", "jobs", {}, 1, None, T),  # not the shape the fast reader takes: read whole
])
def test_a_message_read_in_line_equals_the_one_read_whole(message: Message) -> None:
    """``load`` reads a Message's id, body, attempt and ordering key out of the text ``dump`` wrote and
    the rest on first use: whatever the attributes and keys hold, the two reads agree field by field."""
    text = codec.dump(message)
    fast, whole = codec.load(text), codec.load(text, whole=True)
    assert (fast.id, fast.body, fast.attempt, fast.ordering_key) == (message.id, message.body, message.attempt,
                                                                    message.ordering_key)
    assert (fast.source, dict(fast.attributes), fast.time) == (message.source, dict(message.attributes), message.time)
    assert fast == whole == message
