"""Every failure path: gone, too large, throttled, broken, hung, late, forbidden, bad input."""

from __future__ import annotations

import json
import time

import pytest
from pusher_events import (
    LambdaContext,
    failed_ids,
    invocation_figures,
    log_lines,
    request_body,
    sns_event,
    sqs_event,
)
from pusher_standin import Flaky
from sumu_pusher.handler import IncompleteDelivery, handler
from sumu_pusher.records import MAX_POST_BYTES


def attribute(message, name):
    return message["MessageAttributes"][name]["StringValue"]


def test_gone_connections_are_deleted_in_the_same_run(stack, capsys):
    # GIVEN alice with a live connection and one that API Gateway no longer knows
    stack.connect("alice", "live", "stale")
    stack.api.behave("stale", "gone")
    # WHEN she is notified
    response = handler(sqs_event(request_body("x", users=["alice"])), LambdaContext())
    # THEN the live one got it, the stale item is gone from the table, nothing is retried
    assert response == {"batchItemFailures": []}
    assert stack.api.received("live") == ["x"]
    assert stack.connection_ids() == {"live"}
    figures = invocation_figures(capsys.readouterr().out)
    assert (figures["gone"], figures["pruned"]) == (1, 1)


def test_a_410_from_a_connection_still_in_its_connect_does_not_delete_its_record(stack, capsys):
    # GIVEN a record written "now" by a $connect that has not returned yet (API Gateway answers
    # 410 until it does), and an established connection that is really gone
    stack.connect("alice", "opening", age_s=0)
    stack.connect("bob", "stale")
    stack.api.behave("opening", "gone")
    stack.api.behave("stale", "gone")
    # WHEN a broadcast runs in that window
    response = handler(sqs_event(request_body("x")), LambdaContext())
    # THEN the young record survives (its connection is about to open), the old one is deleted,
    # and the skipped prune is counted
    assert response == {"batchItemFailures": []}
    assert stack.connection_ids() == {"opening"}
    lines = log_lines(capsys.readouterr().out)
    figures = [line for line in lines if "_aws" in line][-1]
    assert (figures["gone"], figures["pruned"], figures["prune_skipped"]) == (2, 1, 1)
    [skipped] = [line for line in lines if line.get("message", "").startswith("prune skipped")]
    assert skipped["connection_ids"] == ["opening"]


def test_the_prune_grace_period_is_a_setting(stack):
    # GIVEN no grace period: every 410 prunes at once
    stack.reconfigure(PUSHER_PRUNE_GRACE_SECONDS="0")
    stack.connect("alice", "opening", age_s=0)
    stack.api.behave("opening", "gone")
    response = handler(sqs_event(request_body("x", users=["alice"])), LambdaContext())
    assert response == {"batchItemFailures": []}
    assert stack.connection_ids() == set()


def test_many_gone_connections_are_pruned_in_batches_of_25(stack):
    # GIVEN 60 connections of a broadcast, all gone
    stack.connect_many([(f"user-{n}", f"gone-{n}") for n in range(60)])
    stack.api.default_behaviour = "gone"
    # WHEN a broadcast runs
    response = handler(sqs_event(request_body("x")), LambdaContext())
    # THEN every item was deleted (three BatchWriteItem calls) and the record is complete
    assert response == {"batchItemFailures": []}
    assert stack.connection_ids() == set()


def test_payload_too_large_answer_dead_letters_the_record_at_once(stack, capsys):
    # GIVEN a connection whose gateway answers 413 (its quota is lower than ours)
    stack.connect("alice", "small")
    stack.connect("bob", "b1")
    stack.api.behave("small", "too_large")
    body = request_body("big", users=["alice"])
    event = sqs_event(body, request_body("fine", users=["bob"]))
    # WHEN the batch runs
    response = handler(event, LambdaContext())
    # THEN the record is in the DLQ with its reason, not retried; the other record is delivered
    assert response == {"batchItemFailures": []}
    [dead] = stack.dead_letters()
    assert dead["Body"] == body
    assert attribute(dead, "reason_code") == "payload_too_large"
    assert "413" in attribute(dead, "reason")
    assert attribute(dead, "source_message_id") == event["Records"][0]["messageId"]
    assert stack.api.received("b1") == ["fine"]
    assert stack.api.attempts["small"] == 1  # never retried


def test_data_over_the_gateway_limit_is_dead_lettered_without_a_post(stack):
    stack.connect("alice", "a1")
    body = request_body("x" * MAX_POST_BYTES, users=["alice"])
    response = handler(sqs_event(body), LambdaContext())
    assert response == {"batchItemFailures": []}
    [dead] = stack.dead_letters()
    assert attribute(dead, "reason_code") == "payload_too_large"
    assert attribute(dead, "error_pointer") == "/data"
    assert stack.api.attempts["a1"] == 0


@pytest.mark.parametrize("behaviour", ["throttle", "error"])
def test_throttling_and_server_errors_are_retried_until_delivered(stack, capsys, behaviour):
    # GIVEN a connection that answers 429 (or 500) twice, then 200
    stack.connect("alice", "a1")
    stack.api.behave("a1", Flaky(2, behaviour))
    # WHEN notified (PUSHER_MAX_ATTEMPTS=3)
    response = handler(sqs_event(request_body("x", users=["alice"])), LambdaContext())
    # THEN the third attempt delivered it
    assert response == {"batchItemFailures": []}
    assert stack.api.received("a1") == ["x"]
    assert stack.api.attempts["a1"] == 3
    assert invocation_figures(capsys.readouterr().out)["retried"] == 2


def test_a_record_still_failing_after_retries_is_returned_for_redelivery(stack, capsys):
    # GIVEN alice whose second connection always answers 500, and bob who is fine
    stack.connect("alice", "a1", "a2")
    stack.connect("bob", "b1")
    stack.api.behave("a2", "error")
    event = sqs_event(request_body("x", users=["alice"]), request_body("y", users=["bob"]))
    # WHEN the batch runs
    response = handler(event, LambdaContext())
    # THEN only alice's record is retried (whole: a1 will get it again), it is not dead-lettered
    assert failed_ids(response) == [event["Records"][0]["messageId"]]
    assert stack.api.received("a1") == ["x"]
    assert stack.api.received("b1") == ["y"]
    assert stack.api.attempts["a2"] == 3
    assert stack.dead_letters() == []
    figures = invocation_figures(capsys.readouterr().out)
    assert (figures["failed"], figures["incomplete"]) == (1, 1)


def test_a_hung_post_times_out_and_the_record_is_retried(stack):
    # GIVEN a connection that never answers (post timeout 500 ms, three attempts)
    stack.connect("alice", "hung", "a2")
    stack.api.behave("hung", "hang")
    event = sqs_event(request_body("x", users=["alice"]))
    # WHEN notified
    response = handler(event, LambdaContext())
    # THEN the other connection got it and the record comes back
    assert failed_ids(response) == [event["Records"][0]["messageId"]]
    assert stack.api.received("a2") == ["x"]
    assert stack.api.attempts["hung"] == 3


def test_the_fan_out_stops_at_the_lambda_deadline(stack, capsys):
    # GIVEN a connection that hangs and a long post timeout, with 1.2 s left (0.5 s margin)
    stack.reconfigure(PUSHER_POST_TIMEOUT_MS="10000")
    handler(sqs_event(request_body("warm-up")), LambdaContext())  # a warm container
    capsys.readouterr()
    stack.connect("alice", "hung")
    stack.api.behave("hung", "hang")
    event = sqs_event(request_body("x", users=["alice"]))
    # WHEN notified
    started = time.monotonic()
    response = handler(event, LambdaContext(remaining_ms=1200))
    # THEN the handler returned before the deadline and the record is retried
    assert time.monotonic() - started < 1.2
    assert failed_ids(response) == [event["Records"][0]["messageId"]]
    assert invocation_figures(capsys.readouterr().out)["unfinished"] == 1


def test_a_403_fails_the_batch_loudly_instead_of_dead_lettering_each_request(stack, capsys):
    # GIVEN a management API that answers 403 to everything (the role lacks
    # execute-api:ManageConnections, or APIGW_ENDPOINT names another API or stage)
    stack.connect_many([(f"user-{n}", f"conn-{n}") for n in range(40)])
    stack.api.default_behaviour = "forbidden"
    event = sqs_event(
        request_body("x", users=["user-1"]), request_body("y"), "not json", request_body("z")
    )
    # WHEN a batch of valid requests and one broken record arrives
    response = handler(event, LambdaContext())
    # THEN every valid request comes back for a retry, none is dead-lettered
    valid_ids = [event["Records"][n]["messageId"] for n in (0, 1, 3)]
    assert failed_ids(response) == valid_ids
    [dead] = stack.dead_letters()
    assert attribute(dead, "reason_code") == "invalid_json"  # only the broken record
    # AND the fan-out stopped at the first answers instead of trying all 40 connections
    # (PUSHER_CONCURRENCY=16 in flight, plus the one drawn while they ran, out of 42 targets)
    assert sum(stack.api.attempts.values()) <= 16 + 1
    # AND an ERROR line names the likely causes, and the figures count it
    lines = log_lines(capsys.readouterr().out)
    [error] = [line for line in lines if line.get("message", "").startswith("management API")]
    assert error["level"] == "ERROR"
    assert "execute-api:ManageConnections" in error["message"]
    assert "APIGW_ENDPOINT" in error["message"]
    assert error["apigw_endpoint"] == stack.api.endpoint
    assert [line for line in lines if "_aws" in line][-1]["configuration_errors"] == 1


def test_a_403_on_sns_raises(stack):
    stack.connect("alice", "a1")
    stack.api.behave("a1", "forbidden")
    with pytest.raises(IncompleteDelivery, match="403"):
        handler(sns_event(request_body("x", users=["alice"])), LambdaContext())
    assert stack.dead_letters() == []


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ("not json", "invalid_json", None),
        ("", "invalid_json", None),
        ('{"data": NaN}', "invalid_json", None),
        ("[1]", "contract_violation", None),
        ('{"user": ["alice"], "data": 1}', "contract_violation", None),
        ('{"users": ["alice", ""], "data": 1}', "contract_violation", "/users/1"),
        ('{"users": ["alice"]}', "contract_violation", None),
    ],
)
def test_records_breaking_the_contract_go_to_the_dlq_with_the_reason(stack, body, code, pointer):
    # GIVEN alice connected
    stack.connect("alice", "a1")
    # WHEN a broken record arrives next to a good one
    event = sqs_event(body, request_body("ok", users=["alice"]))
    response = handler(event, LambdaContext())
    # THEN the broken one is dead-lettered with its reason, never retried, the good one delivered
    assert response == {"batchItemFailures": []}
    [dead] = stack.dead_letters()
    assert dead["Body"] == (body or "(empty body)")
    assert attribute(dead, "reason_code") == code
    assert attribute(dead, "reason")
    assert attribute(dead, "event_source") == "aws:sqs"
    if pointer is None:
        assert "error_pointer" not in dead["MessageAttributes"]
    else:
        assert attribute(dead, "error_pointer") == pointer
    assert stack.api.received("a1") == ["ok"]


def test_unrecognised_records_are_dead_lettered_too(stack):
    event = {"Records": [{"eventSource": "aws:kinesis", "messageId": "k-1"}, 42]}
    response = handler(event, LambdaContext())
    assert response == {"batchItemFailures": []}
    dead = stack.dead_letters()
    assert {attribute(message, "reason_code") for message in dead} == {"unrecognised_record"}
    assert len(dead) == 2


@pytest.mark.parametrize("event", [None, 42, "text", {}, {"Records": "x"}, {"Records": []}])
def test_events_without_records_do_nothing(stack, event):
    assert handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert stack.dead_letters() == []


def test_without_a_dlq_rejections_are_logged_with_their_reason(stack, capsys):
    # GIVEN no NOTIFICATIONS_DLQ_URL
    stack.reconfigure(NOTIFICATIONS_DLQ_URL=None)
    # WHEN a broken record arrives
    response = handler(sqs_event('{"users": "alice", "data": 1}'), LambdaContext())
    # THEN it is logged with its reason and body, and not retried
    assert response == {"batchItemFailures": []}
    [rejected] = [line for line in log_lines(capsys.readouterr().out) if line.get("reason_code")]
    assert rejected["error_pointer"] == "/users"
    assert rejected["body"] == '{"users": "alice", "data": 1}'
    assert stack.dead_letters() == []


def test_when_the_dlq_refuses_the_record_falls_back_to_a_queue_retry(stack):
    # GIVEN a DLQ URL that does not exist
    stack.reconfigure(NOTIFICATIONS_DLQ_URL=stack.dlq_url + "-missing")
    event = sqs_event("not json")
    # WHEN a broken record arrives
    response = handler(event, LambdaContext())
    # THEN it is not lost: the queue redelivers it (and its own redrive policy keeps it)
    assert failed_ids(response) == [event["Records"][0]["messageId"]]


def test_when_lookups_fail_every_record_is_retried(stack):
    # GIVEN a table that does not exist
    stack.reconfigure(CONNECTIONS_TABLE_NAME="missing-table")
    event = sqs_event(request_body("x", users=["alice"]), request_body("y"))
    # WHEN a selective and a broadcast request arrive
    response = handler(event, LambdaContext())
    # THEN both come back for redelivery
    assert failed_ids(response) == [record["messageId"] for record in event["Records"]]


def test_sns_rejections_are_logged_not_raised(stack, capsys):
    response = handler(sns_event('{"users": 1, "data": 2}'), LambdaContext())
    assert response == {"batchItemFailures": []}
    assert stack.dead_letters() == []
    [rejected] = [line for line in log_lines(capsys.readouterr().out) if line.get("reason_code")]
    assert rejected["event_source"] == "aws:sns"
    assert json.loads(rejected["body"]) == {"users": 1, "data": 2}


def test_an_incomplete_sns_delivery_raises_for_lambdas_async_retry(stack, capsys):
    # GIVEN a connection that always answers 500
    stack.connect("alice", "a1")
    stack.api.behave("a1", "error")
    # WHEN the request comes from SNS, THEN the handler raises after logging its figures
    with pytest.raises(IncompleteDelivery):
        handler(sns_event(request_body("x", users=["alice"])), LambdaContext())
    assert invocation_figures(capsys.readouterr().out)["failed"] == 1
