"""Channel fan-out (issue 17): subscribers of the named channels get the message envelope."""

from __future__ import annotations

from typing import Any

from pusher_events import (
    LambdaContext,
    failed_ids,
    invocation_figures,
    log_lines,
    request_body,
    sns_event,
    sqs_event,
    sqs_record,
)
from sumu_contracts import validate
from sumu_pusher.handler import handler


def envelope(channel: str, message_id: str, data: Any) -> dict[str, Any]:
    return {"type": "message", "channel": channel, "id": message_id, "data": data}


def test_channels_only_reach_their_subscribers_and_is_not_a_broadcast(stack, capsys):
    # GIVEN alice subscribed to room-1 on a1, bob to room-2, carol connected but in no channel
    stack.connect("alice", "a1", "a2")
    stack.connect("bob", "b1")
    stack.connect("carol", "c1")
    stack.subscribe("alice", "a1", "room-1")
    stack.subscribe("bob", "b1", "room-2")
    # WHEN a request names room-1 only (no users)
    event = {"Records": [sqs_record(request_body({"t": 1}, channels=["room-1"]), "m-1")]}
    response = handler(event, LambdaContext())
    # THEN only a1 gets the envelope, whose id is the SQS message id
    assert response == {"batchItemFailures": []}
    assert stack.api.received("a1") == [envelope("room-1", "m-1", {"t": 1})]
    for connection_id in ("a2", "b1", "c1"):
        assert stack.api.received(connection_id) == []
    figures = invocation_figures(capsys.readouterr().out)
    assert (figures["connections_targeted"], figures["delivered"]) == (1, 1)
    assert figures["dynamodb_calls"] == 1  # one Query on the channel, no Scan


def test_every_envelope_validates_as_a_server_frame(stack):
    stack.subscribe("alice", "a1", "public:x")
    for data in (None, [1, "two"], {"nested": {"ü": 1.5}}, "text"):
        stack.api.reset()
        handler(sqs_event(request_body(data, channels=["public:x"])), LambdaContext())
        [frame] = stack.api.received("a1")
        validate("server-frame", frame)
        assert frame["data"] == data


def test_channels_and_users_are_the_union_and_users_keep_data_verbatim(stack):
    # GIVEN alice (a1) targeted as a user, bob (b1) subscribed to room-1, carol (c1) both
    stack.connect("alice", "a1")
    stack.connect("carol", "c1")
    stack.subscribe("bob", "b1", "room-1")
    stack.subscribe("carol", "c1", "room-1")
    # WHEN a request names alice, carol and room-1
    event = {
        "Records": [
            sqs_record(request_body("hi", users=["alice", "carol"], channels=["room-1"]), "m-2")
        ]
    }
    handler(event, LambdaContext())
    # THEN users get data verbatim, subscribers the envelope; carol gets one of each
    assert stack.api.received("a1") == ["hi"]
    assert stack.api.received("b1") == [envelope("room-1", "m-2", "hi")]
    assert sorted(map(str, stack.api.received("c1"))) == sorted(
        map(str, ["hi", envelope("room-1", "m-2", "hi")])
    )


def test_exclude_users_applies_to_users_and_channels(stack):
    stack.connect("alice", "a1")
    stack.connect("bob", "b1")
    stack.subscribe("alice", "a1", "room-1")
    stack.subscribe("bob", "b1", "room-1")
    stack.subscribe("carol", "c1", "room-1")
    handler(
        sqs_event(request_body("x", users=["alice", "bob"], channels=["room-1"], exclude=["bob"])),
        LambdaContext(),
    )
    assert [
        frame if isinstance(frame, str) else frame["type"] for frame in stack.api.received("a1")
    ] in (
        ["x", "message"],
        ["message", "x"],
    )
    assert stack.api.received("b1") == []
    assert [frame["channel"] for frame in stack.api.received("c1")] == ["room-1"]


def test_a_connection_in_several_targeted_channels_gets_one_per_channel(stack):
    # GIVEN a1 in room-1, room-2 and room-3; the request names room-1 and room-2 (room-1 twice)
    stack.subscribe("alice", "a1", "room-1", "room-2", "room-3")
    handler(sqs_event(request_body("x", channels=["room-1", "room-2", "room-1"])), LambdaContext())
    # THEN one envelope per matched channel, each naming its channel, with the same id
    frames = stack.api.received("a1")
    assert sorted(frame["channel"] for frame in frames) == ["room-1", "room-2"]
    assert len({frame["id"] for frame in frames}) == 1


def test_a_retry_carries_the_same_id(stack):
    stack.subscribe("alice", "a1", "room-1")
    stack.api.behave("a1", "error")  # every attempt fails: the record is retried
    event = {"Records": [sqs_record(request_body("x", channels=["room-1"]), "m-retry")]}
    assert failed_ids(handler(event, LambdaContext())) == ["m-retry"]
    stack.api.behave("a1", "ok")
    handler(event, LambdaContext())
    assert stack.api.received("a1") == [envelope("room-1", "m-retry", "x")]


def test_sns_envelopes_carry_the_sns_message_id(stack):
    stack.subscribe("alice", "a1", "room-1")
    event = sns_event(request_body("x", channels=["room-1"]))
    handler(event, LambdaContext())
    [frame] = stack.api.received("a1")
    assert frame["id"] == event["Records"][0]["Sns"]["MessageId"]


def test_an_empty_channels_list_reaches_nobody(stack, capsys):
    stack.connect("alice", "a1")
    response = handler(sqs_event(request_body("x", channels=[])), LambdaContext())
    assert response == {"batchItemFailures": []}
    assert stack.api.total_posts() == 0
    assert invocation_figures(capsys.readouterr().out)["empty_audience"] == 1


def test_a_gone_subscriber_is_pruned_with_its_subscriptions(stack, capsys):
    # GIVEN a1 (connected 10 minutes ago) in two channels, answering 410; b1 alive in room-1
    stack.connect("alice", "a1")
    stack.connect("bob", "b1")
    stack.subscribe("alice", "a1", "room-1", "room-2")
    stack.subscribe("bob", "b1", "room-1")
    stack.api.behave("a1", "gone")
    # WHEN room-1 is notified
    response = handler(sqs_event(request_body("x", channels=["room-1"])), LambdaContext())
    # THEN a1's record and both its subscriptions are deleted in the same run, b1's stay
    assert response == {"batchItemFailures": []}
    assert stack.connection_ids() == {"b1"}
    assert stack.subscriptions() == {("room-1", "b1")}


def test_a_young_gone_subscriber_keeps_its_subscriptions(stack):
    # GIVEN a connection whose $connect may still be running (the prune grace period)
    stack.connect("alice", "a1", age_s=0)
    stack.subscribe("alice", "a1", "room-1")
    stack.api.behave("a1", "gone")
    handler(sqs_event(request_body("x", channels=["room-1"])), LambdaContext())
    # THEN neither its record nor its subscription is deleted
    assert stack.connection_ids() == {"a1"}
    assert stack.subscriptions() == {("room-1", "a1")}


def test_without_a_subscriptions_table_a_channel_request_fails_loudly(stack, capsys):
    # GIVEN a deployment without SUBSCRIPTIONS_TABLE_NAME
    stack.reconfigure(SUBSCRIPTIONS_TABLE_NAME=None)
    stack.connect("alice", "a1")
    stack.subscribe("bob", "b1", "room-1")
    event = {
        "Records": [
            sqs_record(request_body("x", users=["alice"], channels=["room-1"]), "m-conf"),
            sqs_record(request_body("y", users=["alice"]), "m-users"),
        ]
    }
    response = handler(event, LambdaContext())
    # THEN the channel request is retried (not dead-lettered), nothing of it is posted, the
    # other request is delivered, and an ERROR line names the variable
    assert failed_ids(response) == ["m-conf"]
    assert stack.api.received("a1") == ["y"]
    assert stack.dead_letters() == []
    out = capsys.readouterr().out
    assert any(
        "SUBSCRIPTIONS_TABLE_NAME is not set" in line.get("message", "") for line in log_lines(out)
    )
    assert invocation_figures(out)["configuration_errors"] == 1
