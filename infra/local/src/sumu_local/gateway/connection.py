"""One live WebSocket connection: what the gateway must remember between frames.

Kept small on purpose (slots, no per-connection task or timer): thousands of idle connections
must fit in a few kilobytes each beyond aiohttp's own WebSocketResponse.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from sumu_local.gateway.events import Identity, epoch_ms


class Connection:
    __slots__ = (
        "authorizer",
        "close_cause",
        "connected_at",
        "connected_monotonic",
        "connection_id",
        "identity",
        "last_active_at",
        "last_active_monotonic",
        "websocket",
    )

    def __init__(
        self,
        connection_id: str,
        websocket: web.WebSocketResponse,
        identity: Identity,
        authorizer: dict[str, Any] | None,
        connected_at: int,
    ) -> None:
        self.connection_id = connection_id
        self.websocket = websocket
        self.identity = identity
        self.authorizer = authorizer
        self.connected_at = connected_at
        self.connected_monotonic = time.monotonic()
        self.last_active_at = connected_at
        self.last_active_monotonic = self.connected_monotonic
        # (disconnectStatusCode, disconnectReason) once the gateway decided to close it.
        self.close_cause: tuple[int, str] | None = None

    def touch(self) -> None:
        """A data message went either way: the idle timer restarts.

        API Gateway's idle timeout counts messages in both directions (a backend's periodic
        PostToConnection keeps a quiet client connected until the 2-hour maximum).
        """
        self.last_active_at = epoch_ms()
        self.last_active_monotonic = time.monotonic()

    @property
    def is_open(self) -> bool:
        return self.close_cause is None and not self.websocket.closed
