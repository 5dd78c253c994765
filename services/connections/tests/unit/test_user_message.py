from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from sumu_connections.refusal import Refusal
from sumu_connections.user_message import MAX_MESSAGE_BYTES, build_user_message, encode_body
from sumu_contracts import validate

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=10,
)
# What SQS accepts in a message body (anything else is refused as InvalidMessageContents):
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
SQS_ALLOWED = (
    (0x9, 0x9),
    (0xA, 0xA),
    (0xD, 0xD),
    (0x20, 0xD7FF),
    (0xE000, 0xFFFD),
    (0x10000, 0x10FFFF),
)


def _sendable(text: str) -> bool:
    return all(any(low <= ord(char) <= high for low, high in SQS_ALLOWED) for char in text)


@given(json_values)
def test_the_body_round_trips_and_is_sendable(message):
    # WHEN any JSON value is encoded as a message body
    body = encode_body(message)

    # THEN a backend decodes the same value, and SQS accepts every character
    assert json.loads(body) == message
    assert _sendable(body)
    body.encode("utf-8")  # no lone surrogate left


def test_non_ascii_text_is_not_escaped():
    # Escaping would triple the size of non-Latin text (and break the 256 KB limit).
    assert encode_body({"t": "漢字"}) == '{"t":"漢字"}'


@given(json_values, st.sampled_from(["send", "publish"]), st.text(min_size=1, max_size=20))
def test_the_user_message_validates(message, action, user_id):
    built = build_user_message(
        message=message, user_id=user_id, timestamp_ms=1_795_000_000_123, action=action
    )
    assert not isinstance(built, Refusal)
    validate("user-message", {"body": json.loads(built.body), "attributes": built.attributes})
    assert built.attributes["source"]["StringValue"] == f"apigw.route.{action}"
    assert built.attributes["timestamp"] == {"DataType": "Number", "StringValue": "1795000000123"}


def test_a_message_over_the_queue_limit_is_refused():
    # GIVEN a message that, with its attributes, is over 256 KB once encoded
    message = "\uffff" * (MAX_MESSAGE_BYTES // 6 + 1)

    # WHEN it is built
    built = build_user_message(message=message, user_id="alice", timestamp_ms=1, action="send")

    # THEN it is refused as too large, never cut
    assert isinstance(built, Refusal)
    assert (built.code, built.status_code) == ("message_too_large", 413)


def test_a_deeply_nested_message_is_refused_not_crashed():
    message: list[object] = []
    for _ in range(5_000):
        message = [message]
    built = build_user_message(message=message, user_id="alice", timestamp_ms=1, action="send")
    assert isinstance(built, Refusal)
    assert built.code == "invalid_frame"
