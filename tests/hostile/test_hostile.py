"""Hostile clients and backends against a running `sumu up`.

Random, oversized and binary frames, floods, random notification requests and random tokens:
the stack stays up, answers every error with the right frame or status, and a canary user keeps
receiving every notification sent to it meanwhile (checked at the end of each test).
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from sumu_contracts import is_valid
from sumu_contracts.registry import load_schema
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.conftest import LiveStack, running_stack, unique

ANSWER_SECONDS = 15
# Lone surrogates cannot be encoded as UTF-8, so no client can put them in a text frame.
SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
FRAME_QUOTA = 32 * 1024  # API Gateway's (and the local gateway's) frame size quota
# `invalid`: a subscribe / unsubscribe frame whose channel is missing or not a channel name.
PARSED_BUT_INVALID = {"invalid_frame", "unknown_action", "missing_message", "invalid"}
FUZZ = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
near_frames = st.fixed_dictionaries(
    {
        "action": st.sampled_from(
            ["ping", "send", "publish", "subscribe", "unsubscribe", "PING", "", "$default"]
        )
    },
    optional={
        "message": json_values,
        "channel": json_values | st.sampled_from(["public:x", "room 1", "", "a" * 129]),
        "extra": json_values,
        "requestId": st.text(max_size=5),
    },
)
utf8_text = st.text(st.characters(exclude_categories=SURROGATES), max_size=300)
frames = st.one_of(
    from_schema(load_schema("client-frame")).map(json.dumps),
    near_frames.map(json.dumps),
    json_values.map(json.dumps),
    utf8_text,
    st.sampled_from(["", " ", "{", "NaN", '{"action": "ping"', "[1e400]", "null", '"ping"']),
)


@dataclass
class Canary:
    """A user who must receive every notification sent to it, whatever else happens."""

    live: LiveStack
    user: str = field(default_factory=lambda: unique("canary"))
    socket: ClientConnection | None = None
    sent: list[str] = field(default_factory=list)

    def open(self) -> None:
        # Its own socket, unread for the length of a test: no keepalive pings (their pongs would
        # queue behind unread frames) and no bound on the frames buffered meanwhile.
        url = (
            f"{self.live.manifest.websocket_url}?authorization={quote(self.live.token(self.user))}"
        )
        self.socket = connect(
            url, open_timeout=20, proxy=None, ping_interval=None, max_queue=None, legacy=True
        )
        self.live.sockets.append(self.socket)
        self.live.connection_id(self.socket)

    def notify(self, via: str = "sqs") -> None:
        notification_id = uuid.uuid4().hex
        self.sent.append(notification_id)
        body = json.dumps({"users": [self.user], "data": {"canary": notification_id}})
        if via == "sqs":
            self.live.client("sqs").send_message(
                QueueUrl=self.live.manifest.notifications_queue_url, MessageBody=body
            )
        else:
            self.live.client("sns").publish(
                TopicArn=self.live.manifest.notifications_topic_arn, Message=body
            )

    def assert_all_received(self, timeout: float = 40) -> None:
        assert self.socket is not None
        missing = set(self.sent)
        deadline = time.monotonic() + timeout
        while missing and time.monotonic() < deadline:
            try:
                frame = json.loads(self.socket.recv(timeout=0.2))
            except TimeoutError:
                continue
            if isinstance(frame, dict):
                missing.discard(frame.get("canary"))
        assert not missing, f"{len(missing)} of {len(self.sent)} canary notifications lost"


@pytest.fixture(scope="module")
def hostile_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    with running_stack(tmp_path_factory.mktemp("hostile")) as live:
        yield live


@pytest.fixture
def live(hostile_stack: LiveStack) -> Iterator[LiveStack]:
    try:
        yield hostile_stack
    finally:
        hostile_stack.close_all()


@pytest.fixture
def canary(live: LiveStack) -> Iterator[Canary]:
    bird = Canary(live)
    bird.open()
    bird.notify("sqs")
    yield bird
    # THEN (every test) the stack is still up and the canary got everything sent meanwhile
    bird.notify("sns")
    bird.assert_all_received()


def strict_json(text: str) -> tuple[bool, Any]:
    """(parsed, value): JSON as the contract reads it (no NaN / Infinity, finite numbers)."""

    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    try:
        value = json.loads(text, parse_constant=refuse)
    except (ValueError, RecursionError):
        return False, None
    return True, value


def finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(finite(item) for item in value)
    if isinstance(value, dict):
        return all(finite(item) for item in value.values())
    return True


def answer(socket: ClientConnection) -> dict[str, Any]:
    frame = json.loads(socket.recv(timeout=ANSWER_SECONDS))
    assert is_valid("server-frame", frame), frame
    assert isinstance(frame, dict)
    return frame


def check_answer(text: str, frame: dict[str, Any]) -> None:
    parsed, value = strict_json(text)
    if not parsed:
        assert frame.get("code") == "invalid_json", (text, frame)
    elif finite(value) and is_valid("client-frame", value):
        expected = "pong" if value["action"] == "ping" else "ack"
        refusals = {"upstream_unavailable"}  # moto under load may refuse for a moment
        if value["action"] == "subscribe":
            # The fuzzer's token names no channels: only public:* names are allowed, and a
            # long run fills the connection's quota.
            refusals |= {"forbidden", "limit"}
        if frame.get("type") == "error":
            assert frame.get("code") in refusals, (text, frame)
        else:
            assert frame.get("type") == expected, (text, frame)
    else:
        assert frame.get("type") == "error", (text, frame)
        assert frame.get("code") in PARSED_BUT_INVALID | {"invalid_json"}, (text, frame)


@FUZZ
@given(frame=frames)
def test_every_random_text_frame_gets_the_right_answer(
    live: LiveStack, canary: Canary, frame: str
) -> None:
    # GIVEN a connected client (one per test, kept across examples)
    socket = getattr(live, "_fuzz_socket", None)
    if socket is None or socket.protocol.state.name != "OPEN":
        socket = live.connect(unique("fuzzer"))
        live._fuzz_socket = socket  # type: ignore[attr-defined]
    # WHEN it sends any text frame
    socket.send(frame)
    # THEN it gets one server frame: pong / ack for a valid frame, the right error otherwise,
    # and the connection stays open
    check_answer(frame, answer(socket))


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=st.binary(max_size=400) | frames.map(str.encode))
def test_a_binary_frame_closes_its_own_connection_with_1003_only(
    live: LiveStack, canary: Canary, payload: bytes
) -> None:
    # GIVEN two connected clients
    sender, bystander = live.connect(unique("binary")), live.connect(unique("bystander"))
    # WHEN one sends a binary frame (the local gateway accepts text frames only)
    sender.send(payload)
    # THEN its connection is closed with 1003 (unsupported data), and the other one still works
    assert close_code(sender) == 1003
    assert live.connection_id(bystander)


def close_code(socket: ClientConnection) -> int | None:
    """The close code the server sent, once the connection closes (None: it did not close)."""
    try:
        while True:
            socket.recv(timeout=ANSWER_SECONDS)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    except TimeoutError:
        return None


def test_oversized_frames_close_only_their_own_connection(live: LiveStack, canary: Canary) -> None:
    user = unique("big")
    # WHEN one frame is over the 32 KB frame quota
    over_quota = live.connect(user)
    over_quota.send(json.dumps({"action": "send", "message": "x" * (FRAME_QUOTA + 100)}))
    # THEN that connection is closed with 1009 (message too big), as API Gateway does
    assert close_code(over_quota) == 1009
    # WHEN a 100 KB message is split into 16 KB frames
    fragmented = live.connect(user)
    text = json.dumps({"action": "send", "message": "y" * 100_000})
    fragmented.send([text[start : start + 16_000] for start in range(0, len(text), 16_000)])
    # THEN it is accepted as one message
    assert answer(fragmented)["type"] in ("ack", "error")
    # WHEN a message over the 128 KB payload quota arrives in small frames
    fragmented.send([("z" * 16_000) for _ in range(9)])
    # THEN the connection is closed with 1009 (message too big)
    assert close_code(fragmented) == 1009
    # AND a new connection of the same user works
    assert live.connection_id(live.connect(user))


def test_a_flood_of_frames_is_answered_in_full_while_notifications_flow(
    live: LiveStack, canary: Canary
) -> None:
    # GIVEN a client flooding the gateway with 400 pings and 100 garbage frames, without waiting
    flooder = live.connect(unique("flood"))
    for index in range(500):
        flooder.send(json.dumps({"action": "ping"}) if index % 5 else "garbage")
        if index % 100 == 0:
            canary.notify("sqs" if index % 200 else "sns")
    # THEN every frame is answered (400 pongs, 100 invalid_json errors)
    answers = [answer(flooder) for _ in range(500)]
    assert sum(1 for frame in answers if frame.get("type") == "pong") == 400
    assert sum(1 for frame in answers if frame.get("code") == "invalid_json") == 100


tokens = st.one_of(
    st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=200),
    st.lists(st.text("ABCDEFabcdef0123456789-_", max_size=40), min_size=3, max_size=3).map(
        ".".join
    ),
    st.sampled_from(["", "Bearer", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0."]),
)


@FUZZ
@given(token=tokens)
def test_random_tokens_are_refused_with_401_or_403(
    live: LiveStack, canary: Canary, token: str
) -> None:
    url = f"{live.manifest.websocket_url}?authorization={quote(token)}"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=20, proxy=None).close()
    assert refused.value.response.status_code in (401, 403)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_tampered_valid_token_is_refused(live: LiveStack, canary: Canary, data: Any) -> None:
    token = live.token(unique("victim"))
    header, payload, signature = token.split(".")
    part = data.draw(st.sampled_from(["header", "payload", "signature"]))
    segment = {"header": header, "payload": payload, "signature": signature}[part]
    # Not the last character: its low bits may be base64 padding that decodes to the same bytes.
    position = data.draw(st.integers(0, len(segment) - 2))
    replacement = data.draw(
        st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_").filter(
            lambda char: char != segment[position]
        )
    )
    changed = segment[:position] + replacement + segment[position + 1 :]
    parts = {"header": header, "payload": payload, "signature": signature, part: changed}
    tampered = ".".join((parts["header"], parts["payload"], parts["signature"]))
    url = f"{live.manifest.websocket_url}?authorization={quote(tampered)}"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=20, proxy=None).close()
    assert refused.value.response.status_code in (401, 403)


sqs_text = st.text(
    st.characters(exclude_categories=SURROGATES, exclude_characters="\x00\ufffe\uffff"),
    min_size=1,
    max_size=300,
).filter(lambda text: all(ord(char) >= 0x20 or char in "\t\n\r" for char in text))
bodies = st.one_of(
    from_schema(load_schema("notification-request")).map(json.dumps),
    st.fixed_dictionaries(
        {"data": json_values},
        optional={
            "users": st.lists(st.text(max_size=5), max_size=3) | json_values,
            "exclude_users": st.lists(st.text(max_size=5), max_size=3),
            "user": st.text(max_size=5),
        },
    ).map(json.dumps),
    json_values.map(json.dumps),
    sqs_text,
)


@settings(
    max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(bodies, min_size=12, max_size=12))
def test_random_notification_requests_reach_the_dlq_with_a_reason_exactly_when_invalid(
    live: LiveStack, canary: Canary, batch: list[str]
) -> None:
    # GIVEN a backend sending random bodies (some valid requests) to the notifications queue
    sqs = live.client("sqs")
    message_ids = {}
    for index, body in enumerate(batch):
        sent = sqs.send_message(QueueUrl=live.manifest.notifications_queue_url, MessageBody=body)
        message_ids[sent["MessageId"]] = index
        if index % 5 == 0:
            canary.notify()
    # THEN each invalid one lands in the DLQ with a reason, and no valid one does
    invalid = {
        index
        for index, body in enumerate(batch)
        if not (strict_json(body)[0] and is_valid("notification-request", json.loads(body)))
    }
    dead = read_dlq(live, message_ids, expected=len(invalid))
    assert set(dead) == invalid, {index: batch[index] for index in set(dead) ^ invalid}
    assert all(dead.values()), dead


def read_dlq(
    live: LiveStack, message_ids: dict[str, int], expected: int, timeout: float = 30
) -> dict[int, str]:
    """Index -> reason of this example's DLQ messages, found by the pusher's
    `source_message_id` attribute (deleted once read)."""
    sqs = live.client("sqs")
    found: dict[int, str] = {}
    deadline = time.monotonic() + timeout
    grace: float | None = None
    while time.monotonic() < (grace or deadline):
        if grace is None and len(found) >= expected:
            grace = time.monotonic() + 2.0  # time for a wrongly dead-lettered one to show up
        messages = sqs.receive_message(
            QueueUrl=live.manifest.notifications_dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        for message in messages:
            attributes = message.get("MessageAttributes", {})
            source = attributes.get("source_message_id", {}).get("StringValue", "")
            if source in message_ids:
                reason = attributes.get("reason", {}).get("StringValue", "")
                found[message_ids[source]] = reason
                sqs.delete_message(
                    QueueUrl=live.manifest.notifications_dlq_url,
                    ReceiptHandle=message["ReceiptHandle"],
                )
    return found


def test_the_stack_still_serves_after_all_of_it(live: LiveStack) -> None:
    user = unique("after")
    socket = live.connect(user)
    assert live.connection_id(socket)
