"""The gateway: one aiohttp port serving the WebSocket upgrade at /<stage> and the management
API at /<stage>/@connections/{connectionId}, calling route handlers as API Gateway calls Lambda.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import WebSocketError, WSCloseCode, WSMsgType, web

from sumu_local.gateway.access_log import log_access
from sumu_local.gateway.authorizer import (
    AuthorizerVerdict,
    identity_sources_present,
    verdict_from_exception,
    verdict_from_response,
)
from sumu_local.gateway.config import GatewayConfig
from sumu_local.gateway.connection import Connection
from sumu_local.gateway.events import (
    Identity,
    RequestIds,
    UpgradeRequest,
    authorizer_event,
    connect_event,
    disconnect_event,
    message_event,
    method_arn,
    new_aws_id,
    request_context,
)
from sumu_local.gateway.frame_limits import FrameSizeGuard
from sumu_local.gateway.invocation import (
    BoundHandler,
    HandlerRunner,
    HandlerTimeoutError,
    function_name_for,
    resolve_handler,
)
from sumu_local.gateway.management import ManagementApi
from sumu_local.gateway.routing import parse_selection_expression, select_route

logger = logging.getLogger("sumu_local.gateway")

# API Gateway's message payload quota; aiohttp rejects a message whose size reaches the limit,
# hence the +1 so that exactly 128 KB is still accepted.
MAX_MESSAGE_BYTES = 128 * 1024
# How long a close handshake may take before the socket is dropped (aiohttp's default).
CLOSE_HANDSHAKE_SECONDS = 10.0
GOING_AWAY = (int(WSCloseCode.GOING_AWAY), "Going away")
ABNORMAL = (int(WSCloseCode.ABNORMAL_CLOSURE), "Connection closed abnormally")

ConfigureApp = Callable[[web.Application], None]


@dataclass(frozen=True)
class ConnectRefusal:
    """Why an upgrade is refused: the HTTP answer and the access log's error."""

    status: int
    message: str | None
    error: str
    body: str | None = None

    def response(self) -> web.Response:
        text = self.body if self.body is not None else json.dumps({"message": self.message})
        return web.Response(status=self.status, text=text, content_type="application/json")


class Gateway:
    def __init__(self, config: GatewayConfig, *, configure_app: ConfigureApp | None = None) -> None:
        self.config = config
        self.port = config.port
        self._configure_app = configure_app
        self._selection_path = parse_selection_expression(config.route_selection_expression)
        self._handlers = HandlerRunner()
        self._routes: dict[str, BoundHandler] = {}
        self._authorizer: BoundHandler | None = None
        self._connections: dict[str, Connection] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._open_sockets = 0
        self._sockets_closed = asyncio.Event()
        self._sockets_closed.set()
        self._runner: web.AppRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._saved_environment: dict[str, str | None] = {}
        self._stopping = False

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.config.host}:{self.port}/{self.config.stage}"

    @property
    def management_url(self) -> str:
        return f"http://{self.config.host}:{self.port}/{self.config.stage}"

    def connection_ids(self) -> list[str]:
        return [connection_id for connection_id, c in self._connections.items() if c.is_open]

    async def start(self) -> None:
        # Handlers read their settings from the environment at import, as on Lambda; the
        # previous values come back on stop() so an embedding process (tests) is left as found.
        self._saved_environment = {key: os.environ.get(key) for key in self.config.environment}
        os.environ.update(self.config.environment)
        self._bind_handlers()
        app = web.Application(client_max_size=8 * 1024 * 1024)
        stage = self.config.stage
        app.router.add_get(f"/{stage}", self._handle_upgrade)
        app.router.add_get(f"/{stage}/", self._handle_upgrade)
        management = ManagementApi(self._connections, self._close_connection)
        # Any id, even one that decodes to a newline: unknown ids must get 410, never 404.
        app.router.add_route("*", f"/{stage}/@connections/{{tail:[\\s\\S]*}}", management.handle)
        if self._configure_app is not None:
            self._configure_app(app)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0)
        await runner.setup()
        # A deep backlog: a burst of thousands of clients must queue, not be refused.
        site = web.TCPSite(runner, self.config.host, self.config.port, backlog=4096)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._sweeper = asyncio.create_task(self._enforce_time_limits())
        logger.info("gateway listening on %s", self.websocket_url)

    async def stop(self) -> None:
        """Close every connection (each gets $disconnect), then the server."""
        self._stopping = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for connection in list(self._connections.values()):
            self._close_connection(connection, *GOING_AWAY)
        deadline = CLOSE_HANDSHAKE_SECONDS + self.config.handler_timeout_seconds
        try:
            await asyncio.wait_for(self._sockets_closed.wait(), deadline)
        except TimeoutError:
            logger.warning("gateway stop: %d connections did not close in time", self._open_sockets)
        if self._background:
            await asyncio.wait(set(self._background), timeout=self.config.handler_timeout_seconds)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._handlers.shutdown()
        for key, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_environment = {}

    def _bind_handlers(self) -> None:
        config = self.config

        def bind(route_key: str, reference: Any) -> BoundHandler:
            return BoundHandler(
                handler=resolve_handler(reference, route_key=route_key),
                function_name=function_name_for(reference),
                region=config.region,
                account_id=config.account_id,
                timeout_seconds=config.timeout_for(route_key),
            )

        self._routes = {key: bind(key, reference) for key, reference in config.routes.items()}
        if config.authorizer is not None:
            self._authorizer = bind("authorizer", config.authorizer)

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- $connect ------------------------------------------------------------------------------

    async def _handle_upgrade(self, request: web.Request) -> web.StreamResponse:
        # Two steps so that nothing of the upgrade (headers, events) stays referenced by the
        # coroutine frame that lives as long as the connection.
        opened = await self._open_connection(request)
        if isinstance(opened, web.Response):
            return opened
        await self._serve_connection(opened)
        return opened.websocket

    async def _open_connection(self, request: web.Request) -> Connection | web.Response:
        """Authorizer, $connect, upgrade: the live connection, or the refusal to send."""
        started = time.monotonic()
        ids = RequestIds.new()
        connection_id = new_aws_id()
        identity = Identity(
            source_ip=request.remote or "", user_agent=request.headers.get("User-Agent", "")
        )
        admitted = await self._admit(request, connection_id, identity, ids)
        refusal: ConnectRefusal | None = admitted if isinstance(admitted, ConnectRefusal) else None
        if isinstance(admitted, Connection):
            if self._stopping:
                # stop() already closed every connection: this one must not outlive it, and
                # the $connect integration that just stored it hears $disconnect.
                refusal = ConnectRefusal(503, "Service Unavailable", "gateway stopping")
                await self._finish_unopened(admitted, GOING_AWAY)
            else:
                refusal = await self._upgrade(request, admitted)
        log_access(
            requestId=ids.request_id,
            ip=identity.source_ip,
            requestTime=ids.request_time,
            routeKey="$connect",
            eventType="CONNECT",
            connectionId=connection_id,
            status=refusal.status if refusal else 200,
            error=refusal.error if refusal else None,
            responseLatency=_elapsed_ms(started),
        )
        if refusal is not None:
            return refusal.response()
        assert isinstance(admitted, Connection)
        return admitted

    async def _admit(
        self, request: web.Request, connection_id: str, identity: Identity, ids: RequestIds
    ) -> Connection | ConnectRefusal:
        """The checks before the upgrade: handshake, authorizer, $connect integration."""
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return ConnectRefusal(426, "Upgrade Required", "not a WebSocket upgrade request")
        websocket = _new_websocket(())
        # A malformed handshake is refused before any handler runs, as API Gateway's edge does.
        if not websocket.can_prepare(request).ok:
            return ConnectRefusal(400, "Bad Request", "malformed WebSocket handshake")
        upgrade = UpgradeRequest.from_http(
            request.headers, request.query, source_ip=identity.source_ip, port=self.port
        )

        def context(authorizer: dict[str, Any] | None) -> dict[str, Any]:
            return request_context(
                self.config,
                route_key="$connect",
                event_type="CONNECT",
                connection_id=connection_id,
                connected_at=ids.request_time_epoch,
                identity=identity,
                ids=ids,
                authorizer=authorizer,
            )

        authorizer_context: dict[str, Any] | None = None
        if self._authorizer is not None:
            verdict = await self._authorize(self._authorizer, upgrade, context(None))
            if verdict.status != 200:
                message = {401: "Unauthorized", 403: "Forbidden"}.get(
                    verdict.status, "Internal server error"
                )
                return ConnectRefusal(verdict.status, message, verdict.error or "")
            authorizer_context = verdict.context
        connect_handler = self._routes.get("$connect")
        if connect_handler is not None:
            outcome = await self._run_connect_route(
                connect_handler, connect_event(upgrade, context(authorizer_context))
            )
            if isinstance(outcome, ConnectRefusal):
                return outcome
            if outcome:
                websocket = _new_websocket(outcome)
        return Connection(
            connection_id, websocket, identity, authorizer_context, ids.request_time_epoch
        )

    async def _upgrade(self, request: web.Request, connection: Connection) -> ConnectRefusal | None:
        """Answer 101 and register the connection; None once it is live."""
        try:
            await connection.websocket.prepare(request)
        except ConnectionError:
            # The client left while $connect ran: that integration may have stored the
            # connection, so $disconnect must still tell it the connection is gone. The
            # refusal is never read; aiohttp drops it quietly on the closed transport.
            await self._finish_unopened(connection, ABNORMAL)
            return ConnectRefusal(410, None, "client left before the upgrade completed")
        _guard_frame_size(request, connection.websocket)
        self._connections[connection.connection_id] = connection
        self._open_sockets += 1
        self._sockets_closed.clear()
        return None

    async def _serve_connection(self, connection: Connection) -> None:
        try:
            status_code, reason = await self._read_messages(connection)
        finally:
            self._connections.pop(connection.connection_id, None)
        await self._finish_connection(connection, status_code, reason)

    async def _finish_unopened(self, connection: Connection, cause: tuple[int, str]) -> None:
        """$disconnect for a connection whose $connect succeeded but whose upgrade never happened."""
        self._open_sockets += 1
        self._sockets_closed.clear()
        await self._finish_connection(connection, *cause)

    async def _finish_connection(
        self, connection: Connection, status_code: int, reason: str
    ) -> None:
        try:
            await self._run_disconnect(connection, status_code, reason)
        finally:
            self._open_sockets -= 1
            if self._open_sockets == 0:
                self._sockets_closed.set()

    async def _run_connect_route(
        self, handler: BoundHandler, event: dict[str, Any]
    ) -> ConnectRefusal | tuple[str, ...]:
        """The subprotocol the $connect integration chose, or why it refused the upgrade."""
        try:
            response = await self._handlers.invoke(handler, event)
        except HandlerTimeoutError as error:
            return ConnectRefusal(504, "Endpoint request timed out", str(error))
        except Exception as error:
            logger.exception(
                "$connect handler failed for %s", event["requestContext"]["connectionId"]
            )
            return ConnectRefusal(500, "Internal server error", f"{type(error).__name__}: {error}")
        status = _status_code(response)
        if not 200 <= status < 300:
            body = response.get("body") if isinstance(response, dict) else None
            return ConnectRefusal(
                status,
                None,
                "$connect integration refused the connection",
                body if isinstance(body, str) else "",
            )
        return _selected_subprotocol(response)

    async def _authorize(
        self, authorizer: BoundHandler, upgrade: UpgradeRequest, context: dict[str, Any]
    ) -> AuthorizerVerdict:
        if not identity_sources_present(self.config.identity_sources, upgrade):
            return AuthorizerVerdict(status=401, error="identity source missing")
        started = time.monotonic()
        try:
            response = await self._handlers.invoke(
                authorizer, authorizer_event(self.config, upgrade, context)
            )
        except HandlerTimeoutError as error:
            return AuthorizerVerdict(status=500, error=str(error))
        except Exception as error:
            verdict = verdict_from_exception(error)
            if verdict.status == 500:
                logger.exception("authorizer failed for %s", context["connectionId"])
            return verdict
        return verdict_from_response(response, method_arn(self.config), _elapsed_ms(started))

    # -- messages -------------------------------------------------------------------------------

    async def _read_messages(self, connection: Connection) -> tuple[int, str]:
        """Serve the client's frames until the connection closes; its close code and reason."""
        websocket = connection.websocket
        while True:
            message = await websocket.receive()
            if message.type is WSMsgType.TEXT:
                connection.touch()
                self._spawn(self._dispatch(connection, message.data))
                continue
            if message.type is WSMsgType.BINARY:
                # API Gateway does not accept binary frames from clients: it closes with 1003.
                # https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-binary-media-types.html
                cause = (int(WSCloseCode.UNSUPPORTED_DATA), "Binary frames are not supported")
                if connection.close_cause is None:
                    connection.close_cause = cause
                    await websocket.close(code=cause[0], message=cause[1].encode())
            elif message.type is WSMsgType.ERROR and connection.close_cause is None:
                error = message.data
                if isinstance(error, WebSocketError) and error.code == WSCloseCode.MESSAGE_TOO_BIG:
                    connection.close_cause = (int(WSCloseCode.MESSAGE_TOO_BIG), "Message too big")
                else:
                    connection.close_cause = ABNORMAL
            elif message.type is WSMsgType.CLOSE and connection.close_cause is None:
                connection.close_cause = _client_close_cause(message.data, message.extra)
            return connection.close_cause or _client_close_cause(websocket.close_code, "")

    async def _dispatch(self, connection: Connection, body: str) -> None:
        started = time.monotonic()
        ids = RequestIds.new()
        message_id = new_aws_id()
        route_key = select_route(body, self._selection_path, self._routes)
        log_fields: dict[str, Any] = {
            "requestId": ids.request_id,
            "ip": connection.identity.source_ip,
            "requestTime": ids.request_time,
            "routeKey": route_key or "$default",
            "eventType": "MESSAGE",
            "connectionId": connection.connection_id,
            "messageId": message_id,
        }
        if route_key is None:
            # No route and no $default: API Gateway answers with this frame.
            await self._send_error_frame(connection, "Forbidden", ids)
            log_access(
                **log_fields,
                status=403,
                error="no route matches and there is no $default",
                responseLatency=_elapsed_ms(started),
            )
            return
        context = request_context(
            self.config,
            route_key=route_key,
            event_type="MESSAGE",
            connection_id=connection.connection_id,
            connected_at=connection.connected_at,
            identity=connection.identity,
            ids=ids,
            authorizer=connection.authorizer,
        )
        event = message_event(context, message_id, body)
        try:
            response = await self._handlers.invoke(self._routes[route_key], event)
            # A body that cannot be sent (not JSON-serialisable) is the integration's error too.
            reply = _route_response_body(response)
        except HandlerTimeoutError as error:
            await self._send_error_frame(connection, "Endpoint request timed out", ids)
            log_access(
                **log_fields, status=504, error=str(error), responseLatency=_elapsed_ms(started)
            )
            return
        except Exception as error:
            logger.exception("%s handler failed for %s", route_key, connection.connection_id)
            await self._send_error_frame(connection, "Internal server error", ids)
            log_access(
                **log_fields,
                status=500,
                error=f"{type(error).__name__}: {error}",
                responseLatency=_elapsed_ms(started),
            )
            return
        if reply is not None:
            await _send_text(connection, reply)
        log_access(
            **log_fields, status=_status_code(response), responseLatency=_elapsed_ms(started)
        )

    async def _send_error_frame(
        self, connection: Connection, message: str, ids: RequestIds
    ) -> None:
        frame = {
            "message": message,
            "connectionId": connection.connection_id,
            "requestId": ids.request_id,
        }
        await _send_text(connection, json.dumps(frame))

    # -- closing --------------------------------------------------------------------------------

    def _close_connection(self, connection: Connection, code: int, reason: str) -> None:
        """Start a server-side close; the read loop then runs $disconnect with this cause."""
        if connection.close_cause is not None:
            return
        connection.close_cause = (code, reason)
        self._spawn(connection.websocket.close(code=code, message=reason.encode()))

    async def _enforce_time_limits(self) -> None:
        """One sweep for all connections (no timer per connection): idle and maximum duration."""
        idle = self.config.idle_timeout_seconds
        maximum = self.config.max_duration_seconds
        interval = max(0.01, min(1.0, idle / 4, maximum / 4))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for connection in list(self._connections.values()):
                if connection.close_cause is not None:
                    continue
                if (
                    now - connection.connected_monotonic >= maximum
                    or now - connection.last_active_monotonic >= idle
                ):
                    self._close_connection(connection, *GOING_AWAY)

    async def _run_disconnect(self, connection: Connection, status_code: int, reason: str) -> None:
        started = time.monotonic()
        ids = RequestIds.new()
        status = 200
        error: str | None = None
        handler = self._routes.get("$disconnect")
        if handler is not None:
            context = request_context(
                self.config,
                route_key="$disconnect",
                event_type="DISCONNECT",
                connection_id=connection.connection_id,
                connected_at=connection.connected_at,
                identity=connection.identity,
                ids=ids,
                authorizer=connection.authorizer,
            )
            try:
                response = await self._handlers.invoke(
                    handler, disconnect_event(self.config, context, status_code, reason)
                )
                status = _status_code(response)
            except HandlerTimeoutError as timeout:
                status, error = 504, str(timeout)
            except Exception as failure:
                logger.exception("$disconnect handler failed for %s", connection.connection_id)
                status, error = 500, f"{type(failure).__name__}: {failure}"
        log_access(
            requestId=ids.request_id,
            ip=connection.identity.source_ip,
            requestTime=ids.request_time,
            routeKey="$disconnect",
            eventType="DISCONNECT",
            connectionId=connection.connection_id,
            status=status,
            disconnectStatusCode=status_code,
            disconnectReason=reason,
            error=error,
            responseLatency=_elapsed_ms(started),
        )


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _status_code(response: Any) -> int:
    """A Lambda proxy response's statusCode; a handler that returns none counts as 200."""
    if isinstance(response, dict):
        status = response.get("statusCode")
        if isinstance(status, int) and not isinstance(status, bool):
            return status
    return 200


def _route_response_body(response: Any) -> str | None:
    if not isinstance(response, dict) or "body" not in response or response["body"] is None:
        return None
    body = response["body"]
    return body if isinstance(body, str) else json.dumps(body)


def _selected_subprotocol(response: Any) -> tuple[str, ...]:
    """$connect may pick the subprotocol by returning a Sec-WebSocket-Protocol header."""
    headers = response.get("headers") if isinstance(response, dict) else None
    if isinstance(headers, dict):
        for name, value in headers.items():
            if name.lower() == "sec-websocket-protocol" and isinstance(value, str):
                return (value,)
    return ()


def _client_close_cause(code: Any, reason: Any) -> tuple[int, str]:
    if not isinstance(code, int) or code in (0, 1005):
        return 1005, "Client-side close frame status not set"
    if code == int(WSCloseCode.ABNORMAL_CLOSURE):
        return code, "Connection closed abnormally"
    return code, reason if isinstance(reason, str) else ""


async def _send_text(connection: Connection, text: str) -> bool:
    if not connection.is_open:
        return False
    try:
        await connection.websocket.send_str(text)
    except ConnectionError:
        return False
    return True


def _new_websocket(protocols: tuple[str, ...]) -> web.WebSocketResponse:
    return web.WebSocketResponse(
        protocols=protocols,
        # API Gateway negotiates no permessage-deflate; no compressor per connection either.
        compress=False,
        max_msg_size=MAX_MESSAGE_BYTES + 1,
        timeout=CLOSE_HANDSHAKE_SECONDS,
    )


def _guard_frame_size(request: web.Request, websocket: web.WebSocketResponse) -> None:
    # aiohttp has no per-frame limit and no public hook: wrap the parser it just installed,
    # failing into the message queue its receive() reads (both private, pinned by the tests).
    protocol = request.protocol
    parser = getattr(protocol, "_payload_parser", None)
    queue = getattr(websocket, "_reader", None)
    if parser is None or queue is None:
        logger.warning("aiohttp internals changed: the 32 KB frame quota is not enforced")
        return
    protocol._payload_parser = FrameSizeGuard(parser, queue)
