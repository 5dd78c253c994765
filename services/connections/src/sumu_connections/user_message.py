"""The user-message contract: what backends receive from a send or publish frame.

Built as plain data and checked with the contract's compiled validator, as in server_frames.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from sumu_contracts import validate

from sumu_connections.refusal import Refusal

UserMessageSource = Literal["apigw.route.send", "apigw.route.publish"]

# SQS and SNS both cap a message, body and attributes together, at 256 KiB:
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
MAX_MESSAGE_BYTES = 262_144
_SOURCES: dict[str, UserMessageSource] = {
    "send": "apigw.route.send",
    "publish": "apigw.route.publish",
}
# SQS accepts only these characters in a body (and SNS bodies must be valid UTF-8); lone
# surrogates and U+FFFE / U+FFFF can reach us inside JSON strings, so they travel as \u escapes.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
_NOT_SENDABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class UserMessage:
    body: str
    attributes: dict[str, dict[str, str]]


def encode_body(message: Any) -> str:
    """The client's message as compact JSON text that SQS and SNS accept as it is.

    Not ASCII-escaped: escaping would triple the size of non-Latin text, pushing a frame under
    API Gateway's 128 KB limit over the queue's 256 KB one.
    """
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _NOT_SENDABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def message_attributes(
    *, user_id: str, timestamp_ms: int, action: Literal["send", "publish"]
) -> dict[str, dict[str, str]]:
    """The SNS / SQS ``MessageAttributes``, checked against the user-message contract.

    The body is left out of the check (null stands in): the contract allows any JSON there, and
    walking a 128 KB message to learn that would cost time for nothing.
    """
    attributes = {
        "user_id": {"DataType": "String", "StringValue": user_id},
        # An int prints without exponent, as the contract's Number pattern requires.
        "timestamp": {"DataType": "Number", "StringValue": str(int(timestamp_ms))},
        "source": {"DataType": "String", "StringValue": _SOURCES[action]},
    }
    validate("user-message", {"body": None, "attributes": attributes})
    return attributes


def build_user_message(
    *,
    message: Any,
    user_id: str,
    timestamp_ms: int,
    action: Literal["send", "publish"],
) -> UserMessage | Refusal:
    try:
        body = encode_body(message)
    except RecursionError:
        return Refusal("invalid_frame", "the message is nested too deeply", 400, action=action)
    attributes = message_attributes(user_id=user_id, timestamp_ms=timestamp_ms, action=action)
    size = len(body.encode("utf-8")) + sum(
        len(name) + len(value["DataType"]) + len(value["StringValue"].encode("utf-8"))
        for name, value in attributes.items()
    )
    if size > MAX_MESSAGE_BYTES:
        return Refusal(
            "message_too_large",
            f"the message is {size} bytes as sent to backends; the limit is {MAX_MESSAGE_BYTES}",
            413,
            action=action,
        )
    return UserMessage(body=body, attributes=attributes)
