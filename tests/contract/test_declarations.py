"""Checked at declaration, for the clouds an app targets (both by default): what a cloud would refuse
fails where it is written, with the message ``python -m portside.infra.plan`` gives; the permissions
a helper needs fail when the handler is loaded (the fake cloud and ``portside dev`` load every
handler up front). Before, these passed the declaration, the fake cloud and often the plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from portside import App, Backoff, CloudLimitError, DeclarationError
from portside.capabilities import table_markdown
from portside.declarations import Schedule
from portside.expressions import aws_expression

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("cron, message", [
    ("61 * * * *", "minute '61' is outside 0-59"),
    ("0 24 * * *", "hour '24' is outside 0-23"),
    ("0 0 0 * *", "day '0' is outside 1-31"),
    ("0 0 * 13 *", "month '13' is outside 1-12"),
    ("0 0 31 2 *", "never fires"),
    ("0 0 * * 8", "weekday '8' is outside 0-7"),
    ("*/0 * * * *", "empty range"),
    ("0 0 ? ? ?", "'?' may stand only for the day or the weekday"),
])
def test_a_cron_no_cloud_schedules_fails_at_declaration_whatever_the_clouds(cron: str, message: str) -> None:
    """Unix cron and EventBridge share the field ranges (Cloud Scheduler's cron-job-schedules page,
    EventBridge's eb-cron-expressions page). Before, minute 61 passed the declaration, the fake
    cloud and both plans, and failed only in `portside dev`."""
    for clouds in (None, "aws", "gcp", ()):
        with pytest.raises(DeclarationError, match=message):
            App("crons", clouds=clouds).schedule("nightly", cron=cron)


@pytest.mark.parametrize("cron, refused_on", [
    ("0 3 L * *", "gcp"), ("0 3 15W * *", "gcp"), ("0 3 ? * 3#2", "gcp"), ("0 3 1 * 1", "aws")])
def test_cron_syntax_one_cloud_lacks_fails_for_that_cloud_only(cron: str, refused_on: str) -> None:
    """Cloud Scheduler's unix-cron has no L, W, # or ?; EventBridge cannot set both day fields."""
    other = "aws" if refused_on == "gcp" else "gcp"
    App("crons", clouds=other).schedule("nightly", cron=cron)
    with pytest.raises(CloudLimitError, match=f"cannot be deployed to {refused_on}"):
        App("crons", clouds=refused_on).schedule("nightly", cron=cron)
    with pytest.raises(CloudLimitError, match=f"cannot be deployed to {refused_on}"):
        App("crons").schedule("nightly", cron=cron)


def test_a_rate_cloud_scheduler_cannot_express_fails_when_gcp_is_targeted() -> None:
    App("rates", clouds="aws").schedule("often", rate="7 minutes")
    with pytest.raises(CloudLimitError, match="rate='7 minutes' on gcp cannot be expressed as Cloud Scheduler cron"):
        App("rates").schedule("often", rate="7 minutes")


def test_aws_weekday_numbers_shift_but_not_the_nth_of_hash() -> None:
    """EventBridge weekdays are 1-7 from Sunday: 3#2 (the second Wednesday) becomes 4#2, not 4#3."""
    assert aws_expression(Schedule("monthly", cron="0 9 ? * 3#2")) == "cron(0 9 ? * 4#2 *)"
    assert aws_expression(Schedule("weekly", cron="0 9 * * 1-5")) == "cron(0 9 ? * 2-6 *)"


def plan_message(declare) -> str:
    """What the plan says of an app declared with ``declare`` (checked for no cloud at declaration)."""
    from portside.infra.checks import check
    from portside.infra.naming import Names

    app = App("limits", clouds=())
    declare(app)
    with pytest.raises(CloudLimitError) as plan:
        check(app, "gcp", Names("limits-dev", "gcp", "demo-project"), lambda _: None)
    return str(plan.value)


def test_a_cloud_limit_fails_at_declaration_with_the_plans_message() -> None:
    """A GCP-impossible max_attempts=3 ran on fake and local and failed only at `infra.plan --cloud gcp`."""
    def declare(app: App) -> None:
        app.function("tests.contract.client_handlers:work", trigger=app.queue("jobs").on_message(max_attempts=3))

    expected = plan_message(declare)
    with pytest.raises(CloudLimitError) as declared:
        declare(App("limits"))
    assert str(declared.value) == expected
    assert "max_attempts=3 on gcp is outside Pub/Sub's dead-letter max_delivery_attempts range 5-100" in expected
    app = App("limits", clouds="aws")
    declare(app)  # an AWS-only app may: SQS redrives after any count
    assert "work" in app.functions


@pytest.mark.parametrize("declare, message", [
    (lambda a: a.function("m.h:fan", trigger=a.queue("jobs", fifo=True).on_message(batch_size=50)),
     "batch_size=50 on aws exceeds the SQS FIFO limit of 10"),
    (lambda a: a.function("m.h:fan", trigger=a.queue("jobs").on_message(backoff=Backoff(10, 900))),
     "backoff maximum=900 s on gcp exceeds Pub/Sub's retry policy limit of 600 s"),
    (lambda a: a.function("m.h:fan", trigger=a.api("web").route("GET /"), timeout=1800),
     "timeout=1800 on aws exceeds Lambda's limit of 900 s"),
    (lambda a: a.function("m.h:fan", trigger=a.schedule("sched", rate="1 hour").on_tick(max_attempts=5)),
     "max_attempts=5 on aws exceeds asynchronous Lambda invocation's limit of 3 attempts"),
])
def test_every_limit_the_plan_checks_is_checked_at_declaration(declare, message: str) -> None:
    with pytest.raises(CloudLimitError, match=message):
        declare(App("limits"))
    assert "app 'limits' cannot be deployed" in str(pytest.raises(CloudLimitError, declare, App("limits")).value)


def test_a_refused_declaration_leaves_the_app_as_it_was() -> None:
    app = App("limits")
    jobs = app.queue("jobs")
    with pytest.raises(CloudLimitError):
        app.function("m.h:fan", trigger=jobs.on_message(max_attempts=3))
    assert app.functions == {}
    app.function("m.h:fan", trigger=jobs.on_message(max_attempts=5))  # the name is still free


def test_unknown_clouds_are_refused_by_name() -> None:
    with pytest.raises(DeclarationError, match="unknown cloud 'azure'; choose from \\['aws', 'gcp'\\]"):
        App("clouds", clouds=("aws", "azure"))
    assert App("clouds").clouds == ("aws", "gcp") and App("clouds", clouds="gcp").clouds == ("gcp",)


def idempotent_app() -> App:
    app = App("idem-decl")
    app.table("seen", ttl="expires_at")
    app.function("tests.contract.idempotent_handlers:count", trigger=app.queue("jobs").on_message(),
                 uses=[app.resources["seen"].writer])  # not .reader: the first duplicate would fail
    return app


def test_idempotent_without_its_tables_reader_fails_when_the_handler_loads(tmp_path: Path) -> None:
    """@idempotent on a table declared writer-only passed every happy-path test and dead-lettered
    the first duplicate. Now FakeCloud, `portside dev` (LocalCloud.start) and a deployed function's
    first load refuse it with one message."""
    from portside.fake import FakeCloud
    from portside.local import LocalCloud
    from portside.runtime import load_handler

    message = r"function 'count': @idempotent\(seen\) needs seen.reader in its uses="
    app = idempotent_app()
    with pytest.raises(DeclarationError, match=message):
        FakeCloud(app)
    local = LocalCloud(app, tmp_path / "data")
    try:
        with pytest.raises(DeclarationError, match=message):
            local.start(http=False)
    finally:
        local.stop()
    with pytest.raises(DeclarationError, match=message):
        load_handler(app.functions["count"])


@pytest.mark.parametrize("page", ["README.md", "docs/architecture.md"])
def test_the_capability_table_shown_is_the_one_the_code_checks(page: str) -> None:
    """README and docs/architecture.md show portside.capabilities' table as generated from it."""
    assert table_markdown() in (ROOT / page).read_text()
