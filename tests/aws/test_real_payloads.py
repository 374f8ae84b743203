"""The AWS adapter on payloads other projects recorded (tests/aws/events/README.md says where
each comes from): every supported source maps, and the sources portside does not serve, API
Gateway Lambda authorizers and WebSocket APIs, are refused by name, never answered as HTTP."""

from __future__ import annotations

import base64
import copy
import json
from datetime import datetime, timezone

import pytest

from portside import Event, HttpRequest, HttpResponse, Message, ObjectCreated, RecordChanged, UnsupportedEvent
from portside.aws import Names, classify, http_flavour, http_result, to_events
from tests.aws.conftest import EVENTS, boto, load, runtime

UTC = timezone.utc
NAMES = Names({})
AUTHORIZERS = ["powertools/apiGatewayAuthorizerRequestEvent.json", "powertools/apiGatewayAuthorizerV2Event.json",
               "powertools/apiGatewayAuthorizerWebSocketEvent.json", "aws-lambda-go/apigw-custom-auth-request.json",
               "aws-lambda-go/apigw-custom-auth-request-type-request.json",
               "aws-lambda-go/apigw-v2-custom-authorizer-v1-request.json",
               "aws-lambda-go/apigw-v2-custom-authorizer-v2-request.json",
               "lambda-rust/example-apigw-v2-custom-authorizer-websocket-request.json",
               "lambda-rust/example-apigw-v2-custom-authorizer-v2-request-without-cookies.json",
               "sam-cli/ApiGatewayAuthorizer.json", "sam-cli/ApiGatewayRestRequestAuthorizer.json"]
WEBSOCKETS = ["powertools/apiGatewayWebSocketApiConnect.json", "powertools/apiGatewayWebSocketApiMessage.json",
              "aws-lambda-go/apigw-websocket-request.json",
              "lambda-rust/example-apigw-websocket-request-disconnect-route.json"]
ALB = ["powertools/albMultiValueHeadersEvent.json", "powertools/albMultiValueQueryStringEvent.json",
       "aws-lambda-go/alb-lambda-target-request-headers-only.json",
       "aws-lambda-go/alb-lambda-target-request-multivalue-headers.json"]


def test_every_recorded_payload_is_either_mapped_or_refused_by_name() -> None:
    refused = set(AUTHORIZERS) | set(WEBSOCKETS)
    for path in sorted(EVENTS.rglob("*.json")):
        name = str(path.relative_to(EVENTS))
        if name in refused:
            continue
        events = to_events(load(name), names=NAMES, request_id="req-1")
        assert events, name


# -- refused: authorizers and WebSocket APIs -------------------------------------------------------

@pytest.mark.parametrize("name", AUTHORIZERS)
def test_authorizer_events_are_refused_by_name(name: str) -> None:
    """Taken as HttpRequest they got an HTTP response where API Gateway expects an IAM policy
    (REST, payload 1.0) or isAuthorized (payload 2.0)."""
    with pytest.raises(UnsupportedEvent, match="Lambda authorizer event .* not authorizers"):
        classify(load(name))


@pytest.mark.parametrize("name", WEBSOCKETS)
def test_websocket_events_are_refused_by_name(name: str) -> None:
    with pytest.raises(UnsupportedEvent, match="WebSocket event .* no WebSocket trigger"):
        to_events(load(name), names=NAMES)


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("name", [AUTHORIZERS[0], WEBSOCKETS[0]])
def test_the_handler_raises_on_a_refused_source_and_copies_nothing_to_the_dead_letter_queue(
        cloud: dict[str, str], name: str) -> None:
    """The caller is synchronous: the error goes back to it; an authorizer event carries the
    caller's credentials, which have no business in a queue."""
    with pytest.raises(UnsupportedEvent, match="authorizer|WebSocket"):
        runtime("get-item", cloud)(load(name), None)
    assert not boto("sqs").receive_message(QueueUrl=cloud["dlq"], WaitTimeSeconds=0).get("Messages")


# -- Application Load Balancer ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ALB)
def test_alb_requests_are_http_requests_of_their_own_kind(name: str) -> None:
    raw = load(name)
    assert classify(raw) == "http-alb"
    (req,) = to_events(raw, names=NAMES, request_id="lambda-req-1")
    assert type(req) is HttpRequest and req.id == "lambda-req-1" and req.method == "GET" and req.route is None
    assert req.headers["x-forwarded-proto"] == "http" and req.source_ip == req.headers["x-forwarded-for"]


def test_alb_multi_value_query_and_headers_keep_every_value() -> None:
    (req,) = to_events(load("powertools/albMultiValueQueryStringEvent.json"), names=NAMES, request_id="r")
    assert req.query == {"parameter1": ("value1", "value2"), "parameter2": ("value",)}
    (req,) = to_events(load("aws-lambda-go/alb-lambda-target-request-multivalue-headers.json"), names=NAMES)
    assert req.query == {"key": ("hello",)} and req.headers["x-myheader"] == "123"
    assert req.id == "Root=1-5c34e7d4-00ca239424b68028d4c56d68"  # without Lambda's request id: ALB's trace id


@pytest.mark.parametrize("name", ["aws-lambda-go/alb-lambda-target-request-headers-only.json",
                                  "powertools/albMultiValueQueryStringEvent.json"])
def test_alb_query_is_decoded_as_api_gateway_would_have(name: str) -> None:
    """ALB passes the query as the client encoded it (Elastic Load Balancing user guide, "Lambda
    functions as targets"): it reached handlers still percent-encoded."""
    raw = load(name)
    encoded = {"q": "caf%C3%A9+au+lait", "enco%2Fded": "qu%2Fery", "plus": "1%2B1"}
    if "multiValueQueryStringParameters" in raw:
        raw["multiValueQueryStringParameters"] = {k: [v, v] for k, v in encoded.items()}
        twice = 2
    else:
        raw["queryStringParameters"] = encoded
        twice = 1
    (req,) = to_events(raw, names=NAMES)
    assert req.query == {"q": ("café au lait",) * twice, "enco/ded": ("qu/ery",) * twice, "plus": ("1+1",) * twice}


def test_alb_base64_body_is_decoded() -> None:
    raw = load("aws-lambda-go/alb-lambda-target-request-headers-only.json")
    raw.update(httpMethod="POST", body=base64.b64encode(b"\x89PNG\x00").decode(), isBase64Encoded=True)
    (req,) = to_events(raw, names=NAMES)
    assert req.method == "POST" and req.body == b"\x89PNG\x00"
    with pytest.raises(UnsupportedEvent, match="not valid base64"):
        to_events(dict(raw, body="%%% not base64"), names=NAMES)


def test_alb_response_shapes() -> None:
    resp = HttpResponse(404, {"content-type": "application/json"}, b'{"error": "no"}', cookies=("a=1", "b=2"))
    single = http_result(resp, http_flavour(load("aws-lambda-go/alb-lambda-target-request-headers-only.json")))
    assert single == {"statusCode": 404, "statusDescription": "404 Not Found", "isBase64Encoded": False,
                      "body": '{"error": "no"}', "headers": {"content-type": "application/json", "Set-Cookie": "b=2"}}
    multi = http_result(resp, http_flavour(load("powertools/albMultiValueHeadersEvent.json")))
    assert multi == {"statusCode": 404, "statusDescription": "404 Not Found", "isBase64Encoded": False,
                     "body": '{"error": "no"}',
                     "multiValueHeaders": {"content-type": ["application/json"], "Set-Cookie": ["a=1", "b=2"]}}
    binary = http_result(HttpResponse(200, {"content-type": "image/png"}, b"\x89PNG"), "alb")
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == b"\x89PNG"


@pytest.mark.usefixtures("aws")
def test_an_alb_request_through_the_handler_routes_and_answers_in_albs_shape(cloud: dict[str, str]) -> None:
    raw = load("powertools/albMultiValueHeadersEvent.json")
    raw["path"] = "/items/missing"
    ctx = type("Context", (), {"aws_request_id": "req-alb-1"})()
    out = runtime("get-item", cloud)(copy.deepcopy(raw), ctx)
    assert out["statusCode"] == 404 and out["statusDescription"] == "404 Not Found" and "headers" not in out
    raw["path"] = "/items/x"
    boto("dynamodb").put_item(TableName="awstest-seen", Item={"id": {"S": "x"}, "n": {"N": "1"}})
    out = runtime("get-item", cloud)(raw, ctx)
    assert (out["statusCode"], out["statusDescription"]) == (200, "200 OK")
    assert json.loads(out["body"]) == {"id": "x", "n": 1} and out["multiValueHeaders"]["content-type"] == ["application/json"]


# -- the supported sources, as other projects recorded them ----------------------------------------------

def test_powertools_sqs_sns_s3_and_their_envelopes() -> None:
    plain, as_json = to_events(load("powertools/sqsEvent.json"), names=NAMES)
    assert type(plain) is Message and plain.body == b"Test message." and plain.attributes == {"testAttr": "100"}
    assert as_json.json() == {"message": "foo1"} and as_json.time == datetime.fromtimestamp(1545082650.636, UTC)
    (sns,) = to_events(load("powertools/snsEvent.json"), names=NAMES)
    assert sns.id == "95df01b4-ee98-5cb9-9903-4c221d41eb5e" and sns.body == b"Hello from SNS!"
    assert sns.attributes == {"Test": "TestString", "TestBinary": "TestBinary"}
    (obj,) = to_events(load("powertools/s3SqsEvent.json"), names=NAMES)
    assert type(obj) is ObjectCreated and (obj.bucket, obj.key, obj.version) == ("xxx", "test.pdf", "yd3d4HaWOT2zguDLvIQLU6ptDTwKBnQV")
    (env,) = to_events(load("powertools/snsSqsFifoEvent.json"), names=NAMES)
    assert env.id == "a7c9d2fa-77fa-5184-9de9-89391027cc7d" and env.ordering_key == "powertools-test"
    assert env.json() == {"message": "hello world", "username": "lessa"}


def test_powertools_streams_eventbridge_and_http() -> None:
    inserted, modified = to_events(load("powertools/dynamoStreamEvent.json"), names=NAMES)
    assert type(modified) is RecordChanged and (modified.kind, modified.key, modified.new) == \
        ("updated", {"Id": 101}, {"Message": "This item has changed", "Id": 101})
    first, _ = to_events(load("powertools/kinesisStreamEvent.json"), names=NAMES)
    assert first.body == b"Hello, this is a test." and first.ordering_key == "1"
    (ec2,) = to_events(load("powertools/eventBridgeEvent.json"), names=NAMES)
    assert type(ec2) is Event and ec2.data == {"instance_id": "i-1234567890abcdef0", "state": "terminated"}
    (v1,) = to_events(load("powertools/apiGatewayProxyEvent.json"), names=NAMES)
    assert v1.query == {"parameter1": ("value1", "value2"), "parameter2": ("value",)} and v1.route == "GET /my/path"
    (v2,) = to_events(load("powertools/apiGatewayProxyV2Event.json"), names=NAMES)
    assert v2.query == {"parameter1": ("value1", "value2"), "parameter2": ("value",)} and v2.json()["username"] == "tom"
