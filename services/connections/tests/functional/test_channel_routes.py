"""subscribe / unsubscribe (issue 17) and $disconnect's cleanup, against DynamoDB in moto server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sumu_connections.handler import handler
from sumu_contracts import validate

ROOMS = json.dumps(["room-*"])


def plain(item: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {name: int(value["N"]) if "N" in value else value["S"] for name, value in item.items()}


def subscribe(events, channel: str, *, channels: str | None = ROOMS, **kwargs: Any) -> Any:
    frame = {"action": "subscribe", "channel": channel}
    return handler(events.message("subscribe", frame, channels=channels, **kwargs), None)


def unsubscribe(events, channel: str, **kwargs: Any) -> Any:
    frame = {"action": "unsubscribe", "channel": channel}
    return handler(events.message("unsubscribe", frame, **kwargs), None)


def test_subscribe_allowed_by_the_token_claim_stores_a_subscription_record(stack, events, frame_of):
    # GIVEN alice's token allows room-* (the authorizer's context)
    # WHEN she subscribes to room-1
    answer = frame_of(subscribe(events, "room-1"))

    # THEN an ack names the action and the channel, and one typed record is stored that expires
    # with the connection (connectedAt + CONNECTION_TTL_SECONDS)
    assert answer == {
        "type": "ack",
        "statusCode": 200,
        "action": "subscribe",
        "channel": "room-1",
        "requestId": answer["requestId"],
    }
    [item] = stack.subscriptions()
    assert item == {
        "channel": {"S": "room-1"},
        "connection_id": {"S": "conn-1"},
        "user_id": {"S": "alice"},
        "subscribed_at": {"N": "1795000000123"},
        "delete_at": {"N": str(1_795_000_000 + 7200)},
    }
    validate("subscription-record", plain(item))


def test_subscribe_allowed_by_the_public_patterns_without_any_claim(stack, events, frame_of):
    # GIVEN a token without a channels claim; public:* is public by default
    answer = frame_of(subscribe(events, "public:scores", channels=None))

    # THEN it is allowed
    assert answer["type"] == "ack"
    assert [plain(item)["channel"] for item in stack.subscriptions()] == ["public:scores"]


@pytest.mark.usefixtures("fresh_container")
def test_public_patterns_come_from_sumu_public_channels(stack, events, frame_of, monkeypatch):
    monkeypatch.setenv("SUMU_PUBLIC_CHANNELS", "news, lobby-*")
    assert frame_of(subscribe(events, "lobby-7", channels=None))["type"] == "ack"
    refused = frame_of(subscribe(events, "public:scores", channels=None))
    assert (refused["code"], refused["statusCode"]) == ("forbidden", 403)


@pytest.mark.parametrize(
    ("channel", "claim"),
    [
        ("room-1", None),
        ("lobby", ROOMS),
        ("xroom-1", ROOMS),  # anchored: room-* does not match inside a name
        ("room-1", "not json"),  # a malformed grant allows nothing
        ("room-1", json.dumps("room-*")),  # a string, not a list
    ],
)
def test_subscribe_forbidden(stack, events, frame_of, channel, claim):
    # WHEN the claim and the public patterns do not allow the channel
    answer = frame_of(subscribe(events, channel, channels=claim))

    # THEN a forbidden error names the channel, and nothing is stored
    assert answer["type"] == "error"
    assert (answer["code"], answer["statusCode"], answer["retryable"]) == (
        "forbidden",
        403,
        False,
    )
    assert (answer["action"], answer["channel"]) == ("subscribe", channel)
    assert stack.subscriptions() == []


@pytest.mark.parametrize("channel", ["", "room 1", "room/1", "x" * 129, "ä", 7, None])
@pytest.mark.parametrize("action", ["subscribe", "unsubscribe"])
def test_a_bad_channel_name_is_invalid(stack, events, frame_of, channel, action):
    frame = {"action": action, "channel": channel}
    answer = frame_of(handler(events.message(action, frame, channels='["*"]'), None))
    assert (answer["code"], answer["statusCode"], answer["pointer"]) == (
        "invalid",
        400,
        "/channel",
    )
    assert stack.subscriptions() == []


def test_a_subscribe_without_a_channel_is_an_invalid_frame(stack, events, frame_of):
    answer = frame_of(handler(events.message("subscribe", {"action": "subscribe"}), None))
    assert (answer["code"], answer["statusCode"]) == ("invalid_frame", 400)


def test_since_is_accepted_and_ignored(stack, events, frame_of):
    frame = {"action": "subscribe", "channel": "room-1", "since": 42}
    answer = frame_of(handler(events.message("subscribe", frame, channels=ROOMS), None))
    assert answer["type"] == "ack"


@pytest.mark.usefixtures("fresh_container")
def test_the_limit_per_connection(stack, events, frame_of, monkeypatch):
    # GIVEN a limit of 3 and three subscriptions held
    monkeypatch.setenv("CHANNELS_PER_CONNECTION", "3")
    for number in range(3):
        assert frame_of(subscribe(events, f"room-{number}"))["type"] == "ack"

    # WHEN a fourth channel is asked for
    answer = frame_of(subscribe(events, "room-3"))

    # THEN limit (400, not retryable: sending it again cannot succeed until an unsubscribe)
    assert (answer["code"], answer["statusCode"], answer["retryable"]) == ("limit", 400, False)
    assert len(stack.subscriptions()) == 3
    # and subscribing again to a channel held is still fine (one item), as is a fourth channel
    # once one is left
    assert frame_of(subscribe(events, "room-1"))["type"] == "ack"
    assert frame_of(unsubscribe(events, "room-0"))["type"] == "ack"
    assert frame_of(subscribe(events, "room-3"))["type"] == "ack"
    assert sorted(plain(item)["channel"] for item in stack.subscriptions()) == [
        "room-1",
        "room-2",
        "room-3",
    ]


def test_subscribing_twice_keeps_one_item(stack, events, frame_of):
    assert frame_of(subscribe(events, "room-1"))["type"] == "ack"
    assert frame_of(subscribe(events, "room-1"))["type"] == "ack"
    assert len(stack.subscriptions()) == 1


def test_unsubscribe_removes_the_subscription(stack, events, frame_of):
    subscribe(events, "room-1")
    answer = frame_of(unsubscribe(events, "room-1"))
    assert answer["type"] == "ack"
    assert (answer["action"], answer["channel"]) == ("unsubscribe", "room-1")
    assert stack.subscriptions() == []


def test_unsubscribe_of_a_channel_never_subscribed_is_acknowledged(stack, events, frame_of):
    # Idempotent, and needs no permission: leaving a channel is always allowed.
    answer = frame_of(unsubscribe(events, "room-never"))
    assert answer["type"] == "ack"
    assert stack.subscriptions() == []


def test_disconnect_removes_every_subscription_of_the_connection(stack, events, frame_of):
    # GIVEN two connections, conn-1 in 30 channels (more than one BatchWriteItem of 25)
    handler(events.connect(connection_id="conn-1"), None)
    for number in range(30):
        subscribe(events, f"room-{number}", connection_id="conn-1")
    subscribe(events, "room-0", connection_id="conn-2", principal_id="bob")

    # WHEN conn-1 disconnects
    assert handler(events.disconnect(connection_id="conn-1"), None) == {"statusCode": 200}

    # THEN only conn-2's subscription is left
    assert [plain(item) for item in stack.subscriptions()] == [
        {
            "channel": "room-0",
            "connection_id": "conn-2",
            "user_id": "bob",
            "subscribed_at": 1_795_000_000_123,
            "delete_at": 1_795_000_000 + 7200,
        }
    ]


@pytest.mark.usefixtures("fresh_container")
def test_without_a_subscriptions_table_channels_are_not_configured(
    stack, events, frame_of, monkeypatch, service_logs
):
    monkeypatch.delenv("SUBSCRIPTIONS_TABLE_NAME")
    answer = frame_of(subscribe(events, "room-1"))
    assert (answer["code"], answer["statusCode"]) == ("internal_error", 501)
    assert any(
        line.get("reason") == "SUBSCRIPTIONS_TABLE_NAME is not set" for line in service_logs()
    )
    # and $disconnect still works
    assert handler(events.disconnect(), None) == {"statusCode": 200}


def test_subscribe_without_an_authorized_user_is_unauthorized(stack, events, frame_of):
    answer = frame_of(subscribe(events, "public:x", principal_id=None))
    assert (answer["code"], answer["statusCode"]) == ("unauthorized", 401)
