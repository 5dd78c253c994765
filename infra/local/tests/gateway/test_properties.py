"""Property tests: route selection never fails, the frame guard never corrupts the stream, and a
live gateway answers any text frame exactly once and stays up."""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import os
import struct
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sumu_local.gateway import Gateway, GatewayConfig
from sumu_local.gateway.authorizer import verdict_from_response
from sumu_local.gateway.frame_limits import MAX_FRAME_BYTES, FrameSizeGuard
from sumu_local.gateway.routing import select_route
from websockets.sync.client import ClientConnection, connect

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:local/mvp/$connect"
ROUTES = frozenset({"$connect", "$disconnect", "$default", "send", "ping"})
SAFE_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | SAFE_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SAFE_TEXT, inner, max_size=3),
    max_leaves=8,
)


@given(body=SAFE_TEXT)
def test_any_text_selects_a_configured_route_or_none(body: str) -> None:
    route = select_route(body, ("action",), ROUTES)
    assert route in {"$default", "send", "ping"}
    assert select_route(body, ("action",), ROUTES - {"$default"}) in {None, "send", "ping"}


@given(
    action=st.sampled_from(["send", "ping"]),
    extra=st.dictionaries(SAFE_TEXT, JSON_VALUES, max_size=3),
)
def test_a_json_action_naming_a_route_selects_it(action: str, extra: dict[str, Any]) -> None:
    body = json.dumps({**extra, "action": action})
    assert select_route(body, ("action",), ROUTES) == action


class RecordingParser:
    """Stands in for aiohttp's WebSocketReader: keeps every byte fed to it."""

    def __init__(self) -> None:
        self.fed = bytearray()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.fed += data
        return False, b""


class RecordingQueue:
    def __init__(self) -> None:
        self.exception: BaseException | None = None

    def set_exception(self, exception: BaseException) -> None:
        self.exception = exception


def client_frame(opcode: int, payload_length: int, fin: bool = True) -> bytes:
    """A masked client frame header + payload, as RFC 6455 section 5.2 lays it out."""
    first = (0x80 if fin else 0) | opcode
    if payload_length < 126:
        header = struct.pack("!BB", first, 0x80 | payload_length)
    elif payload_length < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, payload_length)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, payload_length)
    return header + os.urandom(4) + bytes(payload_length)


FRAME_SIZES = st.one_of(
    st.integers(0, 200),
    st.sampled_from([125, 126, 65535, MAX_FRAME_BYTES, MAX_FRAME_BYTES + 1, 65536]),
)


@settings(max_examples=40)
@given(
    frames=st.lists(
        st.tuples(st.sampled_from([0x1, 0x2, 0x9, 0xA]), FRAME_SIZES), min_size=1, max_size=6
    ),
    cuts=st.lists(st.integers(1, 70_000), max_size=8),
)
def test_frame_guard_passes_small_frames_and_stops_at_the_first_big_one(
    frames: list[tuple[int, int]], cuts: list[int]
) -> None:
    # Control frames (ping 0x9 / pong 0xA) are capped at 125 bytes by the RFC.
    frames = [(opcode, min(size, 125) if opcode >= 0x8 else size) for opcode, size in frames]
    encoded = [client_frame(opcode, size) for opcode, size in frames]
    stream = b"".join(encoded)
    offsets = [sum(len(frame) for frame in encoded[:index]) for index in range(len(encoded))]
    oversized = [offsets[i] for i, (_, size) in enumerate(frames) if size > MAX_FRAME_BYTES]
    parser, queue = RecordingParser(), RecordingQueue()
    guard = FrameSizeGuard(parser, queue)
    boundaries = sorted({0, len(stream), *(cut % (len(stream) + 1) for cut in cuts)})
    for start, end in itertools.pairwise(boundaries):
        eof, _ = guard.feed_data(stream[start:end])
        if eof:
            break
    if not oversized:
        assert bytes(parser.fed) == stream
        assert queue.exception is None
    else:
        assert queue.exception is not None
        assert stream.startswith(bytes(parser.fed))
        # nothing of the big frame reaches aiohttp beyond a header split across reads
        assert oversized[0] <= len(parser.fed) <= oversized[0] + 14


def crash(event: Any, context: Any) -> Any:
    raise RuntimeError("fuzzed handler failure")


def echo(event: Any, context: Any) -> Any:
    return {"statusCode": 200, "body": event["body"]}


@pytest.fixture(scope="module")
def live_client() -> Iterator[ClientConnection]:
    """One gateway on a background loop and one client connection, shared by the examples."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    gateway = Gateway(
        GatewayConfig(routes={"$default": echo, "echo": echo, "crash": crash}, port=0)
    )
    asyncio.run_coroutine_threadsafe(gateway.start(), loop).result(10)
    try:
        with connect(gateway.websocket_url, open_timeout=10) as client:
            yield client
    finally:
        asyncio.run_coroutine_threadsafe(gateway.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


FRAMES = st.one_of(
    SAFE_TEXT,
    st.builds(json.dumps, JSON_VALUES),
    st.builds(
        lambda action, extra: json.dumps({**extra, "action": action}),
        st.sampled_from(["echo", "crash", "nope", "$connect", "$disconnect", ""]),
        st.dictionaries(SAFE_TEXT, JSON_VALUES, max_size=2),
    ),
)


@settings(max_examples=60)
@given(frame=FRAMES)
def test_live_gateway_answers_any_text_frame_once(
    live_client: ClientConnection, frame: str
) -> None:
    live_client.send(frame)
    reply = live_client.recv(timeout=5)
    try:
        error = json.loads(reply)
    except ValueError:
        error = None
    if (
        isinstance(error, dict)
        and error.get("message") == "Internal server error"
        and "requestId" in error
    ):
        assert json.loads(frame)["action"] == "crash"
    else:
        assert reply == frame


POLICY_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "principalId": JSON_VALUES,
        "policyDocument": st.fixed_dictionaries(
            {},
            optional={
                "Statement": st.one_of(
                    JSON_VALUES,
                    st.lists(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "Effect": st.sampled_from(["Allow", "Deny", "Maybe"]) | JSON_VALUES,
                                "Action": st.sampled_from(["execute-api:Invoke", "*", "s3:Get"])
                                | JSON_VALUES,
                                "Resource": st.sampled_from(
                                    ["*", METHOD_ARN, "arn:aws:execute-api:*"]
                                )
                                | JSON_VALUES,
                            },
                        ),
                        max_size=3,
                    ),
                )
            },
        ),
        "context": JSON_VALUES,
    },
)


@given(response=st.one_of(JSON_VALUES, POLICY_LIKE))
def test_any_authorizer_answer_gets_a_verdict(response: Any) -> None:
    verdict = verdict_from_response(response, METHOD_ARN, 3)
    assert verdict.status in {200, 403, 500}
    if verdict.status == 200:
        assert verdict.context is not None
        assert all(
            isinstance(value, str)
            for key, value in verdict.context.items()
            if key != "integrationLatency"
        )


@settings(max_examples=40)
@given(connection_id=SAFE_TEXT.filter(bool), method=st.sampled_from(["GET", "POST", "DELETE"]))
def test_management_api_answers_any_unknown_id_with_gone(
    live_client: ClientConnection, connection_id: str, method: str
) -> None:
    host, port = live_client.remote_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request(
            method, f"/mvp/@connections/{urllib.parse.quote(connection_id, safe='')}", body=b"x"
        )
        response = connection.getresponse()
        assert response.status == 410
        assert response.getheader("x-amzn-ErrorType") == "GoneException"
    finally:
        connection.close()
