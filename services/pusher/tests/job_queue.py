"""The notifications queue of the fan-out tests (issue 19): run what it holds, as the SQS event
source would, invocation after invocation, until it is empty."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pusher_events import LambdaContext, sqs_record
from sumu_pusher.handler import handler

FULL = LambdaContext()


def drain(
    stack: Any,
    queue_url: str,
    contexts: Sequence[LambdaContext] = (),
    batch: int = 10,
) -> list[dict[str, Any]]:
    """Run the queue's jobs, the i-th invocation with ``contexts[i]`` (then full ones), until
    the queue is empty; return every job body received (redeliveries included). A record in
    ``batchItemFailures`` becomes visible again at once; the others are deleted."""
    seen: list[dict[str, Any]] = []
    for round_number in range(200):  # bounded: each round receives up to `batch` jobs
        messages = stack.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=batch, VisibilityTimeout=600
        ).get("Messages", [])
        if not messages:
            return seen
        context = contexts[round_number] if round_number < len(contexts) else FULL
        event = {"Records": [sqs_record(m["Body"], m["MessageId"]) for m in messages]}
        failed = {f["itemIdentifier"] for f in handler(event, context)["batchItemFailures"]}
        for message in messages:
            seen.append(json.loads(message["Body"]))
            if message["MessageId"] in failed:
                stack.sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                stack.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError("the queue never emptied")


def fresh_queue(stack: Any, name: str) -> str:
    url: str = stack.sqs.create_queue(QueueName=name)["QueueUrl"]
    stack.sqs.purge_queue(QueueUrl=url)
    return url


def clear_connections(stack: Any) -> None:
    pages = stack.dynamodb.get_paginator("scan").paginate(TableName="sumu-connections")
    for page in pages:
        for item in page["Items"]:
            stack.dynamodb.delete_item(
                TableName="sumu-connections",
                Key={"user_id": item["user_id"], "connection_id": item["connection_id"]},
            )
