"""Why a frame was not served: everything an error frame tells the client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The server-frame contract's error codes (its definitions/error/properties/code enum; a unit
# test keeps the two equal). Spelled out here so the service needs no pydantic models.
ErrorCode = Literal[
    "invalid_json",
    "unknown_action",
    "missing_message",
    "invalid_frame",
    "message_too_large",
    "upstream_unavailable",
    "internal_error",
    "unauthorized",
    "forbidden",
    "invalid",
    "limit",
]


@dataclass(frozen=True)
class Refusal:
    code: ErrorCode
    message: str
    status_code: int
    # True when sending the same frame again may succeed (the contract's ``retryable``).
    retryable: bool = False
    pointer: str | None = None
    action: str | None = None
    channel: str | None = None
