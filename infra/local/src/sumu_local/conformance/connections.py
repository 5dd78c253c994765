"""Connections cases: every route, the stored connection-record and its TTL, the user-message a
backend receives, and the server-frame every client frame is answered with.

Frames go to the route API Gateway would select (``$request.body.action``; unknown action or not
JSON -> ``$default``), and the integration's ``body`` is what the client receives.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from hypothesis import given
from hypothesis import strategies as st

from sumu_local.conformance.checks import require, require_valid, short
from sumu_local.conformance.environment import (
    CONNECTION_TTL_SECONDS,
    Environment,
    as_contract_message,
    attribute,
)
from sumu_local.conformance.events import (
    connect_event,
    disconnect_event,
    message_event,
)
from sumu_local.conformance.report import Case, CaseFailed
from sumu_local.conformance.suite import Context, Suite, bounded
from sumu_local.gateway import Gateway, GatewayConfig

README = "services/connections/README.md"
ROUTES = ("ping", "send", "publish")
MAX_FRAME_BYTES = 131072


def _route_for(body: str) -> str:
    try:
        action = json.loads(body).get("action")
    except (ValueError, AttributeError):
        return "$default"
    return action if action in ROUTES else "$default"


def _status_ok(response: Any) -> bool:
    return (
        isinstance(response, dict)
        and isinstance(response.get("statusCode"), int)
        and 200 <= response["statusCode"] < 300
    )


def _frame(
    context: Context, connection_id: str, user: str | None, body: str
) -> tuple[Any, dict[str, Any]]:
    """Send one client frame; return the server frame the client receives, and the event."""
    event = message_event(_route_for(body), connection_id, user, body)
    outcome = context.invoke(event)
    require(
        not outcome.failed,
        f"frame {body[:80]!r}: the function failed ({outcome.describe()}); the client gets 'Internal server error'",
    )
    response = outcome.result
    require(
        isinstance(response, dict) and "body" in response,
        f"frame {body[:80]!r}: no body to send back (answer {short(response)})",
    )
    raw = response["body"]
    try:
        frame = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise CaseFailed(
            f"frame {body[:80]!r}: the answer body is not JSON: {raw!r:.200}"
        ) from None
    require_valid("server-frame", frame, f"the answer to {body[:80]!r}")
    return frame, event


def _forwarded(environment: Environment, user: str) -> list[dict[str, Any]]:
    """Every user-message from ``user`` on the messages queue and the topic (its raw capture)."""
    found = []
    for queue, via in (
        (environment.messages_queue_url, "queue"),
        (environment.topic_capture_queue_url, "topic"),
    ):
        for message in environment.drain(queue):
            if attribute(message, "user_id") == user:
                found.append({**as_contract_message(message), "via": via})
    return found


def _item_as_json(item: dict[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for name, value in item.items():
        if "N" in value:
            number = float(value["N"])
            plain[name] = int(number) if number.is_integer() else number
        elif "S" in value:
            plain[name] = value["S"]
        else:
            plain[name] = value
    return plain


def _connect(context: Context, user: str, connection_id: str) -> dict[str, Any]:
    event = connect_event(connection_id, user)
    outcome = context.invoke(event)
    require(
        not outcome.failed and _status_ok(outcome.result),
        f"$connect of {user}: {outcome.describe()}, expected statusCode 2xx",
    )
    return event


def connect_stores_record(context: Context) -> None:
    environment = context.environment
    user, connection_id = context.unique("user"), context.unique("conn")
    event = _connect(context, user, connection_id)
    item = environment.get_connection(user, connection_id)
    require(
        item is not None,
        f"$connect answered 2xx but no item ({user}, {connection_id}) is in the table",
    )
    assert item is not None
    for name in ("connected_at", "delete_at"):
        require(
            "N" in item.get(name, {}),
            f"{name} is stored as {short(item.get(name))}, not a number (N): DynamoDB TTL needs N",
        )
    record = _item_as_json(item)
    require_valid("connection-record", record, "the stored item")
    require(
        record["user_id"] == user and record["connection_id"] == connection_id,
        f"keys {record['user_id']!r}/{record['connection_id']!r}, expected the principalId and connectionId",
    )
    request_ms = event["requestContext"]["requestTimeEpoch"]
    require(
        abs(record["connected_at"] - request_ms) <= 60_000,
        f"connected_at {record['connected_at']} is not the connect time in ms ({request_ms})",
    )
    expected_ttl = record["connected_at"] // 1000 + CONNECTION_TTL_SECONDS
    require(
        abs(record["delete_at"] - expected_ttl) <= 2,
        f"delete_at {record['delete_at']}, expected connect time + CONNECTION_TTL_SECONDS ({CONNECTION_TTL_SECONDS}) = {expected_ttl}",
    )


def connect_without_principal(context: Context) -> None:
    connection_id = context.unique("conn")
    outcome = context.invoke(connect_event(connection_id, None))
    require(
        outcome.failed or not _status_ok(outcome.result),
        f"$connect without authorizer.principalId answered {outcome.describe()}: the connection would belong to nobody",
    )
    items = context.environment.client("dynamodb").scan(
        TableName=context.environment.table,
        FilterExpression="connection_id = :c",
        ExpressionAttributeValues={":c": {"S": connection_id}},
        ConsistentRead=True,
    )["Items"]
    require(not items, f"a refused $connect stored {short(items)}")


def disconnect_deletes(context: Context) -> None:
    environment = context.environment
    user, connection_id = context.unique("user"), context.unique("conn")
    _connect(context, user, connection_id)
    for attempt in ("first", "second (idempotent)"):
        outcome = context.invoke(disconnect_event(connection_id, user))
        require(
            not outcome.failed and _status_ok(outcome.result),
            f"{attempt} $disconnect: {outcome.describe()}",
        )
        require(
            environment.get_connection(user, connection_id) is None,
            f"after the {attempt} $disconnect the record is still in the table",
        )


def ping_pong(context: Context) -> None:
    user, connection_id = context.unique("user"), context.unique("conn")
    frame, _ = _frame(context, connection_id, user, json.dumps({"action": "ping"}))
    require(
        frame.get("type") == "pong" and frame.get("connectionId") == connection_id,
        f"ping answered {short(frame)}, expected a pong naming connectionId {connection_id}",
    )


def _forward(context: Context, action: str) -> None:
    environment = context.environment
    user, connection_id = context.unique("user"), context.unique("conn")
    message = {"text": "héllo ✓", "n": [1, 2.5, None, True], "nested": {"deep": ["x"]}}
    frame, event = _frame(
        context, connection_id, user, json.dumps({"action": action, "message": message})
    )
    require(
        frame.get("type") == "ack" and frame.get("action") == action,
        f"{action} answered {short(frame)}, expected an ack for {action}",
    )
    forwarded = _forwarded(environment, user)
    via = "queue" if action == "send" else "topic"
    require(
        len(forwarded) == 1 and forwarded[0]["via"] == via,
        f"{action}: backends got {len(forwarded)} message(s) {short(forwarded)}, expected one on the messages {via}",
    )
    got = forwarded[0]
    got.pop("via")
    require_valid("user-message", got, f"the {action} message")
    require(
        got["body"] == message,
        f"{action}: body {short(got['body'])}, expected the client's message {short(message)}",
    )
    source = got["attributes"]["source"]["StringValue"]
    require(source == f"apigw.route.{action}", f"{action}: source {source!r}")
    timestamp = float(got["attributes"]["timestamp"]["StringValue"])
    request_ms = event["requestContext"]["requestTimeEpoch"]
    require(
        abs(timestamp - request_ms) <= 60_000,
        f"{action}: timestamp {timestamp}, expected the request time in ms ({request_ms})",
    )


def send_forwarded(context: Context) -> None:
    _forward(context, "send")


def publish_forwarded(context: Context) -> None:
    _forward(context, "publish")


# (frame, code) pairs from the README's error-frame table.
ERROR_FRAMES: tuple[tuple[str, str], ...] = (
    ("this is not json", "invalid_json"),
    ("", "invalid_json"),
    ("NaN", "invalid_json"),
    ('{"action": "dance"}', "unknown_action"),
    ('{"message": "no action"}', "unknown_action"),
    ('{"action": "send"}', "missing_message"),
    ('{"action": "publish"}', "missing_message"),
    ('{"action": "send", "message": 1, "extra": true}', "invalid_frame"),
    ('{"action": "ping", "message": 1}', "invalid_frame"),
    ("[1, 2]", "invalid_frame"),
    (json.dumps({"action": "send", "message": "x" * MAX_FRAME_BYTES}), "message_too_large"),
)


def error_frames(context: Context) -> None:
    environment = context.environment
    user = context.unique("user")
    for body, code in ERROR_FRAMES:
        frame, _ = _frame(context, context.unique("conn"), user, body)
        require(
            frame.get("type") == "error",
            f"frame {body[:60]!r}: answered {short(frame)}, expected an error frame",
        )
        require(
            frame.get("code") == code,
            f"frame {body[:60]!r}: code {frame.get('code')!r}, expected {code!r}",
        )
        status = frame.get("statusCode")
        require(
            isinstance(status, int) and 400 <= status < 500,
            f"frame {body[:60]!r}: statusCode {status}, expected 4xx",
        )
    forwarded = _forwarded(environment, user)
    require(not forwarded, f"refused frames reached backends: {short(forwarded)}")


def unauthenticated_send(context: Context) -> None:
    frame, _ = _frame(
        context, context.unique("conn"), None, json.dumps({"action": "send", "message": "who am I"})
    )
    require(
        frame.get("type") == "error",
        f"a send on a connection without principalId answered {short(frame)}: a user-message must name its user",
    )


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_client_frames = st.one_of(
    st.just({"action": "ping"}),
    st.builds(
        lambda action, message: {"action": action, "message": message},
        st.sampled_from(["send", "publish"]),
        _json,
    ),
)


def any_valid_frame(context: Context) -> None:
    environment = context.environment
    user = context.unique("user")

    @bounded(15)
    @given(frame=_client_frames)
    def check(frame: dict[str, Any]) -> None:
        body = json.dumps(frame, ensure_ascii=False)
        answer, _ = _frame(context, context.unique("conn"), user, body)
        expected_type = "pong" if frame["action"] == "ping" else "ack"
        require(
            answer.get("type") == expected_type,
            f"{body[:80]!r} answered {short(answer)}, expected {expected_type}",
        )
        forwarded = _forwarded(environment, user)
        if frame["action"] == "ping":
            require(not forwarded, f"a ping forwarded {short(forwarded)}")
        else:
            bodies = [message["body"] for message in forwarded]
            require(
                bodies == [frame["message"]],
                f"{body[:80]!r}: backends got {short(bodies)}, expected exactly the message once",
            )

    check()


GATEWAY_SECONDS = 10.0  # per frame and for the $disconnect: every wait is bounded


def through_gateway(context: Context) -> None:
    """The same function behind the local API Gateway emulator, a real WebSocket client: what
    a client sees when the integration's answers go through API Gateway's rules."""
    asyncio.run(asyncio.wait_for(_through_gateway(context), 4 * GATEWAY_SECONDS))


async def _through_gateway(context: Context) -> None:
    environment, function, user = context.environment, context.function, context.unique("user")

    def integration(event: Any, _: Any) -> Any:
        outcome = function.invoke(event)
        if outcome.failed:
            raise RuntimeError(f"{outcome.error_type}: {outcome.error_message}")
        return outcome.result

    def allow_user(event: Any, _: Any) -> Any:
        # The authorizer is not under test here: the query's user is let in.
        principal = (event.get("queryStringParameters") or {}).get("user")
        statement = {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": event["methodArn"],
        }
        return {
            "principalId": principal,
            "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        }

    routes = dict.fromkeys(("$connect", "$disconnect", "$default", *ROUTES), integration)
    gateway = Gateway(
        GatewayConfig(
            routes=routes, authorizer=allow_user, identity_sources=(), port=0, stage="conformance"
        )
    )
    await gateway.start()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(
                f"{gateway.websocket_url}?user={user}",
                timeout=aiohttp.ClientWSTimeout(ws_close=GATEWAY_SECONDS),
            ) as socket,
        ):
            (connection_id,) = gateway.connection_ids()
            stored = await asyncio.to_thread(environment.get_connection, user, connection_id)
            require(
                stored is not None, "connected through the gateway, but no record is in the table"
            )
            for body, expected in (
                ('{"action": "ping"}', "pong"),
                ('{"action": "send", "message": {"via": "gateway"}}', "ack"),
                ("not json", "error"),
            ):
                await socket.send_str(body)
                frame = await socket.receive_json(timeout=GATEWAY_SECONDS)
                require_valid("server-frame", frame, f"the frame answering {body!r} on the socket")
                require(
                    frame.get("type") == expected,
                    f"{body!r} on the socket: got {short(frame)}, expected {expected}",
                )
        for _ in range(int(GATEWAY_SECONDS / 0.1)):
            if await asyncio.to_thread(environment.get_connection, user, connection_id) is None:
                break
            await asyncio.sleep(0.1)
        else:
            raise CaseFailed("the client closed its socket, but its record is still in the table")
        forwarded = await asyncio.to_thread(_forwarded, environment, user)
        require(
            [message["body"] for message in forwarded] == [{"via": "gateway"}],
            f"backends got {short(forwarded)}",
        )
    finally:
        await gateway.stop()


def _case(name: str, rule: str, run: Any) -> Case:
    return Case(f"connections.{name}", rule, run)


SUITE = Suite(
    service="connections",
    cases=(
        _case(
            "connect-stores-record",
            f"connection-record; {README}: $connect writes the record, delete_at = connect time + CONNECTION_TTL_SECONDS",
            connect_stores_record,
        ),
        _case(
            "connect-without-principal-refused",
            f"{README}: $connect refusals (no principalId -> nothing stored)",
            connect_without_principal,
        ),
        _case(
            "disconnect-deletes-record",
            f"{README}: $disconnect deletes the record (idempotent)",
            disconnect_deletes,
        ),
        _case(
            "ping-answers-pong",
            "server-frame pong; DESIGN.md 2: {type: pong, statusCode: 200, connectionId}",
            ping_pong,
        ),
        _case(
            "send-forwarded-to-queue",
            "user-message; DESIGN.md 2: send -> messages queue, body = message, attributes user_id / timestamp / source",
            send_forwarded,
        ),
        _case(
            "publish-forwarded-to-topic",
            "user-message; DESIGN.md 2: publish -> messages topic, body = message, attributes user_id / timestamp / source",
            publish_forwarded,
        ),
        _case(
            "error-frames",
            f"server-frame error; {README}: error frames (code, 4xx), nothing forwarded",
            error_frames,
        ),
        _case(
            "send-without-principal-refused",
            f"user-message user_id required; {README}: unauthorized",
            unauthenticated_send,
        ),
        _case(
            "through-gateway",
            "DESIGN.md 4: through the gateway a client connects, gets its frames on its socket, and its close deletes the record",
            through_gateway,
        ),
        _case(
            "property-any-valid-frame-answered",
            "issue 15: any valid client frame is answered; backends get exactly its message (hypothesis)",
            any_valid_frame,
        ),
    ),
)
