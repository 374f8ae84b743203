"""An app for the test client's own suite: each act and misbehaviour has a handler to show it
(tests/contract/client_handlers.py)."""

from __future__ import annotations

from portside import App, Backoff

app = App("client-test")
inbox = app.bucket("inbox")
jobs = app.queue("jobs")
ledger = app.queue("ledger", fifo=True)
news = app.topic("news")
log = app.table("log")
groups = app.table("groups", key="group", sort_key="n")
daily = app.schedule("daily", cron="0 3 * * *")
web = app.api("web")

FAST = Backoff(0.05, 0.1)  # the local runtime waits for real
copy = app.function("tests.contract.client_handlers:on_upload", trigger=inbox.on_created(), uses=[log.writer])
work = app.function("tests.contract.client_handlers:work", trigger=jobs.on_message(backoff=FAST),
                    uses=[log.writer, news.publisher])
record = app.function("tests.contract.client_handlers:record", trigger=ledger.on_message(backoff=FAST),
                      uses=[groups.read_write])
audit = app.function("tests.contract.client_handlers:audit", trigger=news.on_event(), uses=[log.writer])
nightly = app.function("tests.contract.client_handlers:nightly", trigger=daily.on_tick(), uses=[log.writer])
hello = app.function("tests.contract.client_handlers:hello", trigger=web.route("GET /hello/{name}"))
