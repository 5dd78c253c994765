"""History and recovery on a running `sumu up` (issue 18): publish, drop a connection, publish
more, reconnect with since, get exactly the missed messages, then the live ones."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from websockets.sync.client import ClientConnection

from tests.conftest import LiveStack, unique

WAIT_SECONDS = 20.0


def notify(live: LiveStack, request: dict[str, Any]) -> None:
    live.client("sqs").send_message(
        QueueUrl=live.manifest.notifications_queue_url, MessageBody=json.dumps(request)
    )


def subscribe(socket: ClientConnection, channel: str, since: int | None = None) -> list[Any]:
    """Send a subscribe; every frame up to and including its ack (the replay comes first)."""
    frame: dict[str, Any] = {"action": "subscribe", "channel": channel}
    if since is not None:
        frame["since"] = since
    socket.send(json.dumps(frame))
    frames: list[Any] = []
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        received = json.loads(socket.recv(timeout=WAIT_SECONDS))
        frames.append(received)
        if received.get("type") in {"ack", "error"} and received.get("action") == "subscribe":
            return frames
    raise AssertionError(f"no ack within {WAIT_SECONDS} s: {frames}")


def messages(
    socket: ClientConnection, channel: str, count: int, wait: float = WAIT_SECONDS
) -> list[dict[str, Any]]:
    """The next ``count`` channel messages (other frames skipped), bounded in time."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait
    while len(found) < count and time.monotonic() < deadline:
        try:
            frame = json.loads(socket.recv(timeout=0.2))
        except TimeoutError:
            continue
        if frame.get("type") == "message" and frame.get("channel") == channel:
            found.append(frame)
    return found


def test_a_reconnecting_client_gets_exactly_what_it_missed_then_live(live: LiveStack) -> None:
    channel = f"public:recovery-{uuid.uuid4().hex[:8]}"
    user = unique("rita")
    # GIVEN a subscriber that saw two messages
    first = live.connect(user)
    [ack] = subscribe(first, channel)
    assert (ack["type"], ack["seq"]) == ("ack", 0)
    # (One message at a time: two in flight at once are concurrent publishers, whose live
    # deliveries may arrive out of seq order; see the connections README.)
    for number in (1, 2):
        publish_one(live, channel, number)
    seen = messages(first, channel, 2)
    assert [(m["seq"], m["data"]["n"]) for m in seen] == [(1, 1), (2, 2)]
    # WHEN its connection drops and three more are published meanwhile
    first.close()
    for number in (3, 4, 5):
        publish_one(live, channel, number)
    head = _wait_for_head(live, channel, 5)
    # THEN a new connection subscribing with since = 2 gets exactly 3, 4, 5, then the ack
    second = live.connect(user)
    answer = subscribe(second, channel, since=seen[-1]["seq"])
    *replayed, ack = answer
    assert [(m["seq"], m["data"]["n"]) for m in replayed] == [(3, 3), (4, 4), (5, 5)]
    assert (ack["type"], ack["recovered"], ack["seq"]) == ("ack", True, head)
    # AND the live ones follow, in order, none twice
    live_frames = []
    for number in (6, 7):
        publish_one(live, channel, number)
        live_frames += messages(second, channel, 1)
    assert [(m["seq"], m["data"]["n"]) for m in live_frames] == [(6, 6), (7, 7)]
    assert messages(second, channel, 1, wait=3.0) == []  # nothing more


def test_a_request_id_is_delivered_once(live: LiveStack) -> None:
    channel = f"public:idem-{uuid.uuid4().hex[:8]}"
    socket = live.connect(unique("ida"))
    subscribe(socket, channel)
    request = {"id": f"order-{uuid.uuid4().hex}", "channels": [channel], "data": "once"}
    notify(live, request)
    live.client("sns").publish(
        TopicArn=live.manifest.notifications_topic_arn, Message=json.dumps(request)
    )
    [message] = messages(socket, channel, 1)
    assert (message["id"], message["seq"]) == (request["id"], 1)
    assert messages(socket, channel, 1, wait=3.0) == []  # the second input is dropped


def publish_one(live: LiveStack, channel: str, number: int) -> None:
    """Notify the channel with ``{"n": number}`` and wait until its seq is taken (= number)."""
    notify(live, {"channels": [channel], "data": {"n": number}})
    assert _wait_for_head(live, channel, number) == number


def _wait_for_head(live: LiveStack, channel: str, expected: int) -> int:
    """The channel's head seq once the pusher gave ``expected`` seqs (bounded wait)."""
    dynamodb = live.client("dynamodb")
    deadline = time.monotonic() + WAIT_SECONDS
    head = 0
    while time.monotonic() < deadline:
        item = dynamodb.get_item(
            TableName=live.manifest.history_table,
            Key={"channel": {"S": channel}, "seq": {"N": "0"}},
            ConsistentRead=True,
        ).get("Item")
        head = int(item["head"]["N"]) if item else 0
        if head >= expected:
            # The last message's history item is written right after its seq is taken.
            time.sleep(0.5)
            return head
        time.sleep(0.1)
    return head
