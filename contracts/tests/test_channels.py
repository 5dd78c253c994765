"""Channels (issue 17, sumu-contracts 0.3.0): the new frames and fields, and what stays valid.

GIVEN the 0.2.0 schemas (rebuilt here from today's by removing exactly what 0.3.0 added, so the
test does not depend on git history), WHEN messages are generated from them, THEN they validate
under 0.3.0's. server-frame v2 is a new major version (acks and error codes widened: FULL cannot
hold); these tests pin what is still true: everything SUMU sends a client that never subscribes
validates under v1, and everything v1 allowed (except pushed data typed "message") under v2.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from contract_strategies import bounded
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis_jsonschema import from_schema
from sumu_contracts import ContractError, is_valid, load_schema, validate
from sumu_contracts.models import ChannelAckFrame, ChannelFrame, ChannelMessage, ErrorFrame

BOUNDED = settings(
    max_examples=min(settings.default.max_examples, 20),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def client_frame_0_2() -> dict[str, Any]:
    schema = copy.deepcopy(load_schema("client-frame"))
    schema["oneOf"] = [b for b in schema["oneOf"] if b["$ref"] != "#/definitions/channel"]
    del schema["definitions"]["channel"]
    return schema


def notification_request_0_2() -> dict[str, Any]:
    schema = copy.deepcopy(load_schema("notification-request"))
    del schema["properties"]["channels"]
    del schema["definitions"]["channel_name"]
    return schema


@BOUNDED
@given(message=from_schema(bounded(client_frame_0_2())))
def test_every_0_2_client_frame_is_valid_under_0_3(message: Any) -> None:
    validate("client-frame", message)


@BOUNDED
@given(message=from_schema(bounded(notification_request_0_2())))
@example({"users": [], "data": None})
def test_every_0_2_notification_request_is_valid_under_0_3(message: Any) -> None:
    validate("notification-request", message)


@BOUNDED
@given(message=from_schema(bounded(load_schema("server-frame.v1"))))
def test_v1_server_frames_are_v2_frames_unless_pushed_data_is_typed_message(message: Any) -> None:
    # GIVEN any frame v1 allowed; pushed application data typed "message" is the one overlap
    # (the schema's description reserves the SUMU frame types for SUMU)
    assume(not (isinstance(message, dict) and message.get("type") == "message"))
    # THEN v2 allows it too
    validate("server-frame.v2", message)


@BOUNDED
@given(message=from_schema(bounded({**load_schema("server-frame.v2")["definitions"]["message"]})))
def test_a_channel_message_is_plain_pushed_data_to_a_v1_reader(message: Any) -> None:
    # An old client that never subscribes never receives one; if it did, v1 still accepts it.
    validate("server-frame.v1", message)
    validate("server-frame", message)


def test_the_envelope_model_builds_a_valid_frame() -> None:
    frame = ChannelMessage(channel="room-1", id="m-1", data={"text": "hi"}).to_json_dict()
    assert frame == {"type": "message", "channel": "room-1", "id": "m-1", "data": {"text": "hi"}}
    validate("server-frame", frame)


@pytest.mark.parametrize("action", ["subscribe", "unsubscribe"])
def test_channel_acks_validate(action: Any) -> None:
    validate("server-frame", ChannelAckFrame(action=action, channel="public:x").to_json_dict())


@pytest.mark.parametrize(("code", "status"), [("forbidden", 403), ("invalid", 400), ("limit", 400)])
def test_channel_error_codes_validate(code: Any, status: int) -> None:
    frame = ErrorFrame(
        status_code=status, code=code, message="m", action="subscribe", channel="room-1"
    )
    validate("server-frame", frame.to_json_dict())
    # the v1 reader does not know these codes: why this is server-frame v2
    assert not is_valid("server-frame.v1", frame.to_json_dict())


@pytest.mark.parametrize(
    "channel",
    ["a", "room-1", "public:scores", "x" * 128, "a_b-c:d.e@f=g", "ÄÖ".encode().hex()],
)
def test_channel_names_that_are_valid(channel: str) -> None:
    validate("client-frame", {"action": "subscribe", "channel": channel})
    ChannelFrame(action="subscribe", channel=channel)


@pytest.mark.parametrize("channel", ["", "x" * 129, "room 1", "room/1", "ä", "a*", "a\n", "#"])
def test_channel_names_that_are_invalid(channel: str) -> None:
    with pytest.raises(ContractError):
        validate("client-frame", {"action": "subscribe", "channel": channel})
    with pytest.raises(ContractError):
        validate("notification-request", {"channels": [channel], "data": 1})


def test_since_is_reserved_an_integer_at_least_zero() -> None:
    validate("client-frame", {"action": "subscribe", "channel": "a", "since": 7})
    for since in (-1, 1.5, "1", None):
        with pytest.raises(ContractError):
            validate("client-frame", {"action": "subscribe", "channel": "a", "since": since})


def test_at_most_100_channels_per_request() -> None:
    validate("notification-request", {"channels": [f"c{i}" for i in range(100)], "data": 1})
    with pytest.raises(ContractError):
        validate("notification-request", {"channels": [f"c{i}" for i in range(101)], "data": 1})
