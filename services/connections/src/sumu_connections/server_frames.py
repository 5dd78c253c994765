"""The frames this service answers with (the server-frame contract), as JSON text.

Built as plain dicts and checked with the contract's compiled validator (fastjsonschema, compiled
at import by handler.py), not with the pydantic models: importing and building those cost about
200 ms on a container's first frame. A frame that would break the contract raises ContractError.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from sumu_contracts import validate

from sumu_connections.history import Recovery
from sumu_connections.refusal import Refusal


def _frame(frame: dict[str, Any]) -> str:
    validate("server-frame", frame)
    return json.dumps(frame, separators=(",", ":"))


def pong(connection_id: str) -> str:
    return _frame({"type": "pong", "statusCode": 200, "connectionId": connection_id})


def ack(action: Literal["send", "publish"], message_id: str, request_id: str | None) -> str:
    frame: dict[str, Any] = {
        "type": "ack",
        "statusCode": 200,
        "action": action,
        "messageId": message_id,
    }
    if request_id is not None:
        frame["requestId"] = request_id
    return _frame(frame)


def channel_ack(
    action: Literal["subscribe", "unsubscribe"],
    channel: str,
    request_id: str | None,
    recovery: Recovery | None = None,
) -> str:
    frame: dict[str, Any] = {"type": "ack", "statusCode": 200, "action": action, "channel": channel}
    if request_id is not None:
        frame["requestId"] = request_id
    # A subscribe's position (issue 18): recovered only when since was asked, seq with history.
    if recovery is not None and recovery.recovered is not None:
        frame["recovered"] = recovery.recovered
    if recovery is not None and recovery.seq is not None:
        frame["seq"] = recovery.seq
    return _frame(frame)


def error(refusal: Refusal, request_id: str | None) -> str:
    frame: dict[str, Any] = {
        "type": "error",
        "statusCode": refusal.status_code,
        "code": refusal.code,
        "message": refusal.message,
    }
    # No schema member allows null: an absent optional is left out.
    optional = {
        "retryable": refusal.retryable,
        "action": refusal.action,
        "pointer": refusal.pointer,
        "channel": refusal.channel,
        "requestId": request_id,
    }
    frame.update({name: value for name, value in optional.items() if value is not None})
    return _frame(frame)
