"""The notifications topic -> function: SNS events built from moto's SQS delivery."""

from __future__ import annotations

import json
import time
from typing import Any

from sumu_local.stack.sources.sns import SnsEventSource

from .factories import Recorder, clients, drain, resources


def test_a_published_message_arrives_as_an_sns_record(aws_env: Any) -> None:
    # GIVEN the stack's resources and an SNS source
    aws = clients()
    stack = resources(aws)
    recorder = Recorder()
    poller = SnsEventSource(
        function=recorder.function("pusher"),
        sqs=aws["sqs"],
        delivery_queue_url=stack.sns_delivery_queue_url,
        subscription_arn=stack.sns_delivery_subscription_arn,
        wait_seconds=0,
    )
    # WHEN a backend publishes a notification request with an attribute
    body = json.dumps({"users": ["alice"], "data": {"n": 1}})
    aws["sns"].publish(
        TopicArn=stack.notifications_topic_arn,
        Message=body,
        MessageAttributes={"origin": {"DataType": "String", "StringValue": "billing"}},
    )
    assert poller.poll_once() == 1
    # THEN the function got Lambda's SNS event, one record, the message verbatim
    [event] = recorder.events
    [record] = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == stack.sns_delivery_subscription_arn
    assert record["Sns"]["Message"] == body
    assert record["Sns"]["TopicArn"] == stack.notifications_topic_arn
    assert record["Sns"]["MessageAttributes"]["origin"] == {"Type": "String", "Value": "billing"}
    assert drain(aws["sqs"], stack.sns_delivery_queue_url) == []


def test_a_failed_invocation_is_retried_then_kept_aside(aws_env: Any) -> None:
    # GIVEN a function that always fails
    aws = clients()
    stack = resources(aws)

    def fail(event: dict[str, Any]) -> None:
        raise RuntimeError("down")

    recorder = Recorder(fail)
    poller = SnsEventSource(
        function=recorder.function(),
        sqs=aws["sqs"],
        delivery_queue_url=stack.sns_delivery_queue_url,
        subscription_arn=stack.sns_delivery_subscription_arn,
        wait_seconds=0,
    )
    aws["sns"].publish(TopicArn=stack.notifications_topic_arn, Message='{"data": 1}')
    # WHEN it polls across two visibility timeouts (maxReceiveCount 2)
    poller.poll_once()
    time.sleep(1.2)
    poller.poll_once()
    time.sleep(1.2)
    poller.poll_once()
    # THEN it was tried twice and the envelope waits in the internal DLQ
    assert len(recorder.events) == 2
    dlq = stack.sns_delivery_queue_url + "-dlq"
    [kept] = drain(aws["sqs"], dlq)
    assert json.loads(kept["Body"])["Message"] == '{"data": 1}'
