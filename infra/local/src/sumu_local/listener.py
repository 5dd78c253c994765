"""``sumu listen``: one WebSocket client that prints every frame it receives as a JSON line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from urllib.parse import quote

import aiohttp

EXIT_REFUSED = 1


async def listen(
    websocket_url: str,
    token: str,
    *,
    count: int | None = None,
    seconds: float | None = None,
    keepalive_seconds: float = 30.0,
    channels: tuple[str, ...] = (),
) -> int:
    """Print frames until the server closes, ``count`` frames arrived or ``seconds`` passed.

    Each of ``channels`` is subscribed to right after the upgrade; the acks (or error frames)
    come back as frames like any other and count towards ``count``.
    """
    url = f"{websocket_url}?authorization={quote(token)}"
    deadline = None if seconds is None else time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        try:
            socket = await session.ws_connect(url, autoping=True)
        except aiohttp.WSServerHandshakeError as error:
            print(f"sumu listen: connection refused ({error.status})", file=sys.stderr)
            return EXIT_REFUSED
        print("sumu listen: connected", file=sys.stderr, flush=True)
        for channel in channels:
            await socket.send_str(json.dumps({"action": "subscribe", "channel": channel}))
        keepalive = (
            asyncio.create_task(_keepalive(socket, keepalive_seconds))
            if keepalive_seconds > 0
            else None
        )
        try:
            received = 0
            while count is None or received < count:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    message = await socket.receive(timeout=timeout)
                except TimeoutError:
                    break
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                print(_as_json_line(message.data), flush=True)
                received += 1
        finally:
            if keepalive is not None:
                keepalive.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keepalive
            await socket.close()
    return 0


async def _keepalive(socket: aiohttp.ClientWebSocketResponse, interval: float) -> None:
    # The seed's clients send {"action": "ping"} every 30 s so API Gateway's 10-minute idle
    # timeout never closes a quiet connection.
    while not socket.closed:
        await asyncio.sleep(interval)
        await socket.send_str(json.dumps({"action": "ping"}))


def _as_json_line(text: str) -> str:
    try:
        return json.dumps(json.loads(text), separators=(",", ":"))
    except json.JSONDecodeError:
        return json.dumps({"text": text})
