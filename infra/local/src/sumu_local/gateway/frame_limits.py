"""API Gateway's WebSocket frame quota (32 KB per frame), which aiohttp cannot express.

aiohttp enforces one size, the message (we give it API Gateway's 128 KB payload quota). AWS
also closes the connection with 1009 when a single frame is larger than 32 KB, even when the
message is small enough; clients must split bigger messages into frames. This wrapper reads the
frame headers of the client's byte stream, before aiohttp's parser sees them, and fails the
connection with 1009 the way aiohttp's own size check does.
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
"""

from __future__ import annotations

from typing import Any

from aiohttp import WebSocketError, WSCloseCode

MAX_FRAME_BYTES = 32 * 1024
_DATA_OPCODES = frozenset({0x0, 0x1, 0x2})


class FrameSizeGuard:
    """Sits in front of aiohttp's WebSocketReader; only frame headers are inspected."""

    __slots__ = ("_header", "_parser", "_payload_left", "_queue", "_tripped")

    def __init__(self, parser: Any, queue: Any) -> None:
        self._parser = parser
        self._queue = queue
        self._header = b""
        self._payload_left = 0
        self._tripped = False

    def feed_eof(self) -> None:
        self._parser.feed_eof()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self._tripped:
            return True, b""
        oversized_at = self._scan(data)
        if oversized_at is None:
            result: tuple[bool, bytes] = self._parser.feed_data(data)
            return result
        # Hand over the frames before the oversized one, then fail like aiohttp's size check.
        if oversized_at:
            self._parser.feed_data(data[:oversized_at])
        self._tripped = True
        self._queue.set_exception(
            WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, "Frame exceeds 32 KB")
        )
        return True, b""

    def _scan(self, data: bytes) -> int | None:
        """Offset in `data` of the header of a data frame over the quota, or None."""
        position = 0
        size = len(data)
        while position < size:
            if self._payload_left:
                skipped = min(self._payload_left, size - position)
                self._payload_left -= skipped
                position += skipped
                continue
            header_start = position - len(self._header)
            needed = 2
            while True:
                available = self._header + data[position : position + needed - len(self._header)]
                if len(available) < needed:
                    self._header = available
                    return None
                length_flag = available[1] & 0x7F
                mask_bytes = 4 if available[1] & 0x80 else 0
                extra = 2 if length_flag == 126 else 8 if length_flag == 127 else 0
                full = 2 + extra + mask_bytes
                if needed >= full:
                    break
                needed = full
            consumed = needed - len(self._header)
            self._header = b""
            position += consumed
            payload_length = (
                int.from_bytes(available[2 : 2 + extra], "big") if extra else length_flag
            )
            if available[0] & 0x0F in _DATA_OPCODES and payload_length > MAX_FRAME_BYTES:
                return max(header_start, 0)
            self._payload_left = payload_length
        return None
