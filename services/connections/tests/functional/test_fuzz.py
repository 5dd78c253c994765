"""Hypothesis: whatever a client sends, and whatever event arrives, the handler answers with a
server frame, and only frames that the client-frame contract accepts reach a backend."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from sumu_connections.handler import handler
from sumu_contracts import ContractError, load_schema, validate

FRAME_LIMIT = 131_072
# The moto stack is built once per test and shared by its examples on purpose: each example
# measures what it added to the queues. 40 examples: every one is several HTTP round trips.
FIXTURE_PER_TEST = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
ROUTE_KEYS = ["send", "publish", "ping", "subscribe", "unsubscribe", "$default"]
CHANNEL_GRANTS = ['["room-*"]', '["*"]', "[]", "not json", '[1, "a"]', '"room-1"']

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
valid_frames = from_schema(load_schema("client-frame")).map(json.dumps)
channel_names = st.sampled_from(["room-1", "public:x", "", "a b", "x" * 129]) | st.text(max_size=10)
near_valid_frames = st.fixed_dictionaries(
    {
        "action": st.sampled_from(
            ["ping", "send", "publish", "subscribe", "unsubscribe", "Send", "", "shout"]
        )
        | json_values
    },
    optional={
        "message": json_values,
        "to": json_values,
        "channel": channel_names | json_values,
        "since": st.integers(-2, 3) | json_values,
    },
).map(json.dumps)
frames_around_the_limit = st.integers(FRAME_LIMIT - 64, FRAME_LIMIT + 64).map(
    lambda size: json.dumps({"action": "send", "message": "x" * (size - 31)})
)
client_frames = st.one_of(
    valid_frames,
    near_valid_frames,
    json_values.map(json.dumps),
    st.text(max_size=200),
    frames_around_the_limit,
    st.binary(max_size=64),
)


def _reject(name: str) -> None:
    raise ValueError(name)


def valid_frame(frame: str | bytes) -> Any:
    """The frame parsed, when the client-frame contract accepts it; None otherwise."""
    if isinstance(frame, bytes):
        try:
            frame = frame.decode("utf-8")
        except UnicodeDecodeError:
            return None
    size = len(frame.encode("utf-8", "surrogatepass"))
    try:
        parsed = json.loads(frame, parse_constant=_reject)
        validate("client-frame", parsed, serialised_size=size)
    except (ValueError, RecursionError, ContractError):
        return None
    return parsed


def subscribe_allowed(channel: str, grant: str | None) -> bool:
    """The permission oracle: the grant's patterns (a JSON list of strings, else none) and the
    default public:*, each ``*`` any run of characters, the whole name matched."""
    try:
        decoded = json.loads(grant) if grant is not None else []
    except ValueError:
        decoded = []
    patterns = [p for p in decoded if isinstance(p, str) and p] if isinstance(decoded, list) else []
    return any(
        re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), channel, flags=re.DOTALL)
        for pattern in [*patterns, "public:*"]
    )


def destination_by_contract(frame: str | bytes) -> str | None:
    """The oracle, from the contract alone: which backend route a frame must reach, if any."""
    parsed = valid_frame(frame)
    if parsed is None:
        return None
    if parsed["action"] in ("ping", "subscribe", "unsubscribe"):
        return None  # answered by the service itself, nothing reaches a backend
    return str(parsed["action"])


@settings(max_examples=40, suppress_health_check=FIXTURE_PER_TEST)
@given(
    route_key=st.sampled_from(ROUTE_KEYS),
    frame=client_frames,
    grant=st.none() | st.sampled_from(CHANNEL_GRANTS),
)
def test_any_client_frame_gets_a_server_frame_and_only_valid_messages_are_forwarded(  # noqa: PLR0917 - hypothesis passes the drawn values by name, fixtures positionally
    stack, events, frame_of, route_key, frame, grant
):
    # GIVEN the backends' queues as they are before the frame
    before = (stack.depth(stack.queue_url), stack.depth(stack.raw_queue_url))

    # WHEN any frame arrives on any route
    answer = frame_of(handler(events.message(route_key, frame, channels=grant), None))

    # THEN the answer is a server frame of SUMU's own, and a backend got exactly what the
    # contract lets through
    destination = destination_by_contract(frame)
    event(f"forwarded to {destination}, answered {answer['type']}")
    after = (stack.depth(stack.queue_url), stack.depth(stack.raw_queue_url))
    assert after[0] - before[0] == (destination == "send")
    assert after[1] - before[1] == (destination == "publish")
    assert answer["type"] == ("ack" if destination else answer["type"])
    assert answer["type"] in {"pong", "ack", "error"}
    if answer["type"] == "error":
        assert destination is None
    # AND a valid subscribe is acknowledged exactly when the grant or the public patterns allow
    # its channel (then it is stored); a valid unsubscribe always is (then nothing is left)
    parsed = valid_frame(frame)
    if isinstance(parsed, dict) and parsed["action"] in ("subscribe", "unsubscribe"):
        key = (parsed["channel"], "conn-1")
        stored = {(i["channel"]["S"], i["connection_id"]["S"]) for i in stack.subscriptions()}
        if parsed["action"] == "unsubscribe":
            assert answer["type"] == "ack"
            assert key not in stored
        elif subscribe_allowed(parsed["channel"], grant):
            assert answer["type"] == "ack"
            assert key in stored
        else:
            assert (answer["type"], answer["code"]) == ("error", "forbidden")


scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
request_contexts = st.fixed_dictionaries(
    {},
    optional={
        "routeKey": st.sampled_from(["$connect", "$disconnect", *ROUTE_KEYS]) | scalars,
        "connectionId": scalars,
        "requestId": scalars,
        "requestTimeEpoch": st.integers(min_value=-1, max_value=2**53) | scalars,
        "connectedAt": st.integers(min_value=-1, max_value=2**53) | scalars,
        "identity": st.fixed_dictionaries({}, optional={"sourceIp": scalars, "userAgent": scalars})
        | scalars,
        "authorizer": st.fixed_dictionaries(
            {},
            optional={
                "principalId": scalars,
                "channels": st.sampled_from(CHANNEL_GRANTS) | scalars | json_values,
            },
        )
        | scalars,
    },
)
any_events = (
    st.fixed_dictionaries(
        {},
        optional={
            "requestContext": request_contexts | json_values,
            "body": st.text(max_size=60) | valid_frames | json_values,
            "isBase64Encoded": st.booleans() | scalars,
        },
    )
    | json_values
)


@settings(max_examples=40, suppress_health_check=FIXTURE_PER_TEST)
@given(event=any_events)
def test_the_handler_survives_any_event(stack, event: Any):
    # WHEN any event at all arrives
    response = handler(event, None)

    # THEN the handler answers: a bare status on $connect / $disconnect, else a server frame
    assert isinstance(response["statusCode"], int)
    if "body" in response:
        validate("server-frame", json.loads(response["body"]))
