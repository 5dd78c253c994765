"""Messages: route selection, $default, the error frames, two-way responses, Lambda context,
binary and oversized frames."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from typing import Any

import pytest
import websockets
from sumu_local.gateway import Gateway, GatewayConfig
from websockets.exceptions import ConnectionClosed

AWS_ID = re.compile(r"^[A-Za-z0-9]{15}=$")


async def connected(gateway: Gateway) -> Any:
    return await websockets.connect(f"{gateway.websocket_url}?authorization=t", ping_interval=None)


async def receive_json(client: Any) -> Any:
    return json.loads(await asyncio.wait_for(client.recv(), 5))


async def close_code(client: Any) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(client.recv(), 5)
    received = closed.value.rcvd
    return (received.code, received.reason) if received else (None, None)


@pytest.mark.parametrize(
    ("frame", "route_key"),
    [
        ('{"action": "echo", "x": 1}', "echo"),
        ('{"action": "nope"}', "$default"),
        ('{"x": 1}', "$default"),
        ('{"action": 7}', "$default"),
        ("[1, 2]", "$default"),
        ("not json", "$default"),
        ('{"action": "$connect"}', "$default"),
    ],
)
def test_route_selection_on_request_body_action(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any, frame: str, route_key: str
) -> None:
    async def scenario(gateway: Gateway) -> None:
        async with await connected(gateway) as client:
            await client.send(frame)
            await recorder.wait_for(route_key, 1)

    run_gateway(base_config, scenario)
    (event,) = recorder.events(route_key)
    assert event["body"] == frame
    assert event["requestContext"]["routeKey"] == route_key


def test_nested_route_selection_expression(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> Any:
        async with await connected(gateway) as client:
            await client.send('{"meta": {"kind": "echo"}}')
            return await receive_json(client)

    reply = run_gateway(
        base_config, scenario, route_selection_expression="${request.body.meta.kind}"
    )
    assert reply == {"meta": {"kind": "echo"}}


def test_message_event_carries_aws_request_context(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    # GIVEN a connection authorized with a context
    async def scenario(gateway: Gateway) -> str:
        async with await connected(gateway) as client:
            # WHEN it sends two messages
            await client.send('{"action": "echo", "n": 1}')
            await receive_json(client)
            await client.send('{"action": "nope"}')
            await recorder.wait_for("$default", 1)
            return gateway.connection_ids()[0]

    connection_id = run_gateway(base_config, scenario)
    (connect_event,) = recorder.events("$connect")
    message_events = recorder.events("echo") + recorder.events("$default")
    assert len(message_events) == 2
    for event in message_events:
        # THEN each event has API Gateway's MESSAGE requestContext, authorizer context included
        context = event["requestContext"]
        assert event["isBase64Encoded"] is False
        assert context["eventType"] == "MESSAGE"
        assert context["connectionId"] == connection_id
        assert context["connectedAt"] == connect_event["requestContext"]["connectedAt"]
        assert AWS_ID.match(context["messageId"])
        assert context["requestId"] != connect_event["requestContext"]["requestId"]
        assert context["requestTimeEpoch"] >= context["connectedAt"]
        assert context["messageDirection"] == "IN"
        assert context["identity"]["sourceIp"] == "127.0.0.1"
        assert context["authorizer"]["principalId"] == "user-1"
        assert context["authorizer"]["admin"] == "true"
    assert (
        message_events[0]["requestContext"]["messageId"]
        != message_events[1]["requestContext"]["messageId"]
    )


def test_route_response_body_goes_back_to_the_client(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    def pong(event: Any) -> Any:
        return {
            "statusCode": 200,
            "body": {"type": "pong", "connectionId": event["requestContext"]["connectionId"]},
        }

    async def scenario(gateway: Gateway) -> tuple[Any, str, list[Any]]:
        async with await connected(gateway) as client:
            await client.send('{"action": "ping"}')
            reply = await receive_json(client)
            await client.send('{"action": "silent"}')
            await recorder.wait_for("silent", 1)
            await client.send('{"action": "echo", "n": 2}')
            echoed = await receive_json(client)
            return reply, gateway.connection_ids()[0], [echoed]

    routes = {
        **base_config.routes,
        "ping": recorder.handler("ping", pong),
        "silent": recorder.handler("silent", None),
    }
    reply, connection_id, later = run_gateway(base_config, scenario, routes=routes)
    # a dict body is sent as JSON text; a handler returning nothing sends nothing
    assert reply == {"type": "pong", "connectionId": connection_id}
    assert later == [{"action": "echo", "n": 2}]


def test_no_default_route_sends_the_forbidden_error_frame(
    run_gateway: Any, base_config: GatewayConfig
) -> None:
    async def scenario(gateway: Gateway) -> tuple[Any, str]:
        async with await connected(gateway) as client:
            await client.send("not json")
            return await receive_json(client), gateway.connection_ids()[0]

    routes = {key: handler for key, handler in base_config.routes.items() if key != "$default"}
    frame, connection_id = run_gateway(base_config, scenario, routes=routes)
    assert frame["message"] == "Forbidden"
    assert frame["connectionId"] == connection_id
    assert AWS_ID.match(frame["requestId"])


def test_handler_crash_sends_internal_server_error_and_the_gateway_survives(
    run_gateway: Any, base_config: GatewayConfig, caplog: pytest.LogCaptureFixture
) -> None:
    def crash(event: Any, context: Any) -> Any:
        raise ValueError("handler bug")

    # GIVEN a route whose handler raises
    async def scenario(gateway: Gateway) -> tuple[Any, Any, Any]:
        async with await connected(gateway) as client:
            # WHEN a client calls it
            await client.send('{"action": "crash"}')
            frame = await receive_json(client)
            # THEN the same connection and a new one are still served
            await client.send('{"action": "echo", "still": "alive"}')
            same = await receive_json(client)
        async with await connected(gateway) as other:
            await other.send('{"action": "echo", "new": true}')
            new = await receive_json(other)
        return frame, same, new

    routes = {**base_config.routes, "crash": crash}
    frame, same, new = run_gateway(base_config, scenario, routes=routes)
    assert frame["message"] == "Internal server error"
    assert AWS_ID.match(frame["connectionId"])
    assert AWS_ID.match(frame["requestId"])
    assert same == {"action": "echo", "still": "alive"}
    assert new == {"action": "echo", "new": True}
    failure = next(
        record for record in caplog.records if "crash handler failed" in record.getMessage()
    )
    assert failure.exc_info is not None


def test_handler_timeout_sends_timed_out_frame(
    run_gateway: Any, base_config: GatewayConfig
) -> None:
    def slow(event: Any, context: Any) -> Any:
        time.sleep(1.0)

    async def scenario(gateway: Gateway) -> Any:
        async with await connected(gateway) as client:
            await client.send('{"action": "slow"}')
            return await receive_json(client)

    routes = {**base_config.routes, "slow": slow}
    frame = run_gateway(base_config, scenario, routes=routes, handler_timeout_seconds=0.2)
    assert frame["message"] == "Endpoint request timed out"


def test_handlers_get_a_lambda_like_context(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    seen: dict[str, Any] = {}

    def inspect_context(event: Any, context: Any) -> Any:
        seen.update(
            remaining=context.get_remaining_time_in_millis(),
            request_id=context.aws_request_id,
            function_name=context.function_name,
            arn=context.invoked_function_arn,
            memory=context.memory_limit_in_mb,
            log_group=context.log_group_name,
            version=context.function_version,
        )
        return {"body": "ok"}

    async def scenario(gateway: Gateway) -> None:
        async with await connected(gateway) as client:
            await client.send('{"action": "inspect"}')
            await client.recv()

    routes = {**base_config.routes, "inspect": inspect_context}
    run_gateway(base_config, scenario, routes=routes)
    assert 0 < seen["remaining"] <= 5000
    assert re.match(r"^[0-9a-f-]{36}$", seen["request_id"])
    assert re.match(r"^[A-Za-z0-9_-]{1,64}$", seen["function_name"])
    assert seen["arn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{seen['function_name']}"
    assert seen["memory"] == 128
    assert seen["log_group"] == f"/aws/lambda/{seen['function_name']}"
    assert seen["version"] == "$LATEST"


def test_handlers_run_off_the_event_loop(run_gateway: Any, base_config: GatewayConfig) -> None:
    # A handler blocked on one connection must not stall another connection's messages: the
    # blocked handler is only released once the other connection got its reply.
    release = threading.Event()

    def blocking(event: Any, context: Any) -> Any:
        released = release.wait(5)
        return {"body": "released" if released else "never released"}

    async def scenario(gateway: Gateway) -> list[str]:
        async with await connected(gateway) as slow_client, await connected(gateway) as fast_client:
            await slow_client.send('{"action": "block"}')
            await fast_client.send('{"action": "echo"}')
            fast_reply = str(await asyncio.wait_for(fast_client.recv(), 4))
            release.set()
            return [fast_reply, str(await asyncio.wait_for(slow_client.recv(), 5))]

    routes = {**base_config.routes, "block": blocking}
    assert run_gateway(base_config, scenario, routes=routes) == ['{"action": "echo"}', "released"]


def test_async_handlers_are_awaited(run_gateway: Any, base_config: GatewayConfig) -> None:
    async def async_echo(event: Any, context: Any) -> Any:
        await asyncio.sleep(0)
        return {"body": "async " + event["body"]}

    async def scenario(gateway: Gateway) -> str:
        async with await connected(gateway) as client:
            await client.send("hi")
            return str(await client.recv())

    routes = {**base_config.routes, "$default": async_echo}
    assert run_gateway(base_config, scenario, routes=routes) == "async hi"


def test_binary_frame_closes_with_1003_and_disconnects(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> tuple[Any, ...]:
        client = await connected(gateway)
        await client.send(b"\x00\x01binary")
        code = await close_code(client)
        await recorder.wait_for("$disconnect", 1)
        return code

    code, _ = run_gateway(base_config, scenario)
    assert code == 1003
    (event,) = recorder.events("$disconnect")
    assert event["requestContext"]["disconnectStatusCode"] == 1003
    assert recorder.events("$default") == []


def test_frame_over_32_kb_closes_with_1009(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    # GIVEN a message under 128 KB sent as ONE frame of 32 KB + 1 byte (websockets never splits)
    async def scenario(gateway: Gateway) -> tuple[Any, ...]:
        client = await connected(gateway)
        await client.send('{"action": "echo"}')
        await client.recv()
        await client.send("x" * (32 * 1024 + 1))
        code = await close_code(client)
        await recorder.wait_for("$disconnect", 1)
        return code

    # THEN API Gateway's answer: close 1009, and the message reaches no route
    code, _ = run_gateway(base_config, scenario)
    assert code == 1009
    assert recorder.events("$default") == []
    assert recorder.events("$disconnect")[0]["requestContext"]["disconnectStatusCode"] == 1009


def test_frame_of_exactly_32_kb_is_accepted(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> None:
        async with await connected(gateway) as client:
            await client.send("x" * (32 * 1024))
            await recorder.wait_for("$default", 1)

    run_gateway(base_config, scenario)
    assert len(recorder.events("$default")[0]["body"]) == 32 * 1024


def test_128_kb_message_in_32_kb_frames_is_accepted(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> None:
        async with await connected(gateway) as client:
            await client.send(iter(["y" * (32 * 1024)] * 4))
            await recorder.wait_for("$default", 1)

    run_gateway(base_config, scenario)
    assert len(recorder.events("$default")[0]["body"]) == 128 * 1024


def test_message_over_128_kb_in_small_frames_closes_with_1009(
    run_gateway: Any, base_config: GatewayConfig, recorder: Any
) -> None:
    async def scenario(gateway: Gateway) -> tuple[Any, ...]:
        client = await connected(gateway)
        await client.send(iter(["z" * (16 * 1024)] * 8 + ["z"]))
        code = await close_code(client)
        await recorder.wait_for("$disconnect", 1)
        return code

    code, _ = run_gateway(base_config, scenario)
    assert code == 1009
    assert recorder.events("$default") == []


def test_unserialisable_route_response_is_an_internal_server_error(
    run_gateway: Any, base_config: GatewayConfig
) -> None:
    def bad_body(event: Any, context: Any) -> Any:
        return {"statusCode": 200, "body": {"not json": {1, 2}}}

    async def scenario(gateway: Gateway) -> Any:
        async with await connected(gateway) as client:
            await client.send('{"action": "bad"}')
            return await receive_json(client)

    routes = {**base_config.routes, "bad": bad_body}
    assert run_gateway(base_config, scenario, routes=routes)["message"] == "Internal server error"
