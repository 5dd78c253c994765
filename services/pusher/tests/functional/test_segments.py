"""Issue 19: broadcasts split into fanout jobs across invocations, on moto and the stand-in.

The "invocations" are handler calls fed with what the notifications queue (a moto queue) holds,
until it is empty, as the SQS event source would.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pusher_events import LambdaContext, request_body, sns_event, sqs_event, sqs_record
from pusher_standin import Flaky
from sumu_pusher.handler import handler

QUEUE = "sumu-notifications"
# "Exactly once" only holds when no post times out after the stand-in took it (a timed-out post
# is retried: at-least-once). On this shared machine a 500 ms post timeout can fire under load.
SLACK = {"PUSHER_POST_TIMEOUT_MS": "10000"}


def drain(stack: Any, queue_url: str, rounds: int = 50) -> list[dict[str, Any]]:
    """Run every job the queue holds (and the jobs they enqueue); return the job bodies seen."""
    seen: list[dict[str, Any]] = []
    for _ in range(rounds):  # bounded: each round runs one receive of up to 10 jobs
        messages = stack.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=600
        ).get("Messages", [])
        if not messages:
            return seen
        event = {"Records": [sqs_record(m["Body"], m["MessageId"]) for m in messages]}
        response = handler(event, LambdaContext())
        assert response == {"batchItemFailures": []}
        for message in messages:
            seen.append(json.loads(message["Body"]))
            stack.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError("the queue never emptied")


@pytest.fixture
def queue(stack: Any) -> str:
    url: str = stack.sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    stack.sqs.purge_queue(QueueUrl=url)
    return url


def clear_table(stack: Any) -> None:
    for connection_id in stack.connection_ids():
        pages = stack.dynamodb.scan(TableName="sumu-connections")["Items"]
        for item in pages:
            if item["connection_id"]["S"] == connection_id:
                stack.dynamodb.delete_item(
                    TableName="sumu-connections",
                    Key={"user_id": item["user_id"], "connection_id": item["connection_id"]},
                )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    size=st.integers(min_value=0, max_value=40),
    segments=st.integers(min_value=1, max_value=6),
    excluded=st.sets(st.integers(min_value=0, max_value=9), max_size=4),
    via_sns=st.booleans(),
)
def test_a_segmented_broadcast_reaches_every_connection_exactly_once(  # noqa: PLR0917 - drawn
    stack, queue, size, segments, excluded, via_sns
):
    # GIVEN `size` connections of ten users and a broadcast split into `segments` jobs
    clear_table(stack)
    stack.api.reset()
    stack.reconfigure(
        **SLACK, NOTIFICATIONS_QUEUE_URL=queue, PUSHER_BROADCAST_SEGMENTS=str(segments)
    )
    connections = [(f"user-{i % 10}", f"conn-{i}") for i in range(size)]
    stack.connect_many(connections)
    excluded_users = sorted(f"user-{i}" for i in excluded)
    body = request_body({"n": size}, exclude=excluded_users)
    # WHEN the request arrives (from SQS or SNS) and every job it produced runs
    event = sns_event(body) if via_sns else sqs_event(body)
    assert handler(event, LambdaContext()) == {"batchItemFailures": []}
    jobs = drain(stack, queue)
    # THEN each connection of a user not excluded got it exactly once, across the segments
    for user_id, connection_id in connections:
        expected = [] if user_id in excluded_users else [{"n": size}]
        assert stack.api.received(connection_id) == expected
    # and the split made one job per segment (none when K = 1: the request stayed whole)
    assert len(jobs) == (segments if segments > 1 else 0)
    assert sorted(job["segment"] for job in jobs) == list(range(len(jobs)))


def test_a_failing_connection_is_retried_alone_in_a_narrowed_job(stack, queue):
    # GIVEN 30 connections, two of which answer 500 for every attempt of the first job
    stack.reconfigure(**SLACK, NOTIFICATIONS_QUEUE_URL=queue, PUSHER_BROADCAST_SEGMENTS="3")
    stack.connect_many([(f"u{i}", f"c{i}") for i in range(30)])
    for connection_id in ("c4", "c17"):
        stack.api.behave(connection_id, Flaky(3))  # PUSHER_MAX_ATTEMPTS is 3
    # WHEN the broadcast is split and its jobs run
    assert handler(sqs_event(request_body("hello")), LambdaContext()) == {"batchItemFailures": []}
    jobs = drain(stack, queue)
    # THEN every connection got it exactly once: the retry went to the two alone
    for i in range(30):
        assert stack.api.received(f"c{i}") == ["hello"]
    # (one narrowed job per segment that had a failure, naming only its failed connections)
    narrowed = [job for job in jobs if "connections" in job]
    named = sorted(c["connection_id"] for job in narrowed for c in job["connections"])
    assert named == ["c17", "c4"]
    assert {job["attempt"] for job in narrowed} == {1}
    assert len({job["origin_id"] for job in jobs}) == 1


def test_a_connection_failing_past_the_job_limit_is_dead_lettered_with_the_reason(stack, queue):
    # GIVEN one connection that always answers 500, and at most 2 job attempts
    stack.reconfigure(
        **SLACK,
        NOTIFICATIONS_QUEUE_URL=queue,
        PUSHER_BROADCAST_SEGMENTS="2",
        PUSHER_JOB_MAX_ATTEMPTS="2",
    )
    stack.connect_many([("alice", "a1"), ("bob", "b1"), ("carol", "c1")])
    stack.api.behave("b1", "error")
    # WHEN the broadcast runs through its jobs
    assert handler(sqs_event(request_body("x")), LambdaContext()) == {"batchItemFailures": []}
    drain(stack, queue)
    # THEN the others got it once, and the DLQ holds the narrowed job for b1 with the reason
    assert stack.api.received("a1") == ["x"]
    assert stack.api.received("c1") == ["x"]
    [letter] = stack.dead_letters()
    job = json.loads(letter["Body"])
    assert [c["connection_id"] for c in job["connections"]] == ["b1"]
    assert letter["MessageAttributes"]["reason_code"]["StringValue"] == "retries_exhausted"


def test_a_small_table_stays_in_one_invocation_with_auto(stack, queue, capsys):
    # GIVEN a few connections and PUSHER_BROADCAST_SEGMENTS=auto
    stack.reconfigure(**SLACK, NOTIFICATIONS_QUEUE_URL=queue, PUSHER_BROADCAST_SEGMENTS=None)
    stack.connect("alice", "a1")
    # WHEN a broadcast arrives
    assert handler(sqs_event(request_body("hi")), LambdaContext()) == {"batchItemFailures": []}
    # THEN it is delivered at once, and no job was enqueued
    assert stack.api.received("a1") == ["hi"]
    assert drain(stack, queue) == []


def test_an_invalid_job_is_dead_lettered_not_taken_for_a_request(stack, queue):
    stack.reconfigure(NOTIFICATIONS_QUEUE_URL=queue)
    body = json.dumps({"kind": "fanout-job", "origin_id": "m", "data": 1, "attempt": 0})
    assert handler(sqs_event(body), LambdaContext()) == {"batchItemFailures": []}
    [letter] = stack.dead_letters()
    assert "fanout-job" in letter["MessageAttributes"]["reason"]["StringValue"]
