"""Recovery on subscribe with since (issue 18): history replayed in order, then the ack."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sumu_connections.handler import handler
from sumu_contracts import validate

sys.path.insert(0, str(Path(__file__).parents[1]))
from management_standin import PostRecorder

HISTORY = "sumu-history"
ROOMS = json.dumps(["room-*"])


@pytest.fixture(scope="module")
def management_api() -> Iterator[PostRecorder]:
    recorder = PostRecorder()
    yield recorder
    recorder.stop()


@pytest.fixture
def history(stack, management_api, monkeypatch, fresh_container) -> Any:
    """GIVEN the history table (empty) and the management API stand-in configured."""
    management_api.reset()
    stack.dynamodb.create_table(
        TableName=HISTORY,
        KeySchema=[
            {"AttributeName": "channel", "KeyType": "HASH"},
            {"AttributeName": "seq", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "channel", "AttributeType": "S"},
            {"AttributeName": "seq", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("HISTORY_TABLE_NAME", HISTORY)
    monkeypatch.setenv("HISTORY_SIZE", "5")
    monkeypatch.setenv("APIGW_ENDPOINT", management_api.endpoint)
    return stack


def published(dynamodb: Any, channel: str, *seqs: int, expired: tuple[int, ...] = ()) -> None:
    """History as the pusher leaves it: the head item and one item per message."""
    head = max(seqs + expired)
    dynamodb.put_item(
        TableName=HISTORY,
        Item={"channel": {"S": channel}, "seq": {"N": "0"}, "head": {"N": str(head)}},
    )
    now = int(time.time())
    for seq in seqs + expired:
        frame = {"type": "message", "channel": channel, "id": f"m-{seq}", "seq": seq, "data": seq}
        dynamodb.put_item(
            TableName=HISTORY,
            Item={
                "channel": {"S": channel},
                "seq": {"N": str(seq)},
                "frame": {"S": json.dumps(frame)},
                # An expired item TTL has not deleted yet is never replayed.
                "delete_at": {"N": str(now - 1 if seq in expired else now + 300)},
            },
        )


def subscribe(events, channel: str, since: int | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"action": "subscribe", "channel": channel}
    if since is not None:
        frame["since"] = since
    answer = json.loads(handler(events.message("subscribe", frame, channels=ROOMS), None)["body"])
    validate("server-frame", answer)
    return answer


def test_subscribe_since_replays_the_missed_messages_in_order_then_acks(
    history, events, management_api
):
    published(history.dynamodb, "room-1", 1, 2, 3, 4)
    answer = subscribe(events, "room-1", since=1)
    replayed = management_api.received("conn-1")
    assert [frame["seq"] for frame in replayed] == [2, 3, 4]
    for frame in replayed:
        validate("server-frame", frame)
    assert (answer["action"], answer["recovered"], answer["seq"]) == ("subscribe", True, 4)
    # The subscription was stored (before the history was read).
    assert len(history.subscriptions()) == 1


def test_subscribe_since_the_head_replays_nothing_and_is_recovered(history, events, management_api):
    published(history.dynamodb, "room-1", 1, 2)
    answer = subscribe(events, "room-1", since=2)
    assert management_api.received("conn-1") == []
    assert (answer["recovered"], answer["seq"]) == (True, 2)


def test_subscribe_without_since_acks_with_the_head_only(history, events, management_api):
    published(history.dynamodb, "room-1", 1, 2, 3)
    answer = subscribe(events, "room-1")
    assert management_api.received("conn-1") == []
    assert answer["seq"] == 3
    assert "recovered" not in answer


def test_a_channel_never_published_to_has_seq_0(history, events, management_api):
    answer = subscribe(events, "room-9", since=0)
    assert (answer["recovered"], answer["seq"]) == (True, 0)


@pytest.mark.parametrize(
    ("since", "why"),
    [
        (9, "beyond the head: seqs this table never gave"),
        (0, "past HISTORY_SIZE (5): the head is 8"),
        (2, "seq 3 expired (TTL not yet applied)"),
    ],
)
def test_history_that_no_longer_reaches_since_is_not_recovered(
    history, events, management_api, since, why
):
    published(history.dynamodb, "room-1", 4, 5, 6, 7, 8, expired=(3,))
    answer = subscribe(events, "room-1", since=since)
    assert (answer["recovered"], answer["seq"]) == (False, 8), why
    assert management_api.received("conn-1") == []  # nothing replayed: the client reloads
    assert len(history.subscriptions()) == 1  # subscribed all the same: live messages flow


def test_a_failed_replay_answers_a_retryable_error(history, events, management_api):
    published(history.dynamodb, "room-1", 1, 2)
    management_api.failing = True
    answer = subscribe(events, "room-1", since=0)
    assert (answer["type"], answer["code"], answer["retryable"]) == (
        "error",
        "upstream_unavailable",
        True,
    )


def test_without_a_history_table_since_is_not_recovered_and_acks_carry_no_seq(
    stack, events, fresh_container
):
    answer = subscribe(events, "room-1", since=3)
    assert answer["recovered"] is False
    assert "seq" not in answer
    assert set(subscribe(events, "room-2")) == {
        "type",
        "statusCode",
        "action",
        "channel",
        "requestId",
    }
