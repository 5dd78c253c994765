"""$disconnect after every way a connection ends, with disconnectStatusCode / disconnectReason."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from dataclasses import replace
from typing import Any

import boto3
import pytest
import websockets
from sumu_local.gateway import Gateway, GatewayConfig
from websockets.exceptions import ConnectionClosed, InvalidStatus

CREDENTIALS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}


async def connected(gateway: Gateway) -> Any:
    return await websockets.connect(f"{gateway.websocket_url}?authorization=t", ping_interval=None)


async def wait_for_disconnect(recorder: Any) -> dict[str, Any]:
    (event,) = await recorder.wait_for("$disconnect")
    return dict(event)


def disconnect_cause(event: dict[str, Any]) -> tuple[int, str]:
    context = event["requestContext"]
    return context["disconnectStatusCode"], context["disconnectReason"]


def test_client_close_with_code_and_reason(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> tuple[dict[str, Any], list[str]]:
        client = await connected(gateway)
        connection_id = gateway.connection_ids()[0]
        await client.close(code=4001, reason="user logged out")
        event = await wait_for_disconnect(recorder)
        assert event["requestContext"]["connectionId"] == connection_id
        return event, gateway.connection_ids()

    event, live = run_gateway(base_config, scenario)
    assert disconnect_cause(event) == (4001, "user logged out")
    assert live == []
    context = event["requestContext"]
    assert context["routeKey"] == "$disconnect"
    assert context["eventType"] == "DISCONNECT"
    assert context["authorizer"]["principalId"] == "user-1"
    assert context["authorizer"]["user_id"] == "user-1"
    assert "messageId" not in context
    assert event["isBase64Encoded"] is False
    assert event["headers"]["Host"] == "local.execute-api.us-east-1.amazonaws.com"


def test_client_close_without_status(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    # A close frame with no payload, written by hand (client libraries always add a code).
    async def scenario(gateway: Gateway) -> dict[str, Any]:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(
            b"GET /mvp?authorization=t HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        await reader.readuntil(b"\r\n\r\n")
        writer.write(bytes([0x88, 0x80]) + struct.pack("!I", 0))  # FIN+close, masked, empty
        await writer.drain()
        event = await wait_for_disconnect(recorder)
        writer.close()
        return event

    assert disconnect_cause(run_gateway(base_config, scenario)) == (
        1005,
        "Client-side close frame status not set",
    )


def test_abrupt_tcp_drop(run_gateway: Any, base_config: GatewayConfig, recorder: Any) -> None:
    async def scenario(gateway: Gateway) -> dict[str, Any]:
        client = await connected(gateway)
        raw = client.transport.get_extra_info("socket")
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.transport.abort()
        return await wait_for_disconnect(recorder)

    assert disconnect_cause(run_gateway(base_config, scenario))[0] == 1006


def test_management_delete(run_gateway: Any, base_config: GatewayConfig, recorder: Any) -> None:
    async def scenario(gateway: Gateway) -> tuple[Any, dict[str, Any]]:
        client = await connected(gateway)
        management = boto3.client(
            "apigatewaymanagementapi", endpoint_url=gateway.management_url, **CREDENTIALS
        )
        await asyncio.to_thread(
            management.delete_connection, ConnectionId=gateway.connection_ids()[0]
        )
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(client.recv(), 5)
        return closed.value.rcvd, await wait_for_disconnect(recorder)

    close_frame, event = run_gateway(base_config, scenario)
    assert (close_frame.code, close_frame.reason) == (1000, "Connection deleted")
    assert disconnect_cause(event) == (1000, "Connection deleted")


def test_idle_timeout(run_gateway: Any, base_config: GatewayConfig, recorder: Any) -> None:
    # GIVEN a 0.3 s idle timeout
    async def scenario(gateway: Gateway) -> tuple[Any, float, dict[str, Any]]:
        client = await connected(gateway)
        started = time.monotonic()
        # WHEN the client says nothing
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(client.recv(), 5)
        return closed.value.rcvd, time.monotonic() - started, await wait_for_disconnect(recorder)

    close_frame, elapsed, event = run_gateway(base_config, scenario, idle_timeout_seconds=0.3)
    # THEN it is closed "Going away" after about the timeout, and $disconnect says so
    assert close_frame.code == 1001
    assert 0.25 <= elapsed < 4.0
    assert disconnect_cause(event) == (1001, "Going away")


def test_messages_keep_a_connection_from_idling(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> list[str]:
        async with await connected(gateway) as client:
            for _ in range(12):
                await client.send('{"action": "echo"}')
                await client.recv()
                await asyncio.sleep(0.15)
            return gateway.connection_ids()

    # 12 gaps of 0.15 s last well past the 0.75 s idle timeout; no single gap reaches it
    assert len(run_gateway(base_config, scenario, idle_timeout_seconds=0.75)) == 1
    assert recorder.events("$disconnect") != []  # closed by the client at the end, not before


def test_maximum_duration_closes_even_an_active_connection(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> tuple[Any, float, dict[str, Any]]:
        client = await connected(gateway)
        started = time.monotonic()
        closed: ConnectionClosed | None = None
        for _ in range(100):
            try:
                await client.send('{"action": "echo"}')
                await asyncio.wait_for(client.recv(), 5)
            except ConnectionClosed as error:
                closed = error
                break
            await asyncio.sleep(0.05)
        assert closed is not None
        return closed.rcvd, time.monotonic() - started, await wait_for_disconnect(recorder)

    close_frame, elapsed, event = run_gateway(
        base_config, scenario, idle_timeout_seconds=10.0, max_duration_seconds=0.5
    )
    assert close_frame.code == 1001
    assert 0.4 <= elapsed < 5.0
    assert disconnect_cause(event) == (1001, "Going away")


def test_stop_disconnects_every_connection(base_config: GatewayConfig, recorder: Any) -> None:
    async def main() -> list[Any]:
        gateway = Gateway(base_config)
        await gateway.start()
        clients = [await connected(gateway) for _ in range(3)]
        await gateway.stop()
        codes = []
        for client in clients:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(client.recv(), 5)
            assert closed.value.rcvd is not None
            codes.append(closed.value.rcvd.code)
        return codes

    assert asyncio.run(main()) == [1001, 1001, 1001]
    assert len(recorder.events("$disconnect")) == 3


def test_disconnect_handler_crash_is_logged_and_harmless(
    run_gateway: Any, base_config: GatewayConfig, caplog: pytest.LogCaptureFixture
) -> None:
    def crash(event: Any, context: Any) -> Any:
        raise RuntimeError("cleanup failed")

    async def scenario(gateway: Gateway) -> str:
        client = await connected(gateway)
        await client.close()
        deadline = time.monotonic() + 5
        while not any("$disconnect handler failed" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        async with await connected(gateway) as again:
            await again.send('{"action": "echo", "ok": 1}')
            return str(await asyncio.wait_for(again.recv(), 5))

    routes = {**base_config.routes, "$disconnect": crash}
    assert run_gateway(base_config, scenario, routes=routes) == '{"action": "echo", "ok": 1}'


def test_management_posts_keep_a_quiet_client_from_idling(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    # API Gateway counts messages both ways: a backend keep-alive holds a silent client open.
    async def scenario(gateway: Gateway) -> int:
        async with await connected(gateway) as client:
            management = boto3.client(
                "apigatewaymanagementapi", endpoint_url=gateway.management_url, **CREDENTIALS
            )
            for _ in range(10):
                await asyncio.to_thread(
                    management.post_to_connection,
                    ConnectionId=gateway.connection_ids()[0],
                    Data=b"keep-alive",
                )
                await asyncio.wait_for(client.recv(), 5)
                await asyncio.sleep(0.15)
            return len(recorder.events("$disconnect"))

    assert run_gateway(base_config, scenario, idle_timeout_seconds=0.75) == 0


def test_connect_finishing_after_stop_is_refused_and_disconnected(
    base_config: GatewayConfig, recorder: Any
) -> None:
    # GIVEN a $connect still running when stop() begins
    def slow_connect(event: Any) -> Any:
        time.sleep(0.4)
        return {"statusCode": 200}

    async def main() -> tuple[int, list[dict[str, Any]]]:
        routes = {**base_config.routes, "$connect": recorder.handler("$connect", slow_connect)}
        gateway = Gateway(replace(base_config, routes=routes))
        await gateway.start()
        attempt = asyncio.create_task(connected(gateway))
        await recorder.wait_for("$connect")
        await gateway.stop()
        with pytest.raises(InvalidStatus) as refused:
            await attempt
        return refused.value.response.status_code, recorder.events("$disconnect")

    # THEN the late upgrade is refused and its $connect is balanced by a $disconnect
    status, disconnects = asyncio.run(main())
    assert status == 503
    assert [disconnect_cause(event) for event in disconnects] == [(1001, "Going away")]
