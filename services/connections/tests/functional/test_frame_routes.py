"""ping, send, publish and $default against SQS and SNS in moto server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sumu_connections.handler import handler
from sumu_contracts import validate

REQUEST_TIME_MS = 1_795_000_000_123
MESSAGE = {"text": "héllo wörld", "n": [1, 2.5, None, True], "nested": {"k": "v"}}


def user_message_of_sqs(message: dict[str, Any]) -> dict[str, Any]:
    """An SQS message (sent directly, or raw SNS delivery) as the user-message contract shows it."""
    return {
        "body": json.loads(message["Body"]),
        "attributes": {
            name: {"DataType": value["DataType"], "StringValue": value["StringValue"]}
            for name, value in message["MessageAttributes"].items()
        },
    }


def user_message_of_envelope(message: dict[str, Any]) -> dict[str, Any]:
    """An SNS notification envelope (raw delivery off) as the user-message contract shows it."""
    envelope = json.loads(message["Body"])
    return {
        "body": json.loads(envelope["Message"]),
        "attributes": {
            name: {"DataType": value["Type"], "StringValue": value["Value"]}
            for name, value in envelope["MessageAttributes"].items()
        },
    }


def expected_attributes(source: str) -> dict[str, dict[str, str]]:
    return {
        "user_id": {"DataType": "String", "StringValue": "alice"},
        "timestamp": {"DataType": "Number", "StringValue": str(REQUEST_TIME_MS)},
        "source": {"DataType": "String", "StringValue": source},
    }


def test_ping_answers_the_pong_frame(stack, events, frame_of):
    # GIVEN a ping frame on the ping route
    event = events.message("ping", {"action": "ping"}, connection_id="conn-7")

    # WHEN the handler runs
    frame = frame_of(handler(event, None))

    # THEN the client gets the original stack's pong
    assert frame == {"type": "pong", "statusCode": 200, "connectionId": "conn-7"}


def test_send_forwards_the_message_to_the_queue_and_acks(stack, events, frame_of):
    # GIVEN a send frame from alice
    event = events.message("send", {"action": "send", "message": MESSAGE})

    # WHEN the handler runs
    frame = frame_of(handler(event, None))

    # THEN the queue holds the message with the user-message attributes
    [sent] = stack.receive(stack.queue_url)
    user_message = user_message_of_sqs(sent)
    validate("user-message", user_message)
    assert user_message == {"body": MESSAGE, "attributes": expected_attributes("apigw.route.send")}
    # AND the client gets an ack naming the queue's message id, not the raw SQS reply
    assert frame == {
        "type": "ack",
        "statusCode": 200,
        "action": "send",
        "messageId": sent["MessageId"],
        "requestId": event["requestContext"]["requestId"],
    }


def test_publish_forwards_the_message_to_the_topic_and_acks(stack, events, frame_of):
    # GIVEN a publish frame from alice
    event = events.message("publish", {"action": "publish", "message": MESSAGE})

    # WHEN the handler runs
    frame = frame_of(handler(event, None))

    # THEN both subscribers get the user message, raw and in the SNS envelope
    [raw] = stack.receive(stack.raw_queue_url)
    [enveloped] = stack.receive(stack.envelope_queue_url)
    expected = {"body": MESSAGE, "attributes": expected_attributes("apigw.route.publish")}
    for user_message in (user_message_of_sqs(raw), user_message_of_envelope(enveloped)):
        validate("user-message", user_message)
        assert user_message == expected
    # AND the ack carries the SNS message id
    assert frame["type"] == "ack"
    assert frame["action"] == "publish"
    assert frame["messageId"] == json.loads(enveloped["Body"])["MessageId"]
    # AND nothing went to the queue of send
    assert stack.depth(stack.queue_url) == 0


@pytest.mark.parametrize(
    "message",
    [
        "a lone surrogate \ud83d and U+FFFF \uffff survive",
        {"emoji": "😀", "cjk": "漢字" * 10, "control": "\u0001\n\t"},
        None,
        0,
        [],
    ],
)
def test_send_forwards_any_json_value_unchanged(stack, events, frame_of, message):
    # GIVEN a send frame with an unusual message (text as the gateway decoded it)
    event = events.message("send", json.dumps({"action": "send", "message": message}))

    # WHEN the handler runs
    frame = frame_of(handler(event, None))

    # THEN the backend reads back exactly the client's value
    assert frame["type"] == "ack"
    [sent] = stack.receive(stack.queue_url)
    assert json.loads(sent["Body"]) == message


def test_a_binary_frame_holding_json_is_served(stack, events, frame_of):
    # GIVEN a ping sent as a binary frame (base64 in the event)
    event = events.message("$default", b'{"action": "ping"}')

    # WHEN the handler runs
    frame = frame_of(handler(event, None))

    # THEN it is answered like a text frame
    assert frame["type"] == "pong"


BAD_FRAMES = [
    # (route the gateway chose, frame, code, pointer)
    ("$default", "hello", "invalid_json", None),
    ("$default", "", "invalid_json", None),
    ("$default", b"\xff\xfe\x00binary", "invalid_json", None),
    ("$default", "[1, 2]", "invalid_frame", ""),
    ("$default", '{"action": "shout", "message": 1}', "unknown_action", None),
    ("$default", '{"message": 1}', "unknown_action", None),
    ("send", '{"action": "send"}', "missing_message", None),
    ("publish", '{"action": "publish", "msg": 1}', "missing_message", None),
    ("send", '{"action": "send", "message": 1, "to": "bob"}', "invalid_frame", "/to"),
    ("ping", '{"action": "ping", "x/y": 1}', "invalid_frame", "/x~1y"),
    ("send", '{"action": "send", "message": 1e999}', "invalid_frame", None),
    ("send", '{"action": "send", "message": NaN}', "invalid_json", None),
    ("send", json.dumps({"action": "send", "message": "x" * 131_072}), "message_too_large", None),
]


@pytest.mark.parametrize("bad_frame", BAD_FRAMES, ids=lambda case: f"{case[0]}-{case[2]}")
def test_a_bad_frame_gets_an_error_frame_and_nothing_is_forwarded(
    stack, events, frame_of, bad_frame
):
    route_key, body, code, pointer = bad_frame
    # GIVEN a frame that breaks the client-frame contract
    event = events.message(route_key, body)

    # WHEN the handler runs
    frame = frame_of(handler(event, None))

    # THEN the client gets an error frame saying why (the connection stays open: 200)
    assert frame["type"] == "error"
    assert frame["code"] == code
    assert frame["message"]
    assert frame["retryable"] is False
    assert frame["requestId"] == event["requestContext"]["requestId"]
    assert frame.get("pointer") == pointer
    assert 400 <= frame["statusCode"] < 500
    # AND nothing reached the backends
    assert stack.depth(stack.queue_url) == 0
    assert stack.depth(stack.raw_queue_url) == 0


def test_a_frame_over_the_limit_is_refused_as_too_large(stack, events, frame_of):
    # GIVEN a send frame one byte over the contract's 128 KB
    padding = 131_073 - len(json.dumps({"action": "send", "message": ""}))
    body = json.dumps({"action": "send", "message": "x" * padding})
    assert len(body) == 131_073

    # WHEN the handler runs
    frame = frame_of(handler(events.message("send", body), None))

    # THEN it is refused with 413 and nothing is forwarded
    assert (frame["code"], frame["statusCode"]) == ("message_too_large", 413)
    assert stack.depth(stack.queue_url) == 0


def test_a_frame_at_the_limit_is_forwarded(stack, events, frame_of):
    # GIVEN a send frame of exactly 128 KB
    padding = 131_072 - len(json.dumps({"action": "send", "message": ""}))
    body = json.dumps({"action": "send", "message": "x" * padding})

    # WHEN the handler runs
    frame = frame_of(handler(events.message("send", body), None))

    # THEN it is forwarded
    assert frame["type"] == "ack"
    assert stack.depth(stack.queue_url) == 1


def test_a_valid_frame_on_default_is_served_by_its_action(stack, events, frame_of):
    # GIVEN a gateway that sends everything to $default
    event = events.message("$default", {"action": "send", "message": "hi"})

    # WHEN the handler runs
    frame = frame_of(handler(event, None))

    # THEN the frame's action decides
    assert frame["type"] == "ack"
    assert stack.depth(stack.queue_url) == 1


@pytest.mark.usefixtures("stack", "fresh_container")
@pytest.mark.parametrize(
    "route", [("send", "MESSAGES_QUEUE_URL"), ("publish", "MESSAGES_TOPIC_ARN")], ids=str
)
def test_an_unconfigured_route_answers_an_error_and_logs_the_variable(
    events, frame_of, service_logs, monkeypatch, route
):
    action, variable = route
    # GIVEN a deployment without the variable of that route
    monkeypatch.delenv(variable)

    # WHEN a frame for it arrives
    frame = frame_of(handler(events.message(action, {"action": action, "message": 1}), None))

    # THEN the client is told, the log names the variable, and other routes still work
    assert (frame["code"], frame["retryable"]) == ("internal_error", False)
    assert any(variable in line.get("reason", "") for line in service_logs())
    assert frame_of(handler(events.message("ping", {"action": "ping"}), None))["type"] == "pong"


@pytest.mark.usefixtures("fresh_container")
def test_a_missing_queue_is_an_error_frame_not_retryable(
    stack, events, frame_of, service_logs, monkeypatch
):
    # GIVEN a queue URL that names no queue (a misconfiguration, not an outage)
    monkeypatch.setenv("MESSAGES_QUEUE_URL", stack.queue_url + "-missing")

    # WHEN a send arrives
    frame = frame_of(handler(events.message("send", {"action": "send", "message": 1}), None))

    # THEN the client gets internal_error (sending again will not help) and a log line says why
    assert (frame["code"], frame["retryable"]) == ("internal_error", False)
    [failure] = [line for line in service_logs() if line["event"] == "forward_failed"]
    assert failure["retryable"] is False


def test_a_frame_without_a_principal_is_not_forwarded(stack, events, frame_of):
    # GIVEN a send on a connection that carries no authorizer context
    event = events.message("send", {"action": "send", "message": 1}, principal_id=None)

    # WHEN the handler runs
    frame = frame_of(handler(event, None))

    # THEN it is refused: a user message must say who sent it
    assert frame["code"] == "unauthorized"
    assert stack.depth(stack.queue_url) == 0


def test_the_request_time_is_the_message_timestamp_and_falls_back_to_now(stack, events):
    # GIVEN a send event without requestTimeEpoch
    event = events.message("send", {"action": "send", "message": 1}, request_time_ms=None)

    # WHEN the handler runs
    handler(event, None)

    # THEN the timestamp is the handler's clock, in milliseconds
    [sent] = stack.receive(stack.queue_url)
    timestamp = int(sent["MessageAttributes"]["timestamp"]["StringValue"])
    assert timestamp > 1_700_000_000_000
