"""The API Gateway WebSocket event, read into the few fields the routes use.

API Gateway sends the same requestContext on every route of a connection, including the
authorizer's principalId and context (replayed from $connect):
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html
Reading is total: any event, however malformed, gives a WebSocketRequest, and the routes decide
what a missing field means for them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sumu_connections.channels import patterns_from_context


@dataclass(frozen=True)
class WebSocketRequest:
    route_key: str
    connection_id: str | None
    request_id: str | None
    principal_id: str | None
    request_time_ms: int | None
    connected_at_ms: int | None
    source_ip: str | None
    user_agent: str | None
    # The frame as text; None when the event carries no body (as on $connect / $disconnect).
    frame: str | None
    # A binary frame that is not UTF-8 cannot be a JSON client frame.
    frame_is_text: bool = True
    # The authorizer context's "channels" (the token's channel patterns; issue 17).
    channel_patterns: tuple[str, ...] = ()


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _epoch_ms(value: Any) -> int | None:
    # bool is an int in Python; a flag is never a timestamp.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _frame(event: dict[str, Any]) -> tuple[str | None, bool]:
    body = event.get("body")
    if not isinstance(body, str):
        return None, True
    if event.get("isBase64Encoded") is not True:
        return body, True
    # Binary frames reach a proxy integration base64-encoded:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-binary-media-types.html
    try:
        return base64.b64decode(body, validate=True).decode("utf-8"), True
    except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 once decoded
        return None, False


def read_event(event: Any) -> WebSocketRequest:
    event = _mapping(event)
    context = _mapping(event.get("requestContext"))
    identity = _mapping(context.get("identity"))
    authorizer = _mapping(context.get("authorizer"))
    frame, frame_is_text = _frame(event)
    return WebSocketRequest(
        route_key=_text(context.get("routeKey")) or "$default",
        connection_id=_text(context.get("connectionId")),
        request_id=_text(context.get("requestId")),
        principal_id=_text(authorizer.get("principalId")),
        request_time_ms=_epoch_ms(context.get("requestTimeEpoch")),
        connected_at_ms=_epoch_ms(context.get("connectedAt")),
        source_ip=_text(identity.get("sourceIp")),
        user_agent=_text(identity.get("userAgent")),
        frame=frame,
        frame_is_text=frame_is_text,
        channel_patterns=patterns_from_context(authorizer.get("channels")),
    )
