"""The notifications queue -> function poller: Lambda's batch and partial-failure rules."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sumu_local.stack.sources.sqs import SqsEventSource, failed_message_ids

from .factories import Recorder, clients, drain, resources


def source(aws: dict[str, Any], recorder: Recorder) -> tuple[SqsEventSource, Any]:
    stack = resources(aws)
    return (
        SqsEventSource(
            function=recorder.function("pusher"),
            sqs=aws["sqs"],
            queue_url=stack.notifications_queue_url,
            queue_arn=stack.notifications_queue_arn,
            region="us-east-1",
            wait_seconds=0,
        ),
        stack,
    )


def send(aws: dict[str, Any], queue_url: str, *bodies: str) -> None:
    for body in bodies:
        aws["sqs"].send_message(
            QueueUrl=queue_url,
            MessageBody=body,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
        )


def test_a_batch_arrives_as_lambdas_sqs_event(aws_env: Any) -> None:
    # GIVEN two messages on the notifications queue
    aws = clients()
    recorder = Recorder()
    poller, stack = source(aws, recorder)
    send(aws, stack.notifications_queue_url, '{"data": 1}', '{"data": 2}')
    # WHEN the source polls once
    assert poller.poll_once() == 2
    # THEN the function got one event in Lambda's shape, and the queue is empty
    record = recorder.records[0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == stack.notifications_queue_arn
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"]["stringValue"] == "test"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert sorted(json.loads(r["body"])["data"] for r in recorder.records) == [1, 2]
    assert drain(aws["sqs"], stack.notifications_queue_url) == []


def test_only_reported_failures_come_back_then_go_to_the_dlq(aws_env: Any) -> None:
    # GIVEN a function that always reports the "bad" message as failed
    aws = clients()

    def respond(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchItemFailures": [
                {"itemIdentifier": record["messageId"]}
                for record in event["Records"]
                if record["body"] == "bad"
            ]
        }

    recorder = Recorder(respond)
    poller, stack = source(aws, recorder)
    send(aws, stack.notifications_queue_url, "good", "bad")
    # WHEN the source polls, waits out the 1 s visibility timeout, polls again (maxReceiveCount 2)
    assert poller.poll_once() == 2
    time.sleep(1.2)
    assert poller.poll_once() == 1
    time.sleep(1.2)
    assert poller.poll_once() == 0
    # THEN "good" ran once, "bad" twice, and "bad" now sits in the DLQ
    bodies = [record["body"] for record in recorder.records]
    assert bodies.count("good") == 1
    assert bodies.count("bad") == 2
    assert [m["Body"] for m in drain(aws["sqs"], stack.notifications_dlq_url)] == ["bad"]


def test_a_function_error_retries_the_whole_batch(aws_env: Any) -> None:
    # GIVEN a function that raises once, then succeeds
    aws = clients()
    calls: list[int] = []

    def respond(event: dict[str, Any]) -> None:
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("boom")

    poller, stack = source(aws, Recorder(respond))
    send(aws, stack.notifications_queue_url, "a", "b")
    # WHEN it polls, the visibility timeout passes, it polls again
    poller.poll_once()
    assert drain(aws["sqs"], stack.notifications_queue_url) == []  # in flight, not deleted
    time.sleep(1.2)
    poller.poll_once()
    # THEN both messages were delivered twice and none is left
    assert calls == [2, 2]
    time.sleep(1.2)
    assert poller.poll_once() == 0


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (None, set()),
        ("", set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m1"}]}, {"m1"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": "unknown"}]}, None),
        ({"batchItemFailures": "m1"}, None),
        ({"batchItemFailures": [{"id": "m1"}]}, None),
    ],
)
def test_batch_item_failures_follow_lambdas_rules(response: Any, expected: set[str] | None) -> None:
    assert failed_message_ids(response, {"m1", "m2"}) == expected
