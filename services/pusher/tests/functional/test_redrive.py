"""A message redriven from the notifications DLQ is processed again, whatever put it there:
the pusher's own rejections, the queue's redrive policy, Lambda's asynchronous-invocation DLQ
(the whole SNS event as the body) or an on-failure destination (an invocation record)."""

from __future__ import annotations

import json

import pytest
from pusher_events import LambdaContext, request_body, sns_event, sqs_event
from sumu_pusher.handler import handler
from sumu_pusher.records import MAX_POST_BYTES


def test_a_rejection_written_by_the_pusher_is_processed_when_redriven(stack):
    # GIVEN a request whose post the gateway refused with 413 (say its quota was lower)
    stack.connect("alice", "a1")
    body = request_body({"n": 1}, users=["alice"])
    stack.api.behave("a1", "too_large")
    handler(sqs_event(body), LambdaContext())
    [dead] = stack.dead_letters()
    # WHEN the gateway is fixed and the DLQ message is redriven as it is
    stack.api.reset()
    response = handler(sqs_event(dead["Body"]), LambdaContext())
    # THEN the very request it held is delivered (the DLQ keeps the raw body; the reason is in
    # message attributes, which the pusher never reads)
    assert dead["Body"] == body
    assert response == {"batchItemFailures": []}
    assert stack.api.received("a1") == [{"n": 1}]


def test_a_body_moved_by_the_queue_redrive_policy_is_processed(stack):
    # SQS moves the message as it was after maxReceiveCount: the raw request body.
    stack.connect("alice", "a1")
    response = handler(sqs_event(request_body("again", users=["alice"])), LambdaContext())
    assert response == {"batchItemFailures": []}
    assert stack.api.received("a1") == ["again"]


def lambda_async_dlq_body(message: str) -> str:
    """What Lambda sends to a function's DLQ after its async retries: the event, unchanged.
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq
    """
    return json.dumps(sns_event(message))


def on_failure_destination_body(message: str) -> str:
    """An on-failure destination gets an invocation record holding the event as requestPayload.
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    """
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": "2026-11-27T12:00:03.000Z",
            "requestContext": {
                "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:sumu-pusher:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3,
            },
            "requestPayload": sns_event(message),
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "responsePayload": {"errorMessage": "delivery incomplete", "errorType": "X"},
        }
    )


@pytest.mark.parametrize("wrap", [lambda_async_dlq_body, on_failure_destination_body])
def test_a_lambda_async_failure_record_of_an_sns_event_is_processed(stack, wrap):
    # GIVEN an SNS-delivered request that failed Lambda's async retries and was recorded
    stack.connect("alice", "a1")
    stack.connect("bob", "b1")
    body = wrap(request_body({"n": 2}, users=["alice"]))
    # WHEN it is redriven into the notifications queue
    response = handler(sqs_event(body), LambdaContext())
    # THEN the request inside the SNS message is delivered, to its users only
    assert response == {"batchItemFailures": []}
    assert stack.api.received("a1") == [{"n": 2}]
    assert stack.api.received("b1") == []
    assert stack.dead_letters() == []


def test_a_lambda_event_whose_request_is_broken_is_dead_lettered_again(stack):
    body = lambda_async_dlq_body('{"users": "alice", "data": 1}')
    response = handler(sqs_event(body), LambdaContext())
    assert response == {"batchItemFailures": []}
    [dead] = stack.dead_letters()
    assert dead["Body"] == body  # unchanged, so a later redrive can try again
    assert dead["MessageAttributes"]["error_pointer"]["StringValue"] == "/users"


def test_a_lambda_event_of_several_records_is_not_a_notification_request(stack):
    event = sns_event(request_body(1))
    event["Records"] *= 2  # SNS invokes a function with one record, never more
    response = handler(sqs_event(json.dumps(event)), LambdaContext())
    assert response == {"batchItemFailures": []}
    [dead] = stack.dead_letters()
    assert dead["MessageAttributes"]["reason_code"]["StringValue"] == "contract_violation"


def test_an_oversized_request_inside_a_lambda_event_is_rejected_before_any_post(stack):
    stack.connect("alice", "a1")
    body = lambda_async_dlq_body(request_body("x" * MAX_POST_BYTES, users=["alice"]))
    handler(sqs_event(body), LambdaContext())
    [dead] = stack.dead_letters()
    assert dead["MessageAttributes"]["reason_code"]["StringValue"] == "payload_too_large"
    assert stack.api.attempts["a1"] == 0
