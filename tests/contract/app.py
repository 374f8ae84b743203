"""The contract suite's app: one resource of each kind with a port, and a consumer for each queue
and topic, so a message is observed as the consumer receives it on each target."""

from __future__ import annotations

from collections.abc import Iterable

from portside import App


def contract_app(clouds: str | Iterable[str] | None = None) -> App:
    """Both clouds by default, as an app targets them; ``clouds`` narrows it (a documented difference)."""
    app = App("contract", clouds=clouds)
    app.bucket("files")
    jobs, ledger, news = app.queue("jobs"), app.queue("ledger", fifo=True), app.topic("news")
    app.table("notes")
    app.table("events", key="pk", sort_key="sk")
    app.function("tests.contract.app:take", name="take-jobs", trigger=jobs.on_message())
    app.function("tests.contract.app:take", name="take-ledger", trigger=ledger.on_message())
    app.function("tests.contract.app:take", name="take-news", trigger=news.on_event())
    return app


CONSUMERS = {"jobs": "take-jobs", "ledger": "take-ledger", "news": "take-news"}


def take(event: object) -> None:
    """The consumers only receive: the suite asserts on what arrived."""
