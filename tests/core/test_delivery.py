"""The delivery rules (docs/architecture.md, "Delivery"), the one piece of code every target calls."""

from __future__ import annotations

import pytest

from portside import App, Backoff, HttpRequest, HttpResponse, Message, PermanentError
from portside.delivery import (
    Action,
    DeadLetter,
    dead_letter_attributes,
    decide,
    http_response,
    invoke,
    invoke_batch,
    to_response,
)

app = App("delivery-test", clouds="aws")  # max_attempts=3 below is outside Pub/Sub's 5-100
jobs = app.queue("jobs")
web = app.api("web")
quiet = app.queue("quiet")
process_fn = app.function("tests.core.test_delivery:handle", trigger=jobs.on_message(max_attempts=3, backoff=Backoff(2, 5)))
serve_fn = app.function("tests.core.test_delivery:serve", trigger=web.route("POST /x"))
lossy_fn = app.function("tests.core.test_delivery:handle", name="lossy", trigger=quiet.on_message(dead_letter=False))


class NullTarget:
    name = "null"

    def port(self, resource):  # type: ignore[no-untyped-def]
        raise AssertionError("no port expected")


def handle(message: Message) -> str:
    kind = message.text()
    if kind == "boom":
        raise RuntimeError("transient")
    if kind == "poison":
        raise PermanentError("never works")
    return f"done {message.attempt}"


def serve(request: HttpRequest) -> object:
    return request.json()


def msg(body: str, attempt: int = 1) -> Message:
    return Message(f"id-{body}-{attempt}", body, "jobs", attempt=attempt)


def test_ok_acks() -> None:
    outcome = invoke(process_fn, NullTarget(), msg("fine"))
    assert outcome.ok and outcome.result == "done 1"
    assert decide(process_fn, outcome).action is Action.ACK


def test_retryable_error_retries_with_backoff_until_max_attempts() -> None:
    decisions = [decide(process_fn, invoke(process_fn, NullTarget(), msg("boom", n))) for n in (1, 2, 3)]
    assert [(d.action, d.delay) for d in decisions] == [
        (Action.RETRY, 2), (Action.RETRY, 4), (Action.DEAD_LETTER, 0)]


def test_permanent_error_skips_retries() -> None:
    outcome = invoke(process_fn, NullTarget(), msg("poison"))
    assert outcome.permanent
    assert decide(process_fn, outcome).action is Action.DEAD_LETTER
    dead = DeadLetter.of(process_fn, outcome)
    assert (dead.error_type, dead.error, dead.attempts) == ("PermanentError", "never works", 1)
    attrs = dead_letter_attributes(process_fn, outcome)
    assert attrs["portside-error-type"] == "PermanentError" and attrs["portside-function"] == "handle"
    assert attrs["portside-event-id"] == "id-poison-1" and all(isinstance(v, str) for v in attrs.values())


def test_dead_letter_off_drops_loudly(caplog: pytest.LogCaptureFixture) -> None:
    outcome = invoke(lossy_fn, NullTarget(), msg("poison"))
    assert decide(lossy_fn, outcome).action is Action.DROP
    assert "failed for good and its trigger has dead_letter=False" in caplog.text


def test_batch_isolates_failures() -> None:
    outcomes = invoke_batch(process_fn, NullTarget(), [msg("a"), msg("boom"), msg("b"), msg("poison")])
    assert [o.ok for o in outcomes] == [True, False, True, False]
    assert [decide(process_fn, o).action for o in outcomes] == [Action.ACK, Action.RETRY, Action.ACK, Action.DEAD_LETTER]


@pytest.mark.parametrize("result, status, body", [
    (None, 204, b""),
    ("hi", 200, b"hi"),
    (b"\x00\x01", 200, b"\x00\x01"),
    ({"a": 1}, 200, b'{"a":1}'),
    ([1], 200, b"[1]"),
    (HttpResponse(201, {}, b"made"), 201, b"made"),
])
def test_handler_results_become_responses(result, status, body) -> None:  # type: ignore[no-untyped-def]
    response = to_response(result)
    assert (response.status, response.body) == (status, body)


def test_unsupported_return_type_is_named() -> None:
    with pytest.raises(TypeError, match="HTTP handler returned set; return an HttpResponse"):
        to_response({1})


def test_http_errors_do_not_leak_internals() -> None:
    bad = HttpRequest("r1", "POST", "/x", body=b"not json")
    response = http_response(invoke(serve_fn, NullTarget(), bad))
    assert response.status == 400 and b"not valid JSON" in response.body
    good = http_response(invoke(serve_fn, NullTarget(), HttpRequest("r2", "POST", "/x", body=b'{"k": 1}')))
    assert (good.status, good.json()) == (200, {"k": 1})


def test_the_handler_invoked_is_the_one_the_function_names_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """invoke remembers a handler it found (every event asks), but a patched module attribute, a
    reloaded module or a function pointed elsewhere is seen at the next event."""
    import sys
    import types

    assert invoke(process_fn, NullTarget(), msg("fine")).result == "done 1"
    monkeypatch.setattr(sys.modules[__name__], "handle", lambda message: "patched")
    assert invoke(process_fn, NullTarget(), msg("fine")).result == "patched"
    reloaded = types.ModuleType(__name__)
    reloaded.handle = lambda message: "reloaded"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, __name__, reloaded)
    assert invoke(process_fn, NullTarget(), msg("fine")).result == "reloaded"
    reloaded.serve = lambda message: "served"  # type: ignore[attr-defined]
    monkeypatch.setattr(process_fn, "handler", f"{__name__}:serve")
    assert invoke(process_fn, NullTarget(), msg("fine")).result == "served"
