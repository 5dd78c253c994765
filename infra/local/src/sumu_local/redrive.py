"""``sumu redrive``: move the notifications DLQ back into the notifications queue after a fix.

    sumu redrive [--max N] [--dry-run] [--stack FILE]

Whatever put a message in the DLQ (the pusher's own rejections, the queue's redrive policy
after maxReceiveCount, or Lambda's asynchronous-invocation DLQ holding a whole SNS event), its
body is what the pusher reads again: the message is re-sent unchanged, attributes included.

SQS has ``StartMessageMoveTask`` for this on AWS, but moto (5.x) does not implement it, and it
moves everything at a fixed rate with no bound on the count. This is the portable loop instead:
receive, send to the queue, then delete from the DLQ, at most ``--max`` messages. Sending before
deleting makes it at-least-once: an interruption between the two leaves a duplicate (which the
pusher's at-least-once delivery allows), never a loss.
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sumu_local.stack.aws import aws_client
from sumu_local.stack.manifest import default_manifest_path, read_running

DEFAULT_MAX_MESSAGES = 1000
# SQS answers at most 10 messages per ReceiveMessage.
RECEIVE_BATCH = 10
# Long polling asks every SQS server, so one empty answer means the DLQ is empty (short polling
# samples a subset and may answer empty while messages remain).
WAIT_SECONDS = 1
# Received messages stay hidden this long: long enough to send and delete a batch, short enough
# that an interrupted run leaves them visible again soon.
VISIBILITY_TIMEOUT_SECONDS = 60
PREVIEW_CHARS = 200


@dataclass
class RedriveReport:
    moved: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)


def add_redrive_command(subparsers: Any) -> None:
    redrive_parser = subparsers.add_parser(
        "redrive", help="move the notifications DLQ back into the notifications queue"
    )
    redrive_parser.add_argument(
        "--max",
        type=int,
        default=DEFAULT_MAX_MESSAGES,
        help=f"move at most this many messages (default {DEFAULT_MAX_MESSAGES})",
    )
    redrive_parser.add_argument(
        "--dry-run", action="store_true", help="list the messages, move nothing"
    )
    redrive_parser.add_argument(
        "--stack", type=Path, default=None, help="stack.json of the stack (.sumu/stack.json)"
    )
    redrive_parser.set_defaults(func=run_redrive)


def run_redrive(args: argparse.Namespace) -> int:
    if args.max < 1:
        print("sumu redrive: --max must be at least 1", file=sys.stderr)
        return 2
    manifest = read_running(args.stack or default_manifest_path())
    sqs = aws_client("sqs", manifest.aws_endpoint_url, manifest.region)
    try:
        report = redrive(
            sqs,
            manifest.notifications_dlq_url,
            manifest.notifications_queue_url,
            max_messages=args.max,
            dry_run=args.dry_run,
        )
    except (BotoCoreError, ClientError) as error:
        print(f"sumu redrive: {error}", file=sys.stderr)
        return 1
    for message in report.seen:
        print(json.dumps(message))
    print(
        json.dumps(
            {
                "dry_run": args.dry_run,
                "moved": report.moved,
                "seen": len(report.seen),
                "from": manifest.notifications_dlq_url,
                "to": manifest.notifications_queue_url,
            }
        )
    )
    return 0


def redrive(
    sqs: Any, dlq_url: str, queue_url: str, *, max_messages: int, dry_run: bool = False
) -> RedriveReport:
    """Move up to ``max_messages`` from ``dlq_url`` to ``queue_url`` (a boto3 SQS client)."""
    report = RedriveReport()
    held: list[str] = []  # dry run: receipt handles to make visible again at the end
    try:
        # Bounded: each round takes at least one message or ends the loop.
        while len(report.seen) < max_messages:
            messages = sqs.receive_message(
                QueueUrl=dlq_url,
                MaxNumberOfMessages=min(RECEIVE_BATCH, max_messages - len(report.seen)),
                MessageAttributeNames=["All"],
                VisibilityTimeout=VISIBILITY_TIMEOUT_SECONDS,
                WaitTimeSeconds=WAIT_SECONDS,
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                report.seen.append(_summary(message))
                if dry_run:
                    held.append(message["ReceiptHandle"])
                    continue
                sqs.send_message(
                    QueueUrl=queue_url,
                    MessageBody=message["Body"],
                    MessageAttributes=_sendable(message.get("MessageAttributes", {})),
                )
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
                report.moved += 1
    finally:
        for receipt_handle in held:
            # Visible again at once: a dry run leaves the DLQ as it found it.
            sqs.change_message_visibility(
                QueueUrl=dlq_url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
            )
    return report


def _sendable(attributes: dict[str, Any]) -> dict[str, Any]:
    """Received message attributes -> the shape SendMessage takes (no list values)."""
    sendable: dict[str, Any] = {}
    for name, attribute in attributes.items():
        value = {
            key: attribute[key]
            for key in ("DataType", "StringValue", "BinaryValue")
            if key in attribute
        }
        if "DataType" in value and len(value) == 2:
            sendable[name] = value
    return sendable


def _summary(message: dict[str, Any]) -> dict[str, Any]:
    attributes = message.get("MessageAttributes", {})
    # The pusher's rejections say why in reason_code / reason; Lambda's DLQ in ErrorMessage.
    reason = {
        name: attributes[name].get("StringValue")
        for name in ("reason_code", "reason", "ErrorMessage")
        if name in attributes
    }
    return {
        "message_id": message.get("MessageId"),
        **reason,
        "body": message.get("Body", "")[:PREVIEW_CHARS],
    }
