"""Adapters to AWS: the connections table read and the three presence sources.

Clients are built by ``handler`` once per container; nothing here runs at import time.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from sumu_contracts.models import PresenceEvent

from sumu_presence.settings import Settings
from sumu_presence.watchdog import PresencePublisher

# Bounded calls: a hung endpoint must fail the record (and let the stream retry) well inside the
# function timeout rather than time out the whole batch. "standard" retries back off and retry
# throttling, which a burst of disconnects can cause.
CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "total_max_attempts": 3},
)


def aws_client(service: str) -> Any:
    # AWS_ENDPOINT_URL (the local stack, moto in tests) is honoured by botocore itself.
    return boto3.client(service, config=CLIENT_CONFIG)


class DynamoConnectionsTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def has_connection(self, user_id: str) -> bool:
        # Strongly consistent: an eventually consistent read may still return the connection this
        # REMOVE just deleted and so miss the OFFLINE (the original watchdog's bug).
        # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html
        response = self._client.query(
            TableName=self._table_name,
            KeyConditionExpression="user_id = :user_id",
            ExpressionAttributeValues={":user_id": {"S": user_id}},
            ProjectionExpression="connection_id",
            ConsistentRead=True,
            Limit=1,
        )
        return bool(response.get("Items"))


def event_body(event: PresenceEvent) -> str:
    return json.dumps(event.body.to_json_dict(), separators=(",", ":"))


def _fifo_arguments(target: str, event: PresenceEvent, deduplication_id: str) -> dict[str, str]:
    """FIFO topics and queues need a group (per user keeps each user's events in order) and a
    deduplication id (the stream record's sequence number, so a retried batch re-sends the same id
    and FIFO drops the duplicate within its five-minute window)."""
    if not target.endswith(".fifo"):
        return {}
    return {
        "MessageGroupId": event.body.message.user_id,
        "MessageDeduplicationId": deduplication_id,
    }


class TopicPublisher:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, event: PresenceEvent, *, deduplication_id: str) -> None:
        self._client.publish(
            TopicArn=self._topic_arn,
            Message=event_body(event),
            MessageAttributes=event.message_attributes(),
            **_fifo_arguments(self._topic_arn, event, deduplication_id),
        )


class QueuePublisher:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def publish(self, event: PresenceEvent, *, deduplication_id: str) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=event_body(event),
            MessageAttributes=event.message_attributes(),
            **_fifo_arguments(self._queue_url, event, deduplication_id),
        )


class StreamOnlyPublisher:
    """PRESENCE_SOURCE=stream: backends read the table's stream themselves; nothing is sent."""

    def publish(self, event: PresenceEvent, *, deduplication_id: str) -> None:
        return None


def build_publisher(settings: Settings) -> PresencePublisher:
    if settings.presence_source == "stream" or settings.target is None:
        return StreamOnlyPublisher()
    if settings.presence_source == "topic":
        return TopicPublisher(aws_client("sns"), settings.target)
    return QueuePublisher(aws_client("sqs"), settings.target)
