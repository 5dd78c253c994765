"""Channels on a running `sumu up` (issue 17): two users, three channels.

Alice's token allows `room-*`; Bob's token names no channels, so he may only join the public
ones (`public:*`, the default `SUMU_PUBLIC_CHANNELS`). The stack allows three channels per
connection so the `limit` answer is reachable in a few frames.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection

from tests.conftest import LiveStack, running_stack, unique
from tests.e2e.frames import collect

CHANNELS_PER_CONNECTION = 3
# The shared stack's 2 s visibility timeout redelivers a request whose pusher run outlasts it
# on a loaded machine (at-least-once: a second copy). These tests count copies exactly, so
# the queue waits 30 s before a redelivery.
CHANNELS_TOML = f"""
[timeouts]
visibility_timeout_seconds = 30
max_receive_count = 3
ttl_sweep_seconds = 1

[environment]
CHANNELS_PER_CONNECTION = "{CHANNELS_PER_CONNECTION}"
"""
CLEANUP_SECONDS = 20.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    with running_stack(tmp_path_factory.mktemp("sumu-channels"), CHANNELS_TOML) as live:
        yield live


@pytest.fixture
def live(stack: LiveStack) -> Iterator[LiveStack]:
    try:
        yield stack
    finally:
        stack.close_all()


# What every ack names; server frames are open, so more keys (requestId, seq...) may follow.
ACK_KEYS = ("type", "statusCode", "action", "channel")


def frame(socket: ClientConnection, action: str, channel: str) -> dict[str, Any]:
    """Send a subscribe / unsubscribe frame; the route's answer (ack or error frame)."""
    socket.send(json.dumps({"action": action, "channel": channel}))
    answer: dict[str, Any] = json.loads(socket.recv(timeout=10))
    return answer


def ack_of(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: answer.get(key) for key in ACK_KEYS}


def notify(live: LiveStack, request: dict[str, Any]) -> None:
    live.client("sqs").send_message(
        QueueUrl=live.manifest.notifications_queue_url, MessageBody=json.dumps(request)
    )


def subscriptions_of(live: LiveStack, connection_id: str) -> list[str]:
    page = live.client("dynamodb").query(
        TableName=live.manifest.subscriptions_table,
        IndexName="by_connection",
        KeyConditionExpression="connection_id = :c",
        ExpressionAttributeValues={":c": {"S": connection_id}},
    )
    return sorted(item["channel"]["S"] for item in page.get("Items", []))


def envelopes(frames: list[Any], tag: str) -> list[tuple[str, Any]]:
    """(channel, data) of the channel envelopes carrying this test's tag."""
    return sorted(
        (
            (f["channel"], f["data"])
            for f in frames
            if isinstance(f, dict) and f.get("type") == "message" and f["data"].get("tag") == tag
        ),
        key=json.dumps,
    )


def test_subscribe_answers_ack_forbidden_invalid_and_limit(live: LiveStack) -> None:
    # GIVEN alice allowed room-* and bob allowed only the public channels
    suffix = uuid.uuid4().hex[:8]
    rooms = [f"room-{suffix}-{n}" for n in range(3)]
    lobby = f"public:lobby-{suffix}"
    alice_id = unique("alice")
    alice = live.connect(alice_id, live.token(alice_id, claims={"channels": ["room-*"]}))
    bob = live.connect(unique("bob"))
    # WHEN they subscribe
    # THEN alice's rooms and bob's public channel are acked with their action and channel
    for room in rooms:
        assert ack_of(frame(alice, "subscribe", room)) == {
            "type": "ack",
            "statusCode": 200,
            "action": "subscribe",
            "channel": room,
        }
    assert frame(bob, "subscribe", lobby)["type"] == "ack"
    # AND a fourth channel is over the limit, a room is not bob's, a bad name is invalid
    over = frame(alice, "subscribe", lobby)
    assert (over["type"], over["code"], over["channel"]) == ("error", "limit", lobby)
    forbidden = frame(bob, "subscribe", rooms[0])
    assert (forbidden["type"], forbidden["code"]) == ("error", "forbidden")
    invalid = frame(bob, "subscribe", "no spaces allowed!")
    assert (invalid["type"], invalid["code"]) == ("error", "invalid")
    # AND unsubscribing from a channel never subscribed is acknowledged (idempotent)
    never = frame(bob, "unsubscribe", f"public:never-{suffix}")
    assert (never["type"], never["action"]) == ("ack", "unsubscribe")


def test_channel_notifications_reach_exactly_the_subscribers_with_the_envelope(
    live: LiveStack,
) -> None:
    # GIVEN alice on two devices (room-1 + lobby on the phone, room-2 on the laptop), bob in the
    # lobby, and three channels
    suffix = uuid.uuid4().hex[:8]
    room_1, room_2, lobby = f"room-{suffix}-1", f"room-{suffix}-2", f"public:lobby-{suffix}"
    alice, bob = unique("alice"), unique("bob")
    alice_token = live.token(alice, claims={"channels": "room-* other-*"})  # space-separated
    sockets = {
        "alice-phone": live.connect(alice, alice_token),
        "alice-laptop": live.connect(alice, alice_token),
        "bob": live.connect(bob),
    }
    for socket, channel in (
        (sockets["alice-phone"], room_1),
        (sockets["alice-phone"], lobby),
        (sockets["alice-laptop"], room_2),
        (sockets["bob"], lobby),
    ):
        assert frame(socket, "subscribe", channel)["type"] == "ack"
    # WHEN a backend notifies two channels, a channel plus a user, and a channel but one user
    tag = suffix
    two_channels = {"tag": tag, "n": "two-channels"}
    union = {"tag": tag, "n": "room-2-and-bob"}
    all_but_bob = {"tag": tag, "n": "lobby-but-bob"}
    notify(live, {"channels": [room_1, lobby], "data": two_channels})
    notify(live, {"channels": [room_2], "users": [bob], "data": union})
    notify(live, {"channels": [lobby], "exclude_users": [bob], "data": all_but_bob})
    # THEN each subscriber gets one envelope per channel it matched; bob, targeted as a user,
    # gets the data verbatim; the excluded user gets nothing
    expected = {
        "alice-phone": [two_channels, two_channels, all_but_bob],
        "alice-laptop": [union],
        "bob": [two_channels, union],
    }
    received = collect(sockets, expected)
    assert envelopes(received["alice-phone"], tag) == sorted(
        [(room_1, two_channels), (lobby, two_channels), (lobby, all_but_bob)],
        key=json.dumps,
    )
    assert envelopes(received["alice-laptop"], tag) == [(room_2, union)]
    assert envelopes(received["bob"], tag) == [(lobby, two_channels)]
    assert [f for f in received["bob"] if f == union] == [union]
    assert (len(received["bob"]), len(received["alice-laptop"])) == (2, 1)
    # AND every envelope is the contract's shape, the same id for one request's deliveries
    messages = [f for frames in received.values() for f in frames if f.get("type") == "message"]
    assert all(set(f) >= {"type", "channel", "id", "data"} for f in messages)
    ids = {f["id"] for f in messages if f["data"] == two_channels}
    assert len(ids) == 1
    assert all(isinstance(i, str) and i for i in ids)


def test_unsubscribe_stops_deliveries_and_disconnect_removes_subscriptions(
    live: LiveStack,
) -> None:
    # GIVEN alice subscribed to two rooms
    suffix = uuid.uuid4().hex[:8]
    room_1, room_2 = f"room-{suffix}-1", f"room-{suffix}-2"
    alice = unique("alice")
    socket = live.connect(alice, live.token(alice, claims={"channels": ["room-*"]}))
    connection_id = live.connection_id(socket)
    for room in (room_1, room_2):
        assert frame(socket, "subscribe", room)["type"] == "ack"
    assert subscriptions_of(live, connection_id) == sorted([room_1, room_2])
    # WHEN she unsubscribes from room 1 and both rooms are notified
    assert ack_of(frame(socket, "unsubscribe", room_1)) == {
        "type": "ack",
        "statusCode": 200,
        "action": "unsubscribe",
        "channel": room_1,
    }
    notify(live, {"channels": [room_1], "data": {"tag": suffix, "n": 1}})
    notify(live, {"channels": [room_2], "data": {"tag": suffix, "n": 2}})
    # THEN only room 2 reaches her
    received = collect({"alice": socket}, {"alice": [{}]})
    assert envelopes(received["alice"], suffix) == [(room_2, {"tag": suffix, "n": 2})]
    # WHEN she disconnects
    socket.close()
    # THEN $disconnect removes her remaining subscription
    deadline = time.monotonic() + CLEANUP_SECONDS
    while subscriptions_of(live, connection_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert subscriptions_of(live, connection_id) == []
