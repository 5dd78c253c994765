"""Small builders for the stack's tests: resources in moto and stand-in functions."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from sumu_local.stack.config import Timeouts
from sumu_local.stack.lambda_runtime import LocalFunction
from sumu_local.stack.resources import StackResources, create_resources

FAST = Timeouts(visibility_timeout_seconds=1, max_receive_count=2, sqs_wait_seconds=0)


def clients() -> dict[str, Any]:
    return {name: boto3.client(name) for name in ("dynamodb", "sqs", "sns", "dynamodbstreams")}


def resources(aws: dict[str, Any], timeouts: Timeouts = FAST) -> StackResources:
    return create_resources(
        stage="test", timeouts=timeouts, dynamodb=aws["dynamodb"], sqs=aws["sqs"], sns=aws["sns"]
    )


class Recorder:
    """A stand-in function: records every event, answers with ``respond(event)``."""

    def __init__(self, respond: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.respond = respond or (lambda event: None)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        assert context.get_remaining_time_in_millis() > 0
        self.events.append(event)
        return self.respond(event)

    def function(self, name: str = "stand-in") -> LocalFunction:
        function = LocalFunction(name, "tests.stand_in", timeout_seconds=30)
        function._handler = self
        return function

    @property
    def records(self) -> list[dict[str, Any]]:
        return [record for event in self.events for record in event["Records"]]


def connection_item(user_id: str, connection_id: str, delete_at: int) -> dict[str, Any]:
    return {
        "user_id": {"S": user_id},
        "connection_id": {"S": connection_id},
        "connected_at": {"N": str(int(time.time() * 1000))},
        "delete_at": {"N": str(delete_at)},
    }


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message on a queue now (a handful of receives, bounded)."""
    messages: list[dict[str, Any]] = []
    for _ in range(10):
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=30,
        ).get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
    return messages
