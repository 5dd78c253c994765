"""Small factories for the events Lambda hands the pusher, and a Lambda context double."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

_ids = itertools.count(1)


def request_body(
    data: Any,
    users: list[str] | None = None,
    exclude: list[str] | None = None,
    channels: list[str] | None = None,
) -> str:
    request: dict[str, Any] = {"data": data}
    if users is not None:
        request["users"] = users
    if channels is not None:
        request["channels"] = channels
    if exclude is not None:
        request["exclude_users"] = exclude
    return json.dumps(request)


def sqs_record(body: str, message_id: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or f"message-{next(_ids)}",
        "receiptHandle": "handle",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:notifications",
        "awsRegion": "us-east-1",
    }


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [sqs_record(body) for body in bodies]}


def sns_event(body: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:notifications:sub",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": f"sns-{next(_ids)}",
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:notifications",
                    "Message": body,
                    "Timestamp": "2026-11-27T12:00:00.000Z",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


@dataclass
class LambdaContext:
    remaining_ms: int = 30_000
    function_name: str = "sumu-pusher"
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def log_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def invocation_figures(stdout: str) -> dict[str, Any]:
    """The figures of the last invocation logged in ``stdout`` (the line with EMF metadata)."""
    return [line for line in log_lines(stdout) if "_aws" in line][-1]
