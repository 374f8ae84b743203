"""Records (portside.record) behave as the frozen dataclasses they replaced: fields in order, equality,
hashing, repr, copying, pickling, pattern matching and ``replace``, without importing dataclasses."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import datetime, timezone
from types import MappingProxyType

import pytest

from portside import App, Backoff, Message, ObjectCreated, ObjectDeleted, Tick
from portside.delivery import Action, Decision, Outcome
from portside.record import fields, replace
from portside.runtime import Invocation
from portside.trace import TraceContext

T = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_fields_come_from_the_slots_base_class_first() -> None:
    assert fields(ObjectCreated) == ("id", "bucket", "key", "time", "size", "etag", "content_type", "version")
    assert fields(Message("m1", b"", "q")) == ("id", "body", "source", "attributes", "attempt", "ordering_key",
                                               "time")
    app = App("record-test")
    fn = app.function("tests.core.test_record:handler", trigger=app.topic("news").on_event(filter={"a": "b"}))
    assert fields(fn.trigger) == ("source", "max_attempts", "backoff", "batch_size", "dead_letter", "filter")


def test_repr_names_every_field_in_order() -> None:
    assert repr(Tick("t1", "nightly", T)) == (
        "Tick(id='t1', schedule='nightly', "
        "time=datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.timezone.utc))")
    assert repr(Backoff(1, 2)) == "Backoff(initial=1, maximum=2)"


def test_equal_fields_make_equal_records_of_the_same_class_only() -> None:
    a, b = ObjectCreated("e1", "uploads", "k.png", T), ObjectCreated("e1", "uploads", "k.png", T)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != ObjectDeleted("e1", "uploads", "k.png", T)  # same fields, another kind of event
    assert a != replace(a, size=3)
    assert (a == ("e1", "uploads")) is False


def test_replace_keeps_the_other_fields_and_checks_again() -> None:
    m = Message("m1", b"{}", "jobs", {"a": "b"}, time=T)
    again = replace(m, attempt=3)
    assert again.attempt == 3 and again.time == T and again.attributes == {"a": "b"} and m.attempt == 1
    with pytest.raises(TypeError, match="Message.attempt must be an int >= 1"):
        replace(m, attempt=0)
    with pytest.raises(TypeError, match="Message has no field colour"):
        replace(m, colour="red")


def test_frozen_like_a_frozen_dataclass() -> None:
    t = TraceContext("a" * 32, "b" * 16)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'sampled'"):
        t.sampled = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'span_id'"):
        del t.span_id  # type: ignore[misc]


def test_copy_and_pickle_round_trip() -> None:
    tick = Tick("t1", "nightly", T)
    assert pickle.loads(pickle.dumps(tick)) == tick
    assert pickle.loads(pickle.dumps(Decision(Action.RETRY, 2.5))) == Decision(Action.RETRY, 2.5)
    m = Message("m1", b"{}", "jobs", {"a": "b"}, time=T)
    assert copy.copy(m) == m and copy.copy(m) is not m


def test_pattern_matching_by_position() -> None:
    match Tick("t1", "nightly", T):
        case Tick(ident, schedule):
            assert (ident, schedule) == ("t1", "nightly")
        case _:
            pytest.fail("a Tick did not match Tick(id, schedule)")


def test_functions_are_mutable_and_compared_by_identity() -> None:
    app = App("record-fn")
    q, out = app.queue("jobs"), app.bucket("out")
    fn = app.function("tests.core.test_record:handler", trigger=q.on_message(), uses=[out.writer])
    twin = replace(fn)
    assert twin == twin and twin != fn and len({fn, twin}) == 2
    assert repr(fn).startswith("Function(name='handler', handler='tests.core.test_record:handler', trigger=")
    assert "_grants" not in repr(fn) and twin.allows(out, "write") and not twin.allows(out, "read")
    fn.timeout = 60
    assert fn.timeout == 60


def test_an_invocation_changes_its_trace_and_is_unhashable() -> None:
    app = App("record-inv")
    fn = app.function("tests.core.test_record:handler", trigger=app.queue("jobs").on_message())
    m = Message("m1", b"", "jobs")
    inv = Invocation(fn, None, m, 1, TraceContext("a" * 32, "b" * 16), "c1")  # type: ignore[arg-type]
    inv.trace = TraceContext("c" * 32, "d" * 16)
    assert inv.trace.trace_id == "c" * 32
    with pytest.raises(TypeError, match="unhashable"):
        hash(inv)
    assert inv == Invocation(fn, None, m, 1, TraceContext("c" * 32, "d" * 16), "c1")  # type: ignore[arg-type]


def test_a_deferred_message_is_a_message_like_any_other() -> None:
    """deferred_message reads source, attributes and time on first use, once; equality, repr, copying
    (and pickling's state) and replace see the fields as if they had been given."""
    from portside.events import deferred_message

    reads = []

    def fill(source: str) -> tuple[object, ...]:
        reads.append(source)
        return source, MappingProxyType({"a": "b"}), T

    def deferred() -> Message:
        return deferred_message("m1", b"{}", 2, None, (fill, "jobs"))

    given = Message("m1", b"{}", "jobs", {"a": "b"}, 2, None, T)
    m = deferred()
    assert type(m) is Message and isinstance(m, Message) and fields(m) == fields(given) and not reads
    assert m.body == b"{}" and m.attempt == 2 and m.json() == {} and not reads  # the body is at hand
    assert m.source == "jobs" and m.time == T and m.attributes == {"a": "b"} and reads == ["jobs"]
    assert deferred() == given and given == deferred()
    assert repr(deferred()) == repr(given)
    assert copy.copy(deferred()) == given and deferred().__getstate__() == given.__getstate__()
    assert replace(deferred(), attempt=3) == replace(given, attempt=3)
    match deferred():
        case Message(ident, body, source):
            assert (ident, body, source) == ("m1", b"{}", "jobs")
    with pytest.raises(AttributeError, match="'Message' object has no attribute 'colour'"):
        deferred().colour  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(dataclasses.FrozenInstanceError):
        deferred().source = "other"  # type: ignore[misc]


def test_an_outcome_defaults_like_before() -> None:
    o = Outcome(Message("m1", b"", "q"), 2)
    assert (o.result, o.error, o.seconds, o.ok) == (None, None, 0.0, True)


def handler(message: Message) -> None:
    """Named by the declarations above; never run."""
