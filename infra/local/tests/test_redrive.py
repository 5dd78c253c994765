"""``sumu redrive`` end to end on moto: a request the pusher dead-letters is redriven after the
fix and delivered; Lambda's async DLQ shape goes through too; --dry-run and --max hold."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from sumu_local.cli import main
from sumu_local.stack.manifest import StackManifest
from sumu_pusher.handler import handler
from sumu_pusher.runtime import close_thread_runtime
from sumu_testkit.tables import create_connections_table

TABLE = "redrive-connections"


@dataclass
class Gateway:
    """A management API on 127.0.0.1 whose message quota can be "fixed": 413, then 200."""

    refuse: bool = True
    received: list[bytes] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/test"

    def start(self) -> Gateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if gateway.refuse:
                    payload = b'{"message": "PayloadTooLargeException"}'
                    self.send_response(413)
                    self.send_header("x-amzn-ErrorType", "PayloadTooLargeException")
                else:
                    gateway.received.append(body)
                    payload = b""
                    self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass
class Stack:
    sqs: Any
    queue_url: str
    dlq_url: str
    manifest: Path
    gateway: Gateway

    def deliver(self) -> dict[str, Any]:
        """One poll of the event source mapping: receive, invoke the pusher, delete successes."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        event = {
            "Records": [
                {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                    "eventSource": "aws:sqs",
                }
                for message in messages
            ]
        }
        response: dict[str, Any] = dict(handler(event, None))
        failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return response

    def count(self, queue_url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())


@pytest.fixture
def stack(aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    dynamodb = boto3.client("dynamodb")
    create_connections_table(dynamodb, TABLE)
    connected_at_ms = int((time.time() - 600) * 1000)
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "user_id": {"S": "alice"},
            "connection_id": {"S": "a1"},
            "connected_at": {"N": str(connected_at_ms)},
            "delete_at": {"N": str(connected_at_ms // 1000 + 7200)},
        },
    )
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName="redrive-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName="redrive-notifications",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
        },
    )["QueueUrl"]
    gateway = Gateway().start()
    for name, value in {
        "CONNECTIONS_TABLE_NAME": TABLE,
        "APIGW_ENDPOINT": gateway.endpoint,
        "NOTIFICATIONS_DLQ_URL": dlq_url,
        "PUSHER_SCAN_SEGMENTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    close_thread_runtime()
    document: dict[str, Any] = {item.name: "" for item in fields(StackManifest)}
    document.update(
        aws_endpoint_url=aws_env.endpoint_url,
        region=aws_env.region,
        notifications_queue_url=queue_url,
        notifications_dlq_url=dlq_url,
        pid=os.getpid(),
    )
    manifest = StackManifest(**document).write(tmp_path / ".sumu")
    yield Stack(sqs, queue_url, dlq_url, manifest, gateway)
    close_thread_runtime()
    gateway.stop()


def sumu_redrive(stack: Stack, capsys: pytest.CaptureFixture[str], *options: str) -> list[Any]:
    capsys.readouterr()
    assert main(["redrive", "--stack", str(stack.manifest), *options]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_dead_lettered_request_is_redriven_and_delivered_after_the_fix(stack, capsys):
    # GIVEN a request the gateway refuses (413): the pusher dead-letters it at once
    request = {"users": ["alice"], "data": {"order": 42}}
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(request))
    assert stack.deliver() == {"batchItemFailures": []}
    assert (stack.count(stack.queue_url), stack.count(stack.dlq_url)) == (0, 1)
    # WHEN the gateway is fixed and the DLQ is redriven
    stack.gateway.refuse = False
    *listed, summary = sumu_redrive(stack, capsys)
    assert (summary["moved"], listed[0]["reason_code"]) == (1, "payload_too_large")
    assert (stack.count(stack.queue_url), stack.count(stack.dlq_url)) == (1, 0)
    # THEN the pusher delivers it on its next poll
    assert stack.deliver() == {"batchItemFailures": []}
    assert [json.loads(body) for body in stack.gateway.received] == [{"order": 42}]
    assert (stack.count(stack.queue_url), stack.count(stack.dlq_url)) == (0, 0)


def test_lambdas_async_dlq_entry_for_an_sns_event_is_redriven_and_delivered(stack, capsys):
    # GIVEN what Lambda puts in a function DLQ after the async retries of an SNS invocation:
    # the SNS event as the body, RequestID / ErrorCode (Number) / ErrorMessage attributes
    request = json.dumps({"users": ["alice"], "data": "from sns"})
    event = {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:notifications:sub",
                "Sns": {"Type": "Notification", "MessageId": "m-1", "Message": request},
            }
        ]
    }
    stack.sqs.send_message(
        QueueUrl=stack.dlq_url,
        MessageBody=json.dumps(event),
        MessageAttributes={
            "RequestID": {"DataType": "String", "StringValue": "r-1"},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": "delivery incomplete"},
        },
    )
    stack.gateway.refuse = False
    # WHEN redriven, THEN the pusher delivers the request inside it
    *_, summary = sumu_redrive(stack, capsys)
    assert summary["moved"] == 1
    assert stack.deliver() == {"batchItemFailures": []}
    assert [json.loads(body) for body in stack.gateway.received] == ["from sns"]


def test_dry_run_lists_and_moves_nothing_and_max_bounds_the_move(stack, capsys):
    for n in range(5):
        stack.sqs.send_message(QueueUrl=stack.dlq_url, MessageBody=json.dumps({"data": n}))
    # A dry run lists at most --max and leaves every message visible in the DLQ
    *listed, summary = sumu_redrive(stack, capsys, "--dry-run", "--max", "3")
    assert (len(listed), summary["moved"], summary["dry_run"]) == (3, 0, True)
    assert stack.count(stack.dlq_url) == 5
    *_, summary = sumu_redrive(stack, capsys, "--dry-run")
    assert summary["seen"] == 5  # the first dry run made them visible again
    # --max 2 moves two
    *_, summary = sumu_redrive(stack, capsys, "--max", "2")
    assert summary["moved"] == 2
    assert (stack.count(stack.queue_url), stack.count(stack.dlq_url)) == (2, 3)
