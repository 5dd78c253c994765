"""Read a client frame (the client-frame contract) into what the routes serve, or a Refusal.

Every route reads its frame here, whatever its route key: API Gateway picks the route from
``action`` alone, so a frame on ``send`` may still lack its message or carry extra keys, and
``$default`` receives everything that is not JSON or names no known action.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from sumu_contracts import ContractError, validate
from sumu_contracts.registry import max_bytes

from sumu_connections.channels import is_channel_name
from sumu_connections.refusal import Refusal

CONTRACT = "client-frame"
FORWARD_ACTIONS = ("send", "publish")
CHANNEL_ACTIONS = ("subscribe", "unsubscribe")
ACTIONS = ("ping", *FORWARD_ACTIONS, *CHANNEL_ACTIONS)
_ALLOWED_KEYS = {
    "ping": {"action"},
    "send": {"action", "message"},
    "publish": {"action", "message"},
    # since (issue 18): the last seq the client saw; unsubscribe accepts and ignores it.
    "subscribe": {"action", "channel", "since"},
    "unsubscribe": {"action", "channel", "since"},
}
_ACTION_LIST = "ping, send, publish, subscribe or unsubscribe"
# Unknown actions are echoed back; a client's 100 KB "action" must not be.
_ECHO_LIMIT = 64


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Forward:
    action: Literal["send", "publish"]
    message: Any


@dataclass(frozen=True)
class ChannelRequest:
    action: Literal["subscribe", "unsubscribe"]
    channel: str
    # The last seq the client saw on the channel (subscribe with recovery, issue 18).
    since: int | None = None


ClientFrame = Ping | Forward | ChannelRequest


@cache
def frame_limit_bytes() -> int:
    """The contract's ``x-sumu-max-bytes`` (API Gateway's 128 KB message payload limit)."""
    limit = max_bytes(CONTRACT)
    if limit is None:  # pragma: no cover - the contract declares one
        raise RuntimeError(f"the {CONTRACT} contract declares no size limit")
    return limit


class _NumberOutOfRange(ValueError):
    pass


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        # 1e400 is valid JSON but has no float value; forwarding it as Infinity would not be JSON.
        raise _NumberOutOfRange(f"the number {text[:32]} is out of range")
    return number


def _reject_constant(name: str) -> None:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def _invalid_frame(message: str, pointer: str | None = None, action: str | None = None) -> Refusal:
    return Refusal("invalid_frame", message, 400, pointer=pointer, action=action)


def _pointer(key: str) -> str:
    # RFC 6901: "~" and "/" in a key are escaped.
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _parse(frame: str) -> Any | Refusal:
    try:
        return json.loads(frame, parse_float=_finite_float, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        return Refusal(
            "invalid_json", f"the frame is not JSON: {error.msg} at character {error.pos}", 400
        )
    except _NumberOutOfRange as error:
        return _invalid_frame(f"{error}; numbers must fit a 64-bit float")
    except RecursionError:
        return _invalid_frame("the frame is nested too deeply")
    except ValueError as error:  # e.g. an integer longer than Python's 4300-digit limit
        return _invalid_frame(f"the frame holds a value that cannot be read: {error}")


def _action_refusal(frame: dict[str, Any]) -> Refusal | None:
    """Why the frame's action cannot be served as it is, before the schema has its say: the
    schema alone would report most of these as one vague oneOf failure at the root."""
    action = frame.get("action")
    if action not in ACTIONS:
        if "action" not in frame:
            text = f'the frame has no "action"; use {_ACTION_LIST}'
        else:
            text = f"unknown action; use {_ACTION_LIST}"
        echoed = action[:_ECHO_LIMIT] if isinstance(action, str) else None
        return Refusal("unknown_action", text, 400, action=echoed)
    if action in FORWARD_ACTIONS and "message" not in frame:
        return Refusal(
            "missing_message", f'a {action} frame needs a "message" to forward', 400, action=action
        )
    if action in CHANNEL_ACTIONS:
        refusal = _channel_refusal(frame, action)
        if refusal is not None:
            return refusal
    for key in frame:
        if key not in _ALLOWED_KEYS[action]:
            allowed = " and ".join(f'"{name}"' for name in sorted(_ALLOWED_KEYS[action]))
            return _invalid_frame(
                f"unexpected key in a {action} frame; it holds only {allowed}",
                pointer=_pointer(key),
                action=action,
            )
    return None


def _channel_refusal(frame: dict[str, Any], action: str) -> Refusal | None:
    if "channel" not in frame:
        return _invalid_frame(f'a {action} frame needs a "channel"', pointer="", action=action)
    channel = frame["channel"]
    if not is_channel_name(channel):
        return Refusal(
            "invalid",
            "a channel name is 1 to 128 letters, digits and _-:.@=",
            400,
            pointer="/channel",
            action=action,
            # Echoed only when it is text, and cut like an unknown action.
            channel=channel[:_ECHO_LIMIT] if isinstance(channel, str) else None,
        )
    return None


def _shape(parsed: Any, frame_bytes: int) -> ClientFrame | Refusal:
    if not isinstance(parsed, dict):
        return _invalid_frame('a frame is a JSON object such as {"action": "ping"}', pointer="")
    refusal = _action_refusal(parsed)
    if refusal is not None:
        return refusal
    action = parsed["action"]
    # The contract is the final word, so this reader can never accept what it refuses.
    try:
        validate(CONTRACT, parsed, serialised_size=frame_bytes)
    except ContractError as error:
        return _invalid_frame(error.reason, pointer=error.pointer, action=action)
    if action == "ping":
        return Ping()
    if action in CHANNEL_ACTIONS:
        since = parsed.get("since")
        return ChannelRequest(
            action=action, channel=parsed["channel"], since=since if action == "subscribe" else None
        )
    return Forward(action=action, message=parsed["message"])


def read_client_frame(frame: str | None, *, frame_is_text: bool = True) -> ClientFrame | Refusal:
    if not frame_is_text:
        return Refusal("invalid_json", "the frame is binary data, not UTF-8 JSON text", 400)
    if frame is None or not frame.strip():
        return Refusal("invalid_json", "the frame is empty; send a JSON object", 400)
    # surrogatepass: a lone surrogate from the event still counts, instead of failing to encode.
    frame_bytes = len(frame.encode("utf-8", "surrogatepass"))
    limit = frame_limit_bytes()
    if frame_bytes > limit:
        # Checked before parsing, so a huge frame costs no parse.
        return Refusal(
            "message_too_large", f"the frame is {frame_bytes} bytes; the limit is {limit}", 413
        )
    parsed = _parse(frame)
    if isinstance(parsed, Refusal):
        return parsed
    return _shape(parsed, frame_bytes)
