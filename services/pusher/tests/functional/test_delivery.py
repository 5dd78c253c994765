"""Delivery on the happy paths: selected, broadcast, exclusions, duplicates, SQS and SNS."""

from __future__ import annotations

import json

from pusher_events import (
    LambdaContext,
    invocation_figures,
    log_lines,
    request_body,
    sns_event,
    sqs_event,
)
from sumu_pusher.handler import handler


def test_selected_users_get_the_data_on_every_connection_and_nobody_else(stack, capsys):
    # GIVEN alice with two devices, bob with one, carol with one
    stack.connect("alice", "a1", "a2")
    stack.connect("bob", "b1")
    stack.connect("carol", "c1")
    # WHEN a notification for alice and bob arrives from SQS
    response = handler(
        sqs_event(request_body({"text": "hi"}, users=["alice", "bob"])), LambdaContext()
    )
    # THEN each of their connections got the data once, carol got nothing, nothing is retried
    assert response == {"batchItemFailures": []}
    for connection_id in ("a1", "a2", "b1"):
        assert stack.api.received(connection_id) == [{"text": "hi"}]
    assert stack.api.received("c1") == []
    figures = invocation_figures(capsys.readouterr().out)
    assert figures["connections_targeted"] == 3
    assert figures["delivered"] == 3
    assert figures["dynamodb_calls"] == 2  # one Query per distinct user, no Scan


def test_broadcast_reaches_every_connection(stack, capsys):
    # GIVEN three users connected
    stack.connect("alice", "a1", "a2")
    stack.connect("bob", "b1")
    stack.connect("carol", "c1")
    # WHEN two broadcasts (no users) arrive
    response = handler(sqs_event(request_body("one"), request_body("two")), LambdaContext())
    # THEN every connection got both, from one shared Scan
    assert response == {"batchItemFailures": []}
    for connection_id in ("a1", "a2", "b1", "c1"):
        assert sorted(stack.api.received(connection_id)) == ["one", "two"]
    figures = invocation_figures(capsys.readouterr().out)
    assert figures["dynamodb_calls"] == 1  # one Scan page, shared by both


def test_an_empty_users_list_reaches_nobody(stack, capsys):
    # GIVEN two users connected
    stack.connect("alice", "a1")
    stack.connect("bob", "b1")
    # WHEN a request names an empty list of users (a backend's filter came out empty)
    event = sqs_event(request_body("private", users=[]))
    response = handler(event, LambdaContext())
    # THEN nobody receives it, it is neither retried nor dead-lettered, and it is counted + logged
    assert response == {"batchItemFailures": []}
    assert stack.api.total_posts() == 0
    assert stack.dead_letters() == []
    lines = log_lines(capsys.readouterr().out)
    figures = [line for line in lines if "_aws" in line][-1]
    assert (figures["empty_audience"], figures["dynamodb_calls"]) == (1, 0)
    [logged] = [line for line in lines if line.get("message", "").startswith("empty users")]
    assert logged["message_id"] == event["Records"][0]["messageId"]


def test_broadcast_excluding_150_users_skips_exactly_them(stack):
    # GIVEN 160 users with one connection each
    stack.connect_many([(f"user-{n}", f"conn-{n}") for n in range(160)])
    excluded = [f"user-{n}" for n in range(150)]
    # WHEN a broadcast excludes 150 of them (over DynamoDB's 100-operand cap for NOT IN)
    response = handler(sqs_event(request_body({"n": 1}, exclude=excluded)), LambdaContext())
    # THEN only the other ten got it
    assert response == {"batchItemFailures": []}
    got = {f"conn-{n}" for n in range(160) if stack.api.received(f"conn-{n}")}
    assert got == {f"conn-{n}" for n in range(150, 160)}


def test_exclusions_apply_to_selected_users_too(stack):
    # GIVEN alice and bob connected
    stack.connect("alice", "a1")
    stack.connect("bob", "b1")
    # WHEN a request names both but excludes bob
    handler(sqs_event(request_body(1, users=["alice", "bob"], exclude=["bob"])), LambdaContext())
    # THEN bob gets nothing
    assert stack.api.received("a1") == [1]
    assert stack.api.received("b1") == []


def test_duplicated_users_get_one_post_per_connection_per_request(stack, capsys):
    # GIVEN alice on two devices
    stack.connect("alice", "a1", "a2")
    # WHEN one request names her three times and a second request names her again
    handler(
        sqs_event(
            request_body("first", users=["alice", "alice", "alice"]),
            request_body("second", users=["alice"]),
        ),
        LambdaContext(),
    )
    # THEN each connection got each request exactly once, from a single Query
    for connection_id in ("a1", "a2"):
        assert sorted(stack.api.received(connection_id)) == ["first", "second"]
    assert invocation_figures(capsys.readouterr().out)["dynamodb_calls"] == 1


def test_a_mixed_batch_delivers_the_valid_records_and_dead_letters_the_bad_one(stack, capsys):
    # GIVEN two users
    stack.connect("alice", "a1")
    stack.connect("bob", "b1")
    event = sqs_event(
        request_body("to-all", exclude=["bob"]),
        '{"users": "alice", "data": 1}',
        request_body("to-bob", users=["bob", "nobody"]),
    )
    # WHEN a broadcast, a broken request and a selective request arrive together
    response = handler(event, LambdaContext())
    # THEN the valid ones are delivered, the broken one is in the DLQ and not retried
    assert response == {"batchItemFailures": []}
    assert stack.api.received("a1") == ["to-all"]
    assert stack.api.received("b1") == ["to-bob"]
    [dead] = stack.dead_letters()
    assert dead["Body"] == '{"users": "alice", "data": 1}'
    assert dead["MessageAttributes"]["error_pointer"]["StringValue"] == "/users"
    figures = invocation_figures(capsys.readouterr().out)
    assert figures["records"] == 3
    assert figures["invalid"] == 1
    assert figures["dead_lettered"] == 1
    # one Scan for the broadcast + one Query per selected user (bob, nobody)
    assert figures["dynamodb_calls"] == 3


def test_sns_events_are_delivered(stack):
    # GIVEN alice connected
    stack.connect("alice", "a1")
    # WHEN the notification comes from the SNS topic
    response = handler(sns_event(request_body({"via": "sns"}, users=["alice"])), LambdaContext())
    # THEN it is delivered (the batch response is empty; SNS ignores it)
    assert response == {"batchItemFailures": []}
    assert stack.api.received("a1") == [{"via": "sns"}]


def test_sns_envelopes_in_a_queue_are_unwrapped(stack):
    # GIVEN a queue subscribed to the topic without raw message delivery
    stack.connect("alice", "a1")
    envelope = {
        "Type": "Notification",
        "MessageId": "m-1",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:notifications",
        "Message": request_body("wrapped", users=["alice"]),
        "Timestamp": "2026-11-27T12:00:00.000Z",
    }
    # WHEN the SQS body is the SNS envelope
    response = handler(sqs_event(json.dumps(envelope)), LambdaContext())
    # THEN the request inside is delivered
    assert response == {"batchItemFailures": []}
    assert stack.api.received("a1") == ["wrapped"]


def test_unicode_data_is_sent_as_json_verbatim(stack):
    stack.connect("alice", "a1")
    data = {"text": "héllo 🌊", "nested": [1, 2.5, None, True, {"k": "v"}]}
    handler(sqs_event(request_body(data, users=["alice"])), LambdaContext())
    assert stack.api.received("a1") == [data]


def test_users_without_connections_complete_without_posts(stack):
    response = handler(sqs_event(request_body(1, users=["ghost"])), LambdaContext())
    assert response == {"batchItemFailures": []}
    assert stack.api.total_posts() == 0


def test_opt_in_a_batch_naming_many_users_of_a_small_table_is_served_by_one_scan(stack, capsys):
    # GIVEN the opt-in scan switch, and 150 users with two connections each (a table far
    # smaller than 120 Query reads)
    stack.reconfigure(PUSHER_SELECTIVE_SCAN="auto")  # a fresh container: reads this table
    stack.connect_many([(f"user-{n}", f"conn-{n}-{d}") for n in range(150) for d in (1, 2)])
    users = [f"user-{n}" for n in range(120)]
    # WHEN one request names 120 of them, excluding one
    handler(sqs_event(request_body("x", users=users, exclude=["user-0"])), LambdaContext())
    # THEN exactly their connections got it, from DescribeTable + one Scan instead of 120 Queries
    got = {c for n in range(150) for d in (1, 2) if stack.api.received(c := f"conn-{n}-{d}")}
    assert got == {f"conn-{n}-{d}" for n in range(1, 120) for d in (1, 2)}
    assert invocation_figures(capsys.readouterr().out)["dynamodb_calls"] == 2


def test_by_default_each_selected_user_gets_its_own_query(stack, capsys):
    stack.reconfigure()
    stack.connect_many([(f"user-{n}", f"conn-{n}") for n in range(110)])
    handler(sqs_event(request_body("x", users=[f"user-{n}" for n in range(110)])), LambdaContext())
    assert stack.api.total_posts() == 110
    assert invocation_figures(capsys.readouterr().out)["dynamodb_calls"] == 110
