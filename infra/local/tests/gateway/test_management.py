"""The @connections management API through real boto3 and aiobotocore clients."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import aiohttp
import boto3
import botocore.exceptions
import pytest
import websockets
from aiobotocore.session import get_session
from sumu_local.gateway import Gateway, GatewayConfig
from websockets.exceptions import ConnectionClosed
from yarl import URL

CREDENTIALS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}


def boto3_client(gateway: Gateway) -> Any:
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=gateway.management_url, **CREDENTIALS
    )


async def connected(gateway: Gateway, user_agent: str = "mgmt-test/1") -> Any:
    return await websockets.connect(
        f"{gateway.websocket_url}?authorization=t", ping_interval=None, user_agent_header=user_agent
    )


def test_boto3_post_get_delete(run_gateway: Any, base_config: GatewayConfig, recorder: Any) -> None:
    # GIVEN a connected client
    async def scenario(gateway: Gateway) -> dict[str, Any]:
        async with await connected(gateway) as client:
            (connection_id,) = gateway.connection_ids()
            management = boto3_client(gateway)
            # WHEN a backend posts to it, reads it, then deletes it
            await asyncio.to_thread(
                management.post_to_connection, ConnectionId=connection_id, Data=b'{"data": 1}'
            )
            received = await asyncio.wait_for(client.recv(), 5)
            await client.send('{"action": "echo"}')
            await client.recv()
            info = await asyncio.to_thread(management.get_connection, ConnectionId=connection_id)
            deleted = await asyncio.to_thread(
                management.delete_connection, ConnectionId=connection_id
            )
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(client.recv(), 5)
            return {
                "received": received,
                "info": info,
                "deleted": deleted,
                "closed": closed.value.rcvd,
            }

    result = run_gateway(base_config, scenario)
    # THEN the client got the data as a text frame
    assert result["received"] == '{"data": 1}'
    # AND GetConnection parses like AWS's answer
    info = result["info"]
    assert info["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "mgmt-test/1"}
    assert isinstance(info["ConnectedAt"], datetime)
    assert info["LastActiveAt"] >= info["ConnectedAt"]
    assert abs((datetime.now(UTC) - info["ConnectedAt"]).total_seconds()) < 30
    # AND DeleteConnection is a 204 that closes the socket
    assert result["deleted"]["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert result["closed"].code == 1000


def test_boto3_gone_for_unknown_and_closed_connections(
    run_gateway: Any, base_config: GatewayConfig
) -> None:
    async def scenario(gateway: Gateway) -> list[dict[str, Any]]:
        management = boto3_client(gateway)
        async with await connected(gateway):
            (connection_id,) = gateway.connection_ids()
        await asyncio.sleep(0.1)
        errors = []
        calls: list[tuple[Any, dict[str, Any]]] = [
            (management.post_to_connection, {"ConnectionId": "L0SM9cOFvHcCIhw=", "Data": b"x"}),
            (management.get_connection, {"ConnectionId": "L0SM9cOFvHcCIhw="}),
            (management.delete_connection, {"ConnectionId": "L0SM9cOFvHcCIhw="}),
            (management.post_to_connection, {"ConnectionId": connection_id, "Data": b"x"}),
            (management.get_connection, {"ConnectionId": connection_id}),
        ]
        for call, arguments in calls:
            with pytest.raises(management.exceptions.GoneException) as gone:
                await asyncio.to_thread(call, **arguments)
            errors.append(gone.value.response)
        return errors

    for response in run_gateway(base_config, scenario):
        assert response["Error"]["Code"] == "GoneException"
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_boto3_payload_over_128_kb_is_413(run_gateway: Any, base_config: GatewayConfig) -> None:
    async def scenario(gateway: Gateway) -> tuple[Any, str]:
        async with await connected(gateway) as client:
            (connection_id,) = gateway.connection_ids()
            management = boto3_client(gateway)
            with pytest.raises(botocore.exceptions.ClientError) as too_large:
                await asyncio.to_thread(
                    management.post_to_connection,
                    ConnectionId=connection_id,
                    Data=b"x" * (128 * 1024 + 1),
                )
            # exactly 128 KB is still accepted
            await asyncio.to_thread(
                management.post_to_connection, ConnectionId=connection_id, Data=b"y" * (128 * 1024)
            )
            return too_large.value.response, await asyncio.wait_for(client.recv(), 5)

    response, delivered = run_gateway(base_config, scenario)
    assert response["Error"]["Code"] == "PayloadTooLargeException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert len(delivered) == 128 * 1024


def test_aiobotocore_post_get_delete_and_gone(run_gateway: Any, base_config: GatewayConfig) -> None:
    async def scenario(gateway: Gateway) -> tuple[Any, ...]:
        session = get_session()
        async with (
            session.create_client(
                "apigatewaymanagementapi", endpoint_url=gateway.management_url, **CREDENTIALS
            ) as management,
            await connected(gateway) as client,
        ):
            (connection_id,) = gateway.connection_ids()
            await management.post_to_connection(
                ConnectionId=connection_id, Data=b"from aiobotocore"
            )
            received = await asyncio.wait_for(client.recv(), 5)
            info = await management.get_connection(ConnectionId=connection_id)
            await management.delete_connection(ConnectionId=connection_id)
            with pytest.raises(management.exceptions.GoneException):
                await management.post_to_connection(ConnectionId=connection_id, Data=b"late")
            return received, info["Identity"]["SourceIp"]

    assert run_gateway(base_config, scenario) == ("from aiobotocore", "127.0.0.1")


@pytest.mark.parametrize(
    "encode", [urllib.parse.quote, lambda value: value], ids=["percent-encoded", "raw"]
)
def test_connection_ids_are_url_decoded(
    run_gateway: Any, base_config: GatewayConfig, encode: Any
) -> None:
    # SDKs send `=` as %3D; curl users send it raw. Both must reach the same connection.
    async def scenario(gateway: Gateway) -> tuple[int, str]:
        async with await connected(gateway) as client, aiohttp.ClientSession() as session:
            (connection_id,) = gateway.connection_ids()
            url = f"{gateway.management_url}/@connections/{encode(connection_id)}"
            async with session.post(URL(url, encoded=True), data=b"hi") as response:
                status = response.status
            return status, await asyncio.wait_for(client.recv(), 5)

    assert run_gateway(base_config, scenario) == (200, "hi")


def test_gone_body_and_error_header_are_what_botocore_reads(
    run_gateway: Any, base_config: GatewayConfig
) -> None:
    async def scenario(gateway: Gateway) -> tuple[int, str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{gateway.management_url}/@connections/nope%3D", data=b"x") as response,
        ):
            return (
                response.status,
                response.headers["x-amzn-ErrorType"],
                json.loads(await response.text()),
            )

    assert run_gateway(base_config, scenario) == (410, "GoneException", {"message": None})


def test_post_during_connect_is_gone(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    # AWS: a connection does not exist for the management API until $connect has returned.
    statuses: list[int] = []

    def connect_then_post(event: Any, context: Any) -> Any:
        management = boto3.client(
            "apigatewaymanagementapi", endpoint_url=endpoint[0], **CREDENTIALS
        )
        try:
            management.post_to_connection(
                ConnectionId=event["requestContext"]["connectionId"], Data=b"early"
            )
        except management.exceptions.GoneException:
            statuses.append(410)
        return {"statusCode": 200}

    endpoint: list[str] = []

    async def scenario(gateway: Gateway) -> None:
        endpoint.append(gateway.management_url)
        async with await connected(gateway):
            pass

    routes = {**base_config.routes, "$connect": connect_then_post}
    run_gateway(base_config, scenario, routes=routes)
    assert statuses == [410]


def test_sigv4_headers_are_accepted_not_required(
    run_gateway: Any, base_config: GatewayConfig
) -> None:
    async def scenario(gateway: Gateway) -> list[int]:
        async with await connected(gateway), aiohttp.ClientSession() as session:
            (connection_id,) = gateway.connection_ids()
            url = f"{gateway.management_url}/@connections/{urllib.parse.quote(connection_id)}"
            statuses = []
            async with session.get(url) as unsigned:
                statuses.append(unsigned.status)
            headers = {
                "Authorization": "AWS4-HMAC-SHA256 Credential=garbage",
                "X-Amz-Date": "20261127T000000Z",
            }
            async with session.get(url, headers=headers) as signed:
                statuses.append(signed.status)
            return statuses

    assert run_gateway(base_config, scenario) == [200, 200]
