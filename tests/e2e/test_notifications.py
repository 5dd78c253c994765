"""Backends notify users through the notifications queue or topic; exactly the right sockets
receive exactly one copy."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import LiveStack, unique
from tests.e2e.frames import collect, sorted_frames


def send(live: LiveStack, via: str, request: dict[str, Any]) -> None:
    body = json.dumps(request)
    if via == "sqs":
        live.client("sqs").send_message(
            QueueUrl=live.manifest.notifications_queue_url, MessageBody=body
        )
    else:
        live.client("sns").publish(TopicArn=live.manifest.notifications_topic_arn, Message=body)


@pytest.mark.parametrize("via", ["sqs", "sns"])
def test_selected_broadcast_and_exclude_reach_exactly_the_right_sockets(
    live: LiveStack, via: str
) -> None:
    # GIVEN alice on two devices and bob on one
    alice, bob = unique("alice"), unique("bob")
    sockets = {
        "alice-phone": live.connect(alice),
        "alice-laptop": live.connect(alice),
        "bob": live.connect(bob),
    }
    for socket in sockets.values():
        live.connection_id(socket)  # connected and stored before anything is sent
    # WHEN a backend sends a selected, a broadcast, an all-but and a selected-but request
    selected = {"tag": "selected", "via": via}
    everyone = {"tag": "broadcast", "via": via}
    all_but_alice = {"tag": "all-but-alice", "via": via}
    alice_only = {"tag": "alice-not-bob", "via": via}
    send(live, via, {"users": [alice], "data": selected})
    send(live, via, {"data": everyone})
    # An all-but is a request without `users` (an empty `users` list reaches nobody).
    send(live, via, {"exclude_users": [alice], "data": all_but_alice})
    send(live, via, {"users": [alice, bob, alice], "exclude_users": [bob], "data": alice_only})
    # THEN each socket got exactly its frames, once each (broadcasts may reach other tests'
    # sockets too, so only these three sockets are checked)
    expected = {
        "alice-phone": [selected, everyone, alice_only],
        "alice-laptop": [selected, everyone, alice_only],
        "bob": [everyone, all_but_alice],
    }
    received = collect(sockets, expected)
    for name, frames in expected.items():
        mine = [
            frame for frame in received[name] if isinstance(frame, dict) and frame.get("via") == via
        ]
        assert sorted_frames(mine) == sorted_frames(frames), name


def test_any_json_value_is_delivered_verbatim(live: LiveStack) -> None:
    user = unique("carol")
    socket = live.connect(user)
    live.connection_id(socket)
    for data in ("plain text", 42, [1, {"nested": None}]):
        send(live, "sqs", {"users": [user], "data": data})
    received = collect({"carol": socket}, {"carol": [1, 2, 3]})
    assert sorted_frames(received["carol"]) == sorted_frames(
        ["plain text", 42, [1, {"nested": None}]]
    )


def test_a_poisoned_request_goes_to_the_dlq_with_its_reason_and_the_batch_is_delivered(
    live: LiveStack,
) -> None:
    # GIVEN a user connected
    user = unique("dora")
    socket = live.connect(user)
    live.connection_id(socket)
    sqs = live.client("sqs")
    poison = json.dumps({"users": [user], "payload": "no data key"})
    # WHEN one batch carries two good requests around a request that breaks the contract
    sqs.send_message_batch(
        QueueUrl=live.manifest.notifications_queue_url,
        Entries=[
            {"Id": "1", "MessageBody": json.dumps({"users": [user], "data": {"n": 1}})},
            {"Id": "2", "MessageBody": poison},
            {"Id": "3", "MessageBody": json.dumps({"users": [user], "data": {"n": 3}})},
        ],
    )
    # THEN the good ones are delivered
    received = collect({"dora": socket}, {"dora": [1, 3]})
    assert sorted_frames(received["dora"]) == sorted_frames([{"n": 1}, {"n": 3}])
    # AND the poisoned one is in the DLQ at once, unchanged, with the reason
    dead = wait_for_dead_letter(live, poison)
    attributes = {name: value["StringValue"] for name, value in dead["MessageAttributes"].items()}
    assert attributes["reason"]
    assert attributes["reason_code"]


def wait_for_dead_letter(live: LiveStack, body: str, timeout: float = 15) -> dict[str, Any]:
    sqs = live.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=live.manifest.notifications_dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        ).get("Messages", []):
            if message["Body"] == body:
                return dict(message)
    pytest.fail(f"{body} never reached the notifications DLQ")


def test_a_stale_connection_is_pruned_on_the_next_notification(live: LiveStack) -> None:
    # GIVEN erin connected, and a record of a connection of hers whose socket is long gone
    # (the gateway never saw it close, so no $disconnect ever removed it)
    user = unique("erin")
    socket = live.connect(user)
    live.connection_id(socket)
    dynamodb = live.client("dynamodb")
    table = live.manifest.connections_table
    stale = {"user_id": {"S": user}, "connection_id": {"S": "StaleConnId0="}}
    dynamodb.put_item(
        TableName=table,
        Item={
            **stale,
            "connected_at": {"N": "1"},
            "delete_at": {"N": str(int(time.time()) + 3600)},
        },
    )
    # WHEN a notification targets her
    send(live, "sqs", {"users": [user], "data": "hello"})
    # THEN the live socket gets it and the stale record is deleted in the same run
    assert collect({"erin": socket}, {"erin": ["hello"]})["erin"] == ["hello"]
    deadline = time.monotonic() + 10
    while dynamodb.get_item(TableName=table, Key=stale, ConsistentRead=True).get("Item"):
        assert time.monotonic() < deadline, "the stale connection was not pruned"
        time.sleep(0.1)
    # AND erin is not reported OFFLINE: her live connection remains
    time.sleep(0.5)
    assert "OFFLINE" not in live.inbox.presence(user)
