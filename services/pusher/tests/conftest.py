"""Fixtures of the pusher's tests: the connections table and DLQ on moto, the management API
stand-in, and the environment the handler reads."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from sumu_testkit.tables import create_connections_table, create_subscriptions_table

# The stand-in and event factories are plain modules beside this file (tests are not a package).
sys.path.insert(0, str(Path(__file__).parent))

from pusher_standin import ManagementApiStandIn
from sumu_pusher.runtime import close_thread_runtime, thread_runtime
from sumu_pusher.settings import Settings

TABLE = "sumu-connections"
# Records of connections opened well before the prune grace period (their $connect is over).
ESTABLISHED_S = 600.0
DLQ = "sumu-notifications-dlq"
SUBSCRIPTIONS = "sumu-subscriptions"


@dataclass
class PusherStack:
    """The AWS side of a test: connections table and DLQ on moto, read with plain boto3."""

    dynamodb: Any
    sqs: Any
    dlq_url: str
    api: ManagementApiStandIn
    monkeypatch: pytest.MonkeyPatch

    def reconfigure(self, **environment: str | None) -> None:
        """Change the pusher's environment; the next call starts a fresh runtime (cold start)."""
        for name, value in environment.items():
            if value is None:
                self.monkeypatch.delenv(name, raising=False)
            else:
                self.monkeypatch.setenv(name, value)
        close_thread_runtime()

    def connect(self, user_id: str, *connection_ids: str, age_s: float = ESTABLISHED_S) -> None:
        """Connection records whose ``$connect`` ran ``age_s`` seconds ago (0: still running)."""
        for connection_id in connection_ids:
            self.dynamodb.put_item(TableName=TABLE, Item=_item(user_id, connection_id, age_s))

    def connect_many(self, items: list[tuple[str, str]]) -> None:
        for start in range(0, len(items), 25):
            requests = [
                {"PutRequest": {"Item": _item(*item, ESTABLISHED_S)}}
                for item in items[start : start + 25]
            ]
            self.dynamodb.batch_write_item(RequestItems={TABLE: requests})

    def subscribe(self, user_id: str, connection_id: str, *channels: str) -> None:
        """subscription-record items as sumu-connections writes them (issue 17)."""
        for channel in channels:
            self.dynamodb.put_item(
                TableName=SUBSCRIPTIONS,
                Item={
                    "channel": {"S": channel},
                    "connection_id": {"S": connection_id},
                    "user_id": {"S": user_id},
                    "subscribed_at": {"N": str(int(time.time() * 1000))},
                    "delete_at": {"N": str(int(time.time()) + 7200)},
                },
            )

    def subscriptions(self) -> set[tuple[str, str]]:
        """(channel, connection_id) of every subscription item."""
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=SUBSCRIPTIONS)
        return {
            (item["channel"]["S"], item["connection_id"]["S"])
            for page in pages
            for item in page["Items"]
        }

    def connection_ids(self) -> set[str]:
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=TABLE)
        return {item["connection_id"]["S"] for page in pages for item in page["Items"]}

    def dead_letters(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        for _ in range(100):  # bounded: the DLQ of one test holds a few dozen at most
            page = self.sqs.receive_message(
                QueueUrl=self.dlq_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                VisibilityTimeout=600,
            ).get("Messages", [])
            if not page:
                return messages
            messages.extend(page)
        return messages


def _item(user_id: str, connection_id: str, age_s: float) -> dict[str, Any]:
    connected_at_ms = int((time.time() - age_s) * 1000)
    return {
        "user_id": {"S": user_id},
        "connection_id": {"S": connection_id},
        "connected_at": {"N": str(connected_at_ms)},
        "delete_at": {"N": str(connected_at_ms // 1000 + 7200)},
    }


def reason_of(message: dict[str, Any]) -> str:
    value: str = message["MessageAttributes"]["reason"]["StringValue"]
    return value


@pytest.fixture(scope="session")
def management_api() -> Iterator[ManagementApiStandIn]:
    stand_in = ManagementApiStandIn("mvp").start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def stack(
    aws_env: Any, management_api: ManagementApiStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PusherStack]:
    """GIVEN an empty table, an empty DLQ and a management API that answers 200."""
    management_api.reset()
    dynamodb = boto3.client("dynamodb")
    create_connections_table(dynamodb, TABLE)
    create_subscriptions_table(dynamodb, SUBSCRIPTIONS)
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName=DLQ)["QueueUrl"]
    for name, value in {
        "CONNECTIONS_TABLE_NAME": TABLE,
        "APIGW_ENDPOINT": management_api.endpoint,
        "NOTIFICATIONS_DLQ_URL": dlq_url,
        "PUSHER_CONCURRENCY": "16",
        "PUSHER_MAX_ATTEMPTS": "3",
        "PUSHER_BACKOFF_BASE_MS": "5",
        "PUSHER_BACKOFF_MAX_MS": "20",
        "PUSHER_POST_TIMEOUT_MS": "500",
        "PUSHER_SAFETY_MARGIN_MS": "500",
        "PUSHER_SCAN_SEGMENTS": "1",
        "SUBSCRIPTIONS_TABLE_NAME": SUBSCRIPTIONS,
    }.items():
        monkeypatch.setenv(name, value)
    # Building aiobotocore clients takes about a second on this machine, so the runtime (the
    # "container") is kept between tests whose settings are the same, as Lambda keeps it warm.
    if thread_runtime().settings != Settings.from_env(os.environ):
        close_thread_runtime()
    yield PusherStack(dynamodb, sqs, dlq_url, management_api, monkeypatch)
    if thread_runtime().settings != Settings.from_env(os.environ):
        close_thread_runtime()


def pytest_sessionfinish(session: pytest.Session) -> None:
    close_thread_runtime()
