"""Channel cases (issue 17), for the connections and the pusher suites.

Connections: `subscribe` / `unsubscribe` frames with the authorizer's `channels` context key
(a JSON-encoded list, as the authorizer passes the token's claim), the acks and the `forbidden`,
`invalid` and `limit` error frames, the subscription-record stored, and `$disconnect` removing
the connection's subscriptions. The kit runs the function with `CHANNELS_PER_CONNECTION=3`.

Pusher: a request naming channels reaches exactly the subscribers, each with the envelope
`{"type": "message", "channel", "id", "data"}`; with `users`, the users get `data` verbatim;
a 410 prunes the connection's subscriptions too.
"""

from __future__ import annotations

import json
from typing import Any

from sumu_local.conformance.checks import require, require_valid, short
from sumu_local.conformance.connections import _connect, _item_as_json, _status_ok
from sumu_local.conformance.environment import Environment
from sumu_local.conformance.events import disconnect_event, message_event
from sumu_local.conformance.pusher import _data, _deliveries, _failures, _invoke_sqs, _users
from sumu_local.conformance.report import Case
from sumu_local.conformance.suite import Context

CHANNELS_PER_CONNECTION = 3  # given to the function by the kit's environment
CONNECTIONS_README = "services/connections/README.md"
PUSHER_README = "services/pusher/README.md"


# --- connections ------------------------------------------------------------------------------


def _channel_frame(
    context: Context,
    connection_id: str,
    user: str,
    action: str,
    channel: str,
    *,
    patterns: list[str] | None = None,
) -> dict[str, Any]:
    """One subscribe / unsubscribe frame on its route; the server frame the client receives."""
    body = json.dumps({"action": action, "channel": channel})
    event = message_event(action, connection_id, user, body)
    if patterns is not None:
        # API Gateway allows only scalar context values: the authorizer JSON-encodes the list.
        event["requestContext"]["authorizer"]["channels"] = json.dumps(patterns)
    outcome = context.invoke(event)
    require(not outcome.failed, f"{body}: the function failed ({outcome.describe()})")
    response = outcome.result
    require(
        isinstance(response, dict) and "body" in response,
        f"{body}: no body to send back (answer {short(response)})",
    )
    raw = response["body"]
    frame = json.loads(raw) if isinstance(raw, str) else raw
    require_valid("server-frame", frame, f"the answer to {body}")
    require(isinstance(frame, dict), f"{body} answered {short(frame)}")
    return dict(frame)


def _require_ack(frame: dict[str, Any], action: str, channel: str) -> None:
    require(
        frame.get("type") == "ack"
        and frame.get("action") == action
        and frame.get("channel") == channel,
        f"{action} {channel} answered {short(frame)}, expected an ack naming action and channel",
    )


def _require_error(frame: dict[str, Any], code: str, what: str) -> None:
    require(
        frame.get("type") == "error" and frame.get("code") == code,
        f"{what} answered {short(frame)}, expected an error frame with code {code!r}",
    )


def subscribe_authorized(context: Context) -> None:
    environment = context.environment
    user, connection_id = context.unique("user"), context.unique("conn")
    _connect(context, user, connection_id)
    channel = context.unique("room")
    frame = _channel_frame(context, connection_id, user, "subscribe", channel, patterns=["room-*"])
    _require_ack(frame, "subscribe", channel)
    item = (
        environment.client("dynamodb")
        .get_item(
            TableName=environment.subscriptions_table,
            Key={"channel": {"S": channel}, "connection_id": {"S": connection_id}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    require(item is not None, f"the ack of {channel} stored no subscription item")
    record = _item_as_json(dict(item or {}))
    require_valid("subscription-record", record, "the stored subscription")
    require(record["user_id"] == user, f"the subscription names user {record['user_id']!r}")
    public = f"public:{context.unique('news')}"
    _require_ack(
        _channel_frame(context, connection_id, user, "subscribe", public), "subscribe", public
    )


def subscribe_forbidden(context: Context) -> None:
    environment = context.environment
    user, connection_id = context.unique("user"), context.unique("conn")
    _connect(context, user, connection_id)
    for patterns in (None, ["other-*"]):
        frame = _channel_frame(
            context, connection_id, user, "subscribe", context.unique("room"), patterns=patterns
        )
        _require_error(frame, "forbidden", f"a room with token channels {patterns}")
    require(
        environment.connection_channels(connection_id) == [],
        "a forbidden subscribe stored a subscription",
    )


def subscribe_invalid(context: Context) -> None:
    user, connection_id = context.unique("user"), context.unique("conn")
    _connect(context, user, connection_id)
    for channel in ("room 1", "x" * 129, "room/1"):
        frame = _channel_frame(context, connection_id, user, "subscribe", channel, patterns=["*"])
        _require_error(frame, "invalid", f"channel {channel[:20]!r}")


def subscribe_limit(context: Context) -> None:
    environment = context.environment
    user, connection_id = context.unique("user"), context.unique("conn")
    _connect(context, user, connection_id)
    rooms = [context.unique(f"room-{n}") for n in range(CHANNELS_PER_CONNECTION + 1)]
    for room in rooms[:-1]:
        frame = _channel_frame(context, connection_id, user, "subscribe", room, patterns=["room-*"])
        _require_ack(frame, "subscribe", room)
    frame = _channel_frame(
        context, connection_id, user, "subscribe", rooms[-1], patterns=["room-*"]
    )
    _require_error(frame, "limit", f"subscription {CHANNELS_PER_CONNECTION + 1}")
    again = _channel_frame(context, connection_id, user, "subscribe", rooms[0], patterns=["room-*"])
    _require_ack(again, "subscribe", rooms[0])  # re-subscribing a held channel is no new one
    require(
        len(environment.connection_channels(connection_id)) == CHANNELS_PER_CONNECTION,
        f"expected {CHANNELS_PER_CONNECTION} subscriptions stored",
    )


def unsubscribe(context: Context) -> None:
    environment = context.environment
    user, connection_id = context.unique("user"), context.unique("conn")
    _connect(context, user, connection_id)
    never = f"public:{context.unique('never')}"
    _require_ack(
        _channel_frame(context, connection_id, user, "unsubscribe", never), "unsubscribe", never
    )
    channel = f"public:{context.unique('news')}"
    _channel_frame(context, connection_id, user, "subscribe", channel)
    frame = _channel_frame(context, connection_id, user, "unsubscribe", channel)
    _require_ack(frame, "unsubscribe", channel)
    require(
        environment.connection_channels(connection_id) == [],
        "the subscription is still stored after its unsubscribe was acked",
    )


def disconnect_removes_subscriptions(context: Context) -> None:
    environment = context.environment
    user, connection_id = context.unique("user"), context.unique("conn")
    _connect(context, user, connection_id)
    for channel in (context.unique("room"), f"public:{context.unique('news')}"):
        frame = _channel_frame(
            context, connection_id, user, "subscribe", channel, patterns=["room-*"]
        )
        _require_ack(frame, "subscribe", channel)
    outcome = context.invoke(disconnect_event(connection_id, user))
    require(not outcome.failed and _status_ok(outcome.result), f"$disconnect: {outcome.describe()}")
    left = environment.connection_channels(connection_id)
    require(not left, f"after $disconnect the connection is still subscribed to {left}")


CONNECTIONS_CASES = (
    Case(
        "connections.subscribe-authorized",
        f"issue 17; {CONNECTIONS_README}: a channel matching the token's channels (or public:*) is acked and stored as a subscription-record",
        subscribe_authorized,
    ),
    Case(
        "connections.subscribe-forbidden",
        "issue 17: a channel matching no pattern is refused with code forbidden, nothing stored",
        subscribe_forbidden,
    ),
    Case(
        "connections.subscribe-invalid",
        "issue 17: a channel name outside 1..128 of letters, digits and _-:.@= is refused with code invalid",
        subscribe_invalid,
    ),
    Case(
        "connections.subscribe-limit",
        "issue 17: one subscription over CHANNELS_PER_CONNECTION is refused with code limit",
        subscribe_limit,
    ),
    Case(
        "connections.unsubscribe",
        "issue 17: unsubscribe is acked (also for a channel never subscribed) and removes the subscription",
        unsubscribe,
    ),
    Case(
        "connections.disconnect-removes-subscriptions",
        "issue 17: $disconnect removes the connection's subscriptions",
        disconnect_removes_subscriptions,
    ),
)


# --- pusher -----------------------------------------------------------------------------------


def _subscribe_all(
    environment: Environment, channel: str, user: str, connections: list[str]
) -> None:
    for connection_id in connections:
        environment.put_subscription(channel, user, connection_id)


def channel_delivery(context: Context) -> None:
    environment = context.environment
    (a, a_conns), (b, b_conns), (c, c_conns) = _users(context, environment, [2, 1, 1])
    room, lobby = context.unique("room"), f"public:{context.unique('lobby')}"
    _subscribe_all(environment, room, a, a_conns)
    _subscribe_all(environment, lobby, a, a_conns[:1])
    _subscribe_all(environment, lobby, b, b_conns)
    data = _data(context)
    request = {"channels": [room, lobby], "users": [c], "data": data}
    outcome, _, first = _invoke_sqs(context, [json.dumps(request)])
    require(
        not _failures(outcome), f"a deliverable request was reported failed: {outcome.describe()}"
    )
    delivered = _deliveries(environment, first)
    expected: dict[str, list[Any]] = {
        a_conns[0]: [room, lobby],
        a_conns[1]: [room],
        b_conns[0]: [lobby],
    }
    for connection_id, channels in expected.items():
        frames = delivered.get(connection_id, [])
        got = sorted(f.get("channel", "") for f in frames if isinstance(f, dict))
        require(
            got == sorted(channels),
            f"subscriber {connection_id} got channels {got}, expected one envelope per channel {sorted(channels)}",
        )
        for frame in frames:
            require(
                frame.get("type") == "message"
                and frame.get("data") == data
                and isinstance(frame.get("id"), str),
                f"{connection_id} got {short(frame)}, expected the envelope {{type: message, channel, id, data}}",
            )
            require_valid("server-frame", frame, "a channel delivery")
    require(
        delivered.get(c_conns[0]) == [data],
        f"the targeted user got {short(delivered.get(c_conns[0]))}, expected data verbatim once",
    )
    extra = set(delivered) - set(expected) - {c_conns[0]}
    require(not extra, f"connections that are neither subscribers nor targets got it: {extra}")


def channel_prune_gone(context: Context) -> None:
    environment = context.environment
    [(user, [gone, live])] = _users(context, environment, [2])
    environment.management.script(gone, [], then=410)
    room = context.unique("room")
    _subscribe_all(environment, room, user, [gone, live])
    outcome, _, first = _invoke_sqs(
        context, [json.dumps({"channels": [room], "data": _data(context)})]
    )
    require(not _failures(outcome), f"a 410 was reported as a failure: {outcome.describe()}")
    require(live in _deliveries(environment, first), "the live subscriber got nothing")
    left = environment.connection_channels(gone)
    require(not left, f"connection {gone} answered 410 but is still subscribed to {left}")
    require(environment.connection_channels(live) == [room], "the live subscription was removed")


PUSHER_CASES = (
    Case(
        "pusher.channel-delivery",
        f"issue 17; {PUSHER_README}: channels reach exactly their subscribers, one envelope per channel matched; users get data verbatim",
        channel_delivery,
    ),
    Case(
        "pusher.channel-prune-gone",
        "issue 17; DESIGN.md 5: a connection answering 410 loses its subscriptions in the same run",
        channel_prune_gone,
    ),
)
