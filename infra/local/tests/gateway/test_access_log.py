"""Structured access log: one JSON line per connect, message, disconnect and management call."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import boto3
import pytest
import websockets
from sumu_local.gateway import Gateway, GatewayConfig
from websockets.exceptions import InvalidStatus

CREDENTIALS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}


def test_one_json_line_per_event_with_status_and_latency(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sumu_local.gateway.access")

    async def scenario(gateway: Gateway) -> str:
        with pytest.raises(InvalidStatus):
            async with websockets.connect(gateway.websocket_url):
                pass
        client = await websockets.connect(f"{gateway.websocket_url}?authorization=t")
        connection_id = gateway.connection_ids()[0]
        await client.send('{"action": "echo"}')
        await client.recv()
        management = boto3.client(
            "apigatewaymanagementapi", endpoint_url=gateway.management_url, **CREDENTIALS
        )
        await asyncio.to_thread(
            management.post_to_connection, ConnectionId=connection_id, Data=b"x"
        )
        await client.recv()
        await client.close()
        await recorder.wait_for("$disconnect")
        return connection_id

    connection_id = run_gateway(base_config, scenario)
    lines = [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "sumu_local.gateway.access"
    ]
    for line in lines:
        assert isinstance(line["status"], int)
        assert isinstance(line["responseLatency"], int)
        assert line["requestId"]
        assert line["requestTime"]
    refused, connected, message, posted, disconnected = lines
    assert (refused["eventType"], refused["status"]) == ("CONNECT", 401)
    assert refused["error"] == "identity source missing"
    assert (connected["eventType"], connected["routeKey"], connected["status"]) == (
        "CONNECT",
        "$connect",
        200,
    )
    assert (message["eventType"], message["routeKey"], message["status"]) == (
        "MESSAGE",
        "echo",
        200,
    )
    assert message["messageId"]
    assert (posted["httpMethod"], posted["status"], posted["connectionId"]) == (
        "POST",
        200,
        connection_id,
    )
    assert (disconnected["eventType"], disconnected["disconnectStatusCode"]) == ("DISCONNECT", 1000)
    assert {connected["connectionId"], message["connectionId"], disconnected["connectionId"]} == {
        connection_id
    }
