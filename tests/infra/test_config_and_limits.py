"""Bad stack config and declarations a cloud cannot honour fail before any resource exists,
with messages that name the option, the value, the cloud and its limit (or the command to run)."""

from __future__ import annotations

import pytest

from portside import App, Backoff, DeclarationError
from portside.infra.checks import CloudLimitError
from portside.infra.mocks import RecordingMocks, run
from portside.infra.settings import ConfigError
from tests.infra.apps import full_app


def fails(cloud: str, app: App, error: type[Exception], match: str, **kw) -> None:
    mocks = RecordingMocks()
    with pytest.raises(error, match=match):
        run(cloud, app, mocks=mocks, **kw)
    assert mocks.resources == [], "nothing may be registered before the error"


@pytest.mark.parametrize("value, said", [("", "is not set"), ("azure", "is 'azure'"), ("AWS", "is 'AWS'")])
def test_bad_cloud_names_the_choices_and_the_command(value: str, said: str) -> None:
    fails("aws", full_app(), ConfigError,
          rf"app:cloud {said}; it must be one of aws, gcp\. Set it with: pulumi config set app:cloud aws",
          config={"app:cloud": value})


def test_gcp_needs_a_project() -> None:
    fails("gcp", full_app(), ConfigError, r"pulumi config set gcp:project my-project-id", config={"gcp:project": ""})


def test_bad_overrides_json() -> None:
    fails("aws", full_app(), ConfigError, r"app:overrides must be a JSON object", config={"app:overrides": "[1"})
    fails("aws", full_app(), ConfigError, r"app:overrides must be a JSON object", config={"app:overrides": "[1]"})


def test_aws_layers_reach_every_lambda_and_bad_ones_fail() -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:layer:pillow:3"
    result = run("aws", full_app(), config={"app:awsLayers": f'["{arn}"]'})
    functions = result.of_type("aws:lambda/function:Function")
    assert functions and all(f.inputs["layers"] == [arn] for f in functions)
    fails("aws", full_app(), ConfigError, r"app:awsLayers must be a JSON list of Lambda layer ARNs",
          config={"app:awsLayers": '["pillow"]'})


def test_bad_log_retention_names_the_accepted_values() -> None:
    fails("aws", full_app(), ConfigError, r"app:logRetentionDays is 45; CloudWatch Logs accepts one of \(1, 3, 5",
          config={"app:logRetentionDays": "45"})


def small(configure) -> App:
    app = App("lim", clouds=())  # targets no cloud, so the plan's own checks are what these tests see
    configure(app)
    return app


CASES = [
    ("aws", lambda a: a.function("handlers.x:fan", trigger=a.queue("jobs", fifo=True).on_message(batch_size=50)),
     r"batch_size=50 on aws exceeds the SQS FIFO limit of 10"),
    ("gcp", lambda a: a.function("handlers.x:fan", trigger=a.queue("jobs").on_message(max_attempts=3)),
     r"max_attempts=3 on gcp is outside Pub/Sub's dead-letter max_delivery_attempts range 5-100"),
    ("gcp", lambda a: a.function("handlers.x:fan", trigger=a.topic("news").on_event(max_attempts=101)),
     r"max_attempts=101 on gcp is outside Pub/Sub's dead-letter max_delivery_attempts range 5-100"),
    ("gcp", lambda a: a.function("handlers.x:fan", trigger=a.queue("jobs").on_message(backoff=Backoff(10, 900))),
     r"backoff maximum=900 s on gcp exceeds Pub/Sub's retry policy limit of 600 s"),
    ("gcp", lambda a: a.function("handlers.x:fan", trigger=a.queue("jobs").on_message(), timeout=900),
     r"timeout=900 on gcp exceeds Cloud Functions' limit of 540 s for event-driven functions"),
    ("aws", lambda a: a.function("handlers.x:fan", trigger=a.api("web").route("GET /"), timeout=1800),
     r"timeout=1800 on aws exceeds Lambda's limit of 900 s"),
    ("aws", lambda a: a.function("handlers.x:fan", trigger=a.schedule("sched", rate="1 hour").on_tick(max_attempts=5)),
     r"max_attempts=5 on aws exceeds asynchronous Lambda invocation's limit of 3 attempts"),
    ("gcp", lambda a: a.function("handlers.x:fan", trigger=a.schedule("sched", rate="1 hour").on_tick(max_attempts=7)),
     r"max_attempts=7 on gcp exceeds Cloud Scheduler's limit of 6 attempts"),
    ("gcp", lambda a: a.function("handlers.x:fan", trigger=a.schedule("sched", rate="7 minutes").on_tick()),
     r"rate='7 minutes' on gcp cannot be expressed as Cloud Scheduler cron"),
    ("aws", lambda a: a.function("handlers.x:fan", trigger=a.schedule("sched", cron="0 3 1 * 1").on_tick()),
     r"cron='0 3 1 \* 1' on aws sets both day-of-month and day-of-week"),
    ("aws", lambda a: (a.bucket("ups"), a.function("handlers.x:fan", trigger=a.resources["ups"].on_created(prefix="a/")),
                       a.function("handlers.x:gap", trigger=a.resources["ups"].on_created(prefix="a/b", suffix=".png"))),
     r"functions 'fan' and 'gap' both take object-created events with overlapping filters .* S3 rejects"),
    ("gcp", lambda a: a.function("handlers.x:fan",
                                 trigger=a.topic("news").on_event(types=[f"com.example.type{i}" for i in range(9)])),
     r"on gcp is \d+ bytes as a Pub/Sub filter; the limit is 256 bytes"),
]


@pytest.mark.parametrize("cloud, declare, message", CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_declarations_the_cloud_cannot_honour(cloud: str, declare, message: str) -> None:
    fails(cloud, small(declare), CloudLimitError, rf"cannot be deployed to {cloud}:[\s\S]*{message}")


@pytest.mark.parametrize("cloud, kind", [("aws", "Lambda function name"),
                                         ("gcp", r"Cloud Functions \(Cloud Run service\) name")])
def test_names_the_cloud_rejects(cloud: str, kind: str) -> None:
    app = small(lambda a: a.function("handlers.x:fan", name="a-rather-long-function-name-of-40-chars",
                                     trigger=a.queue("jobs").on_message()))
    fails(cloud, app, CloudLimitError, rf"characters; {cloud} allows at most \d+ for a {kind}",
          config={"app:prefix": "a-long-organisation-prefix-for-stacks"})


def test_every_problem_is_listed_at_once() -> None:
    def declare(a: App) -> None:
        a.function("handlers.x:fan", trigger=a.queue("jobs").on_message(max_attempts=2))
        a.function("handlers.x:gap", trigger=a.topic("news").on_event(max_attempts=200))
    with pytest.raises(CloudLimitError) as info:
        run("gcp", small(declare))
    assert "max_attempts=2" in str(info.value) and "max_attempts=200" in str(info.value)


def test_gcp_clamps_batch_size_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    result = run("gcp", small(lambda a: a.function("handlers.x:fan", trigger=a.queue("jobs").on_message(batch_size=10))))
    assert result.of_type("gcp:pubsub/subscription:Subscription")
    assert "batch_size=10 on gcp: Pub/Sub push delivers one message per request" in caplog.text


def test_overrides_reach_the_underlying_resource() -> None:
    result = run("aws", full_app(), overrides={"jobs": {"message_retention_seconds": 1209600},
                                               "seen": {"point_in_time_recovery": {"enabled": False}}})
    assert result.named("jobs", "aws:sqs/queue:Queue").inputs["messageRetentionSeconds"] == 1209600
    assert result.named("jobs", "aws:sqs/queue:Queue").inputs["sqsManagedSseEnabled"] is True  # the rest stays
    assert result.named("seen", "aws:dynamodb/table:Table").inputs["pointInTimeRecovery"] == {"enabled": False}


def test_overrides_from_stack_config() -> None:
    result = run("gcp", full_app(), config={"app:overrides": '{"work": {"service_config": {"min_instance_count": 1}}}'})
    sc = result.named("work", "gcp:cloudfunctionsv2/function:Function").inputs["serviceConfig"]
    assert sc["minInstanceCount"] == 1 and sc["timeoutSeconds"] == 60  # merged, not replaced


def test_overrides_naming_nothing_or_a_bad_argument_fail() -> None:
    with pytest.raises(DeclarationError, match=r"overrides name resources this program does not create: \['nope'\]"):
        run("aws", full_app(), overrides={"nope": {"x": 1}})
    with pytest.raises(DeclarationError, match=r"resource 'jobs' .*bad argument, check app:overrides\['jobs'\]"):
        run("aws", full_app(), overrides={"jobs": {"no_such_argument": 1}})


def test_transforms_are_registered_on_every_component() -> None:
    """Pulumi transforms run in the engine (mocks record them): children inherit them from their component."""
    import pulumi

    def tag(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ == "aws:sqs/queue:Queue":
            return pulumi.ResourceTransformResult(props={**args.props, "tags": {"team": "shop"}}, opts=args.opts)
        return None

    result = run("aws", full_app(), transforms=[tag])
    components = [r for r in result.resources if r.type.startswith("portside:")]
    assert components and all(r.transforms == [tag] for r in components)


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_two_things_sharing_a_physical_name_fail(cloud: str) -> None:
    def declare(a: App) -> None:
        a.function("handlers.x:jobs", trigger=a.schedule("sched", rate="1 hour").on_tick())  # DLQ "<p>-jobs-dlq"
        a.function("handlers.x:work", trigger=a.queue("jobs-dlq").on_message(max_attempts=5))  # queue "<p>-jobs-dlq"
    fails(cloud, small(declare), CloudLimitError,
          r"name 'lim-\w+-dev-jobs-dlq' would be used by 2 resources of the same kind")


def test_long_names_are_shortened_stably_where_the_cloud_allows_no_choice() -> None:
    import re

    from portside.infra.naming import RULES, Names, shorten

    names = Names("p", "gcp", "proj")
    sa = names.service_account("a-rather-long-function-name-of-40-chars")
    assert len(sa) == 30 and re.match(RULES["gcp:account"][1], sa)
    assert sa == names.service_account("a-rather-long-function-name-of-40-chars")  # stable across runs
    assert sa != names.service_account("a-rather-long-function-name-of-40-chars-2"[:40])
    assert shorten("abc", 10) == "abc" and len(shorten("x" * 80, 63)) == 63
    assert len(Names("shop-prod", "aws").bucket("a-rather-long-bucket-name-of-40-chars")) <= 37
    result = run("gcp", small(lambda a: a.function("handlers.x:fan", name="a-rather-long-function-name-of-40-chars",
                                                   trigger=a.queue("jobs").on_message())), config={"app:prefix": "p"})
    assert result.named("a-rather-long-function-name-of-40-chars-sa").inputs["accountId"] == sa
