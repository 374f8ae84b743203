"""A malformed declaration fails where it is written, saying exactly what is wrong."""

from __future__ import annotations

import pytest

from portside import App, Backoff, DeclarationError
from portside.declarations import QueueTrigger
from portside.runtime import load_handler


@pytest.fixture
def app() -> App:
    return App("decl-test")


def test_unknown_resource_in_uses(app: App) -> None:
    jobs = app.queue("jobs")
    stranger = App("other").bucket("elsewhere")
    with pytest.raises(DeclarationError, match=r"unknown resource Bucket\('elsewhere'\); declare it on app 'decl-test'"):
        app.function("m:handle", trigger=jobs.on_message(), uses=[stranger.writer])


def test_trigger_on_a_resource_of_the_wrong_kind(app: App) -> None:
    bucket = app.bucket("files")
    with pytest.raises(DeclarationError, match=r"QueueTrigger needs a queue, got Bucket\('files'\)"):
        QueueTrigger(bucket)  # type: ignore[arg-type]


@pytest.mark.parametrize("options, message", [
    ({"max_attempts": 0}, "max_attempts must be an int >= 1, got 0"),
    ({"batch_size": 0}, "batch_size must be an int from 1 to 10000, got 0"),
    ({"backoff": Backoff}, "backoff must be a Backoff"),
])
def test_impossible_delivery_options(app: App, options, message) -> None:  # type: ignore[no-untyped-def]
    jobs = app.queue("jobs")
    with pytest.raises(DeclarationError, match=message):
        jobs.on_message(**options)


def test_impossible_function_options(app: App) -> None:
    jobs = app.queue("jobs")
    with pytest.raises(DeclarationError, match="timeout must be whole seconds from 1 to 3600, got 0"):
        app.function("m:handle", trigger=jobs.on_message(), timeout=0)
    with pytest.raises(DeclarationError, match="memory must be MB from 128 to 32768"):
        app.function("m:handle", trigger=jobs.on_message(), memory=64)


def test_backoff_and_schedule_and_route_shapes(app: App) -> None:
    with pytest.raises(DeclarationError, match="0 < initial <= maximum"):
        Backoff(10, 5)
    with pytest.raises(DeclarationError, match="needs exactly one of cron= or rate="):
        app.schedule("nightly")
    with pytest.raises(DeclarationError, match="cron must have 5 fields"):
        app.schedule("nightly", cron="0 3 * *")
    with pytest.raises(DeclarationError, match="rate must be like '5 minutes'"):
        app.schedule("often", rate="5 fortnights")
    api = app.api("web")
    with pytest.raises(DeclarationError, match="route must look like 'POST /items/{id}'"):
        api.route("FETCH /x")


def test_names_every_cloud_accepts(app: App) -> None:
    with pytest.raises(DeclarationError, match="bucket name 'Uploads_1' is invalid"):
        app.bucket("Uploads_1")
    app.bucket("files")
    with pytest.raises(DeclarationError, match="the name is already used by Bucket"):
        app.queue("files")


def test_handler_path_and_access_names(app: App) -> None:
    jobs = app.queue("jobs")
    with pytest.raises(DeclarationError, match="handler must be 'package.module:function'"):
        app.function("not a path", trigger=jobs.on_message())
    with pytest.raises(DeclarationError, match=r"queue 'jobs' has no access 'write'; choose from \['send'\]"):
        jobs.use("write")
    with pytest.raises(DeclarationError, match="uses must be resource accesses"):
        app.function("m:handle", trigger=jobs.on_message(), uses=["jobs"])  # type: ignore[list-item]


def test_a_queue_has_one_consumer_and_a_route_one_handler(app: App) -> None:
    jobs, api = app.queue("jobs"), app.api("web")
    app.function("m:first", trigger=jobs.on_message())
    with pytest.raises(DeclarationError, match="queue 'jobs' already has consumer 'first'"):
        app.function("m:second", trigger=jobs.on_message())
    app.function("m:get_order", trigger=api.route("GET /orders/{id}"))
    with pytest.raises(DeclarationError, match="route GET /orders/{id} is already served by 'get-order'"):
        app.function("m:other", trigger=api.route("GET /orders/{id}"))


def test_handler_module_that_does_not_import_is_named(app: App) -> None:
    jobs = app.queue("jobs")
    fn = app.function("no_such_module_xyz:handle", trigger=jobs.on_message())
    with pytest.raises(DeclarationError, match="cannot import handler module 'no_such_module_xyz'"):
        load_handler(fn)


def test_topic_filter_values(app: App) -> None:
    news = app.topic("news")
    assert news.on_event(types=["A", "B"], filter={"tier": "gold"}).filter == {"ce-type": ("A", "B"), "tier": ("gold",)}
    with pytest.raises(DeclarationError, match="must map attribute names to a str or a non-empty list"):
        news.on_event(filter={"tier": []})


def test_table_keys(app: App) -> None:
    t = app.table("events", key="order_id", sort_key="seq")
    assert t.key_of({"order_id": "o1", "seq": 3, "x": 1}) == {"order_id": "o1", "seq": 3}
    with pytest.raises(ValueError, match="has a sort key: pass a dict"):
        t.key_of("o1")
    with pytest.raises(DeclarationError, match="key must be an identifier"):
        app.table("bad", key="not-ok")
