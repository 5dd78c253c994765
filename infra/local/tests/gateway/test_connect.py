"""$connect: the REQUEST authorizer's outcomes, the $connect integration, the events they get."""

from __future__ import annotations

import asyncio
import re
import socket
import struct
import time
from typing import Any

import aiohttp
import pytest
import websockets
from sumu_local.gateway import Gateway, GatewayConfig
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

AWS_ID = re.compile(r"^[A-Za-z0-9]{15}=$")
REQUEST_TIME = re.compile(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")


async def refused_status(url: str, **kwargs: Any) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(url, **kwargs):
            pass
    return refused.value.response.status_code


def test_allowed_connection_gets_aws_events(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    # GIVEN a gateway with an allowing authorizer and a $connect route
    async def scenario(gateway: Gateway) -> None:
        # WHEN a client connects with a token in the query string and custom headers
        url = f"{gateway.websocket_url}?authorization=token-1&tag=a&tag=b"
        async with websockets.connect(
            url, additional_headers={"X-Client": "c1"}, user_agent_header="test-agent/1"
        ):
            assert len(gateway.connection_ids()) == 1

    run_gateway(base_config, scenario)

    # THEN the authorizer got API Gateway's REQUEST event for the $connect method ARN
    (authorizer_event,) = recorder.events("authorizer")
    assert authorizer_event["type"] == "REQUEST"
    assert (
        authorizer_event["methodArn"]
        == "arn:aws:execute-api:us-east-1:123456789012:local/mvp/$connect"
    )
    assert authorizer_event["queryStringParameters"] == {"authorization": "token-1", "tag": "b"}
    assert authorizer_event["multiValueQueryStringParameters"] == {
        "authorization": ["token-1"],
        "tag": ["a", "b"],
    }
    assert authorizer_event["headers"]["X-Client"] == "c1"
    assert authorizer_event["multiValueHeaders"]["X-Client"] == ["c1"]
    assert authorizer_event["requestContext"]["routeKey"] == "$connect"
    assert "authorizer" not in authorizer_event["requestContext"]
    # AND $connect got the upgrade request and the authorizer's context, stringified like AWS
    (connect_event,) = recorder.events("$connect")
    assert connect_event["isBase64Encoded"] is False
    assert connect_event["queryStringParameters"]["authorization"] == "token-1"
    assert connect_event["multiValueQueryStringParameters"]["tag"] == ["a", "b"]
    assert connect_event["headers"]["User-Agent"] == "test-agent/1"
    assert connect_event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    context = connect_event["requestContext"]
    assert context["routeKey"] == "$connect"
    assert context["eventType"] == "CONNECT"
    assert AWS_ID.match(context["connectionId"])
    assert AWS_ID.match(context["requestId"])
    assert context["extendedRequestId"] == context["requestId"]
    assert REQUEST_TIME.match(context["requestTime"])
    assert isinstance(context["requestTimeEpoch"], int)
    assert context["connectedAt"] == context["requestTimeEpoch"]
    assert context["stage"] == "mvp"
    assert context["apiId"] == "local"
    assert context["domainName"] == "local.execute-api.us-east-1.amazonaws.com"
    assert context["messageDirection"] == "IN"
    assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "test-agent/1"}
    authorizer = context["authorizer"]
    assert authorizer["principalId"] == "user-1"
    assert authorizer["user_id"] == "user-1"
    assert authorizer["admin"] == "true"
    assert authorizer["level"] == "3"
    assert isinstance(authorizer["integrationLatency"], int)
    assert "messageId" not in context


def test_missing_identity_source_is_401_without_calling_the_authorizer(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> int:
        return await refused_status(gateway.websocket_url)

    assert run_gateway(base_config, scenario) == 401
    assert recorder.events("authorizer") == []
    assert recorder.events("$connect") == []


def test_empty_identity_source_is_401(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> int:
        return await refused_status(f"{gateway.websocket_url}?authorization=")

    assert run_gateway(base_config, scenario) == 401
    assert recorder.events("authorizer") == []


def test_header_identity_source(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> int:
        async with websockets.connect(
            gateway.websocket_url, additional_headers={"authorization": "Bearer x"}
        ):
            pass
        return await refused_status(gateway.websocket_url)

    status = run_gateway(
        base_config, scenario, identity_sources=("route.request.header.Authorization",)
    )
    assert status == 401
    assert len(recorder.events("authorizer")) == 1


def test_no_identity_sources_always_calls_the_authorizer(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> None:
        async with websockets.connect(gateway.websocket_url):
            pass

    run_gateway(base_config, scenario, identity_sources=())
    assert len(recorder.events("authorizer")) == 1


def raise_unauthorized(event: Any, context: Any) -> Any:
    raise Exception("Unauthorized")


def raise_bug(event: Any, context: Any) -> Any:
    raise KeyError("kid")


def deny(event: Any, context: Any) -> Any:
    policy = allow_policy_for(event)
    policy["policyDocument"]["Statement"][0]["Effect"] = "Deny"
    return policy


def allow_other_arn(event: Any, context: Any) -> Any:
    policy = allow_policy_for(event)
    policy["policyDocument"]["Statement"][0]["Resource"] = (
        "arn:aws:execute-api:us-east-1:123456789012:other/*"
    )
    return policy


def allow_wildcard(event: Any, context: Any) -> Any:
    policy = allow_policy_for(event)
    policy["policyDocument"]["Statement"][0]["Resource"] = (
        "arn:aws:execute-api:us-east-1:123456789012:local/*"
    )
    return policy


def nested_context(event: Any, context: Any) -> Any:
    policy = allow_policy_for(event)
    policy["context"] = {"claims": {"sub": "x"}}
    return policy


def no_principal(event: Any, context: Any) -> Any:
    policy = allow_policy_for(event)
    del policy["principalId"]
    return policy


def allow_policy_for(event: Any) -> dict[str, Any]:
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
            ],
        },
    }


@pytest.mark.parametrize(
    ("authorizer", "expected_status"),
    [
        pytest.param(raise_unauthorized, 401, id="Unauthorized exception -> 401"),
        pytest.param(deny, 403, id="Deny policy -> 403"),
        pytest.param(allow_other_arn, 403, id="Allow on another ARN -> 403"),
        pytest.param(raise_bug, 500, id="other exception -> 500"),
        pytest.param(nested_context, 500, id="nested context value -> 500"),
        pytest.param(no_principal, 500, id="no principalId -> 500"),
    ],
)
def test_authorizer_refusals(
    run_gateway: Any,
    base_config: GatewayConfig,
    recorder: Any,
    authorizer: Any,
    expected_status: int,
) -> None:
    # GIVEN an authorizer that refuses in one of AWS's ways
    async def scenario(gateway: Gateway) -> tuple[int, list[str]]:
        # WHEN a client with a token connects
        status = await refused_status(f"{gateway.websocket_url}?authorization=t")
        return status, gateway.connection_ids()

    status, live = run_gateway(base_config, scenario, authorizer=authorizer)
    # THEN the upgrade is refused with AWS's status and nothing is left behind
    assert status == expected_status
    assert live == []
    assert recorder.events("$connect") == []
    assert recorder.events("$disconnect") == []


def test_wildcard_allow_policy_connects(run_gateway: Any, base_config: GatewayConfig) -> None:
    async def scenario(gateway: Gateway) -> None:
        async with websockets.connect(f"{gateway.websocket_url}?authorization=t"):
            pass

    run_gateway(base_config, scenario, authorizer=allow_wildcard)


@pytest.mark.parametrize(
    ("connect_response", "expected_status"),
    [
        ({"statusCode": 403}, 403),
        ({"statusCode": 500, "body": "nope"}, 500),
        ({"statusCode": 302}, 302),
    ],
)
def test_connect_integration_non_2xx_refuses_the_upgrade(
    run_gateway: Any,
    base_config: GatewayConfig,
    recorder: Any,
    connect_response: Any,
    expected_status: int,
) -> None:
    async def scenario(gateway: Gateway) -> tuple[int, list[str]]:
        status = await refused_status(f"{gateway.websocket_url}?authorization=t")
        return status, gateway.connection_ids()

    routes = {**base_config.routes, "$connect": recorder.handler("$connect", connect_response)}
    status, live = run_gateway(base_config, scenario, routes=routes)
    assert status == expected_status
    assert live == []
    assert recorder.events("$disconnect") == []


def test_connect_integration_crash_is_500_and_the_gateway_keeps_serving(
    run_gateway: Any, base_config: GatewayConfig, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0

    def crash_once(event: Any, context: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        return {"statusCode": 200}

    async def scenario(gateway: Gateway) -> int:
        status = await refused_status(f"{gateway.websocket_url}?authorization=t")
        async with websockets.connect(f"{gateway.websocket_url}?authorization=t"):
            pass
        return status

    routes = {**base_config.routes, "$connect": crash_once}
    assert run_gateway(base_config, scenario, routes=routes) == 500
    assert any("$connect handler failed" in record.getMessage() for record in caplog.records)


def test_connect_without_authorizer_or_connect_route(
    run_gateway: Any, base_config: GatewayConfig
) -> None:
    async def scenario(gateway: Gateway) -> int:
        async with websockets.connect(gateway.websocket_url) as client:
            await client.send('{"action": "echo", "n": 1}')
            return len(await client.recv())

    routes = {"echo": lambda event, context: {"body": "ok"}}
    assert run_gateway(base_config, scenario, routes=routes, authorizer=None) == 2


def test_connect_route_can_select_the_subprotocol(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    def choose(event: Any) -> Any:
        return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "sumu.v1"}}

    async def scenario(gateway: Gateway) -> str | None:
        async with websockets.connect(
            f"{gateway.websocket_url}?authorization=t",
            subprotocols=[Subprotocol("sumu.v1"), Subprotocol("other")],
        ) as client:
            return client.subprotocol

    routes = {**base_config.routes, "$connect": recorder.handler("$connect", choose)}
    assert run_gateway(base_config, scenario, routes=routes) == "sumu.v1"


def test_plain_http_get_on_the_stage_is_426(run_gateway: Any, base_config: GatewayConfig) -> None:
    async def scenario(gateway: Gateway) -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.get(gateway.management_url) as response,
        ):
            return response.status

    assert run_gateway(base_config, scenario) == 426


def test_trailing_slash_stage_url_connects(run_gateway: Any, base_config: GatewayConfig) -> None:
    async def scenario(gateway: Gateway) -> None:
        async with websockets.connect(f"{gateway.websocket_url}/?authorization=t"):
            pass

    run_gateway(base_config, scenario)


UPGRADE_WITHOUT_KEY = (
    "GET /mvp?authorization=t HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
UPGRADE = (
    "GET /mvp?authorization=t HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
)


def test_malformed_handshake_is_400_before_any_handler(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(UPGRADE_WITHOUT_KEY.encode())
        status_line = await reader.readline()
        writer.close()
        return status_line

    assert run_gateway(base_config, scenario).startswith(b"HTTP/1.1 400")
    assert recorder.events("authorizer") == []
    assert recorder.events("$connect") == []


def test_client_gone_during_connect_still_gets_disconnect(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    # GIVEN a $connect integration that takes a while (it may store the connection)
    def slow_connect(event: Any) -> Any:
        time.sleep(0.3)
        return {"statusCode": 200}

    async def scenario(gateway: Gateway) -> tuple[list[Any], list[str]]:
        # WHEN the client sends its upgrade and vanishes before the answer
        _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(UPGRADE.encode())
        await writer.drain()
        await recorder.wait_for("$connect")
        raw = writer.get_extra_info("socket")
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        return await recorder.wait_for("$disconnect"), gateway.connection_ids()

    routes = {**base_config.routes, "$connect": recorder.handler("$connect", slow_connect)}
    disconnects, live = run_gateway(base_config, scenario, routes=routes)
    # THEN $disconnect tells the integration, and nothing stays registered
    (event,) = disconnects
    assert event["requestContext"]["disconnectStatusCode"] == 1006
    assert (
        event["requestContext"]["connectionId"]
        == recorder.events("$connect")[0]["requestContext"]["connectionId"]
    )
    assert live == []
