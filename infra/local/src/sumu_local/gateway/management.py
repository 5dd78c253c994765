"""The @connections management API: POST (send), GET (info), DELETE (close) one connection.

Answers exactly what botocore's `apigatewaymanagementapi` model expects, so boto3 and
aiobotocore clients work unchanged: errors carry `x-amzn-ErrorType` (botocore takes the error
code from it) and a JSON `message`. SigV4 headers are accepted and not checked.
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from sumu_local.gateway.access_log import log_access
from sumu_local.gateway.connection import Connection
from sumu_local.gateway.events import RequestIds, iso_timestamp

# PostToConnection's payload quota (same as a client message).
MAX_POST_BYTES = 128 * 1024
_MARKER = "/@connections/"

CloseConnection = Callable[[Connection, int, str], None]


class ManagementApi:
    def __init__(
        self, connections: Mapping[str, Connection], close_connection: CloseConnection
    ) -> None:
        self._connections = connections
        self._close_connection = close_connection

    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        ids = RequestIds.new()
        connection_id = connection_id_from_path(request.raw_path)
        response = await self._answer(request, connection_id)
        response.headers["x-amzn-RequestId"] = ids.request_id
        log_access(
            requestId=ids.request_id,
            ip=request.remote,
            requestTime=ids.request_time,
            httpMethod=request.method,
            resourcePath="/@connections/{connectionId}",
            connectionId=connection_id,
            status=response.status,
            error=response.headers.get("x-amzn-ErrorType"),
            responseLatency=int((time.monotonic() - started) * 1000),
        )
        return response

    async def _answer(self, request: web.Request, connection_id: str) -> web.Response:
        if request.method == "POST":
            return await self._post(request, connection_id)
        if request.method not in ("GET", "DELETE"):
            return _error(403, "ForbiddenException", "Forbidden")
        connection = self._connections.get(connection_id)
        if connection is None or not connection.is_open:
            return _gone()
        if request.method == "GET":
            return web.json_response(
                {
                    "connectedAt": iso_timestamp(connection.connected_at),
                    "identity": connection.identity.as_event(),
                    "lastActiveAt": iso_timestamp(connection.last_active_at),
                }
            )
        # The close frame goes out in the background: as on AWS, the 204 does not wait for it.
        self._close_connection(connection, 1000, "Connection deleted")
        return web.Response(status=204)

    async def _post(self, request: web.Request, connection_id: str) -> web.Response:
        data = await request.read()
        if len(data) > MAX_POST_BYTES:
            return _error(413, "PayloadTooLargeException", "Request entity too large")
        connection = self._connections.get(connection_id)
        if connection is None or not connection.is_open:
            return _gone()
        try:
            # Clients read PostToConnection data as text; bytes that are not UTF-8 go as binary.
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                await connection.websocket.send_bytes(data)
            else:
                await connection.websocket.send_str(text)
        except ConnectionError:
            return _gone()
        connection.touch()
        return web.Response(status=200)


def connection_id_from_path(raw_path: str) -> str:
    """The percent-decoded id after /@connections/ (SDKs send `=` as %3D)."""
    path = raw_path.split("?", 1)[0]
    _, _, encoded = path.partition(_MARKER)
    return urllib.parse.unquote(encoded)


def _gone() -> web.Response:
    # What API Gateway answers for an unknown or closed connection: 410, no message.
    return _error(410, "GoneException", None)


def _error(status: int, error_type: str, message: str | None) -> web.Response:
    body: dict[str, Any] = {"message": message}
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/json",
        headers={"x-amzn-ErrorType": error_type},
    )
