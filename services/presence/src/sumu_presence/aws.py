"""Adapters to AWS: the connections table read and the three presence sources.

Clients are built once per container, each on its first use; nothing here calls AWS at import.
"""

from __future__ import annotations

import hashlib
import math
import threading
from typing import Any

from botocore.config import Config

from sumu_presence import endpoint_data
from sumu_presence.presence_event import PresenceEvent
from sumu_presence.settings import Settings
from sumu_presence.watchdog import PresencePublisher

# Bounded calls: a hung endpoint must fail the record (and let the stream retry) well inside the
# function timeout rather than time out the whole batch. "standard" retries back off and retry
# throttling, which a burst of disconnects can cause. DynamoDB, SQS and SNS answer in
# milliseconds; 1 s to connect and 3 s per read leave room for a slow moment and keep the
# deadline margin below (15 s) to half of the 30 s function timeout.
CONNECT_TIMEOUT_SECONDS = 1
READ_TIMEOUT_SECONDS = 3
MAX_ATTEMPTS = 3
CLIENT_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
)
# Standard mode waits random() * 2 ** (attempt - 1) seconds, at most 20 s, before each retry:
# https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
_MAX_BACKOFF_SECONDS = 20


def worst_call_seconds(config: Config) -> float:
    """The longest one AWS call can take with every retry: each attempt's connect and read
    timeouts, plus the longest backoff before each retry. (A read timeout bounds each socket
    read, and these APIs answer in one small read.)"""
    attempts = int(config.retries["total_max_attempts"])
    per_attempt = float(config.connect_timeout) + float(config.read_timeout)
    backoff = sum(min(2 ** (retry - 1), _MAX_BACKOFF_SECONDS) for retry in range(1, attempts))
    return float(attempts * per_attempt + backoff)


# No AWS call starts with less than this left before the Lambda deadline (watchdog.py).
CALL_MARGIN_MS = math.ceil(worst_call_seconds(CLIENT_CONFIG) * 1000)


class AwsClients:
    """One boto3 session and its clients, each built on first use (an INSERT-only first batch
    never builds the DynamoDB client). The lock: boto3 sessions are not thread-safe, and the
    local stack may call the handler from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        built = self._clients.get(service)
        if built is not None:
            return built
        with self._lock:
            if service not in self._clients:
                if self._session is None:
                    # AWS_ENDPOINT_URL (the local stack, moto in tests) is honoured by botocore.
                    self._session = endpoint_data.session()
                self._clients[service] = self._session.client(service, config=CLIENT_CONFIG)
            return self._clients[service]

    def built(self) -> frozenset[str]:
        return frozenset(self._clients)


class ClientOnFirstUse:
    def __init__(self, clients: AwsClients, service: str) -> None:
        self._clients = clients
        self._service = service

    def __getattr__(self, operation: str) -> Any:
        return getattr(self._clients.client(self._service), operation)


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


def message_group_id(user_id: str) -> str:
    """The user's FIFO group: a hash, because a group id allows only 128 alphanumeric and
    punctuation characters and a user id may hold anything (spaces, any Unicode, 1024 chars):
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
    One user, one group, so each user's events stay in order; SHA-256 makes two users sharing a
    group (which would only serialise them) practically impossible."""
    digest = hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"user-{digest}"


def _fifo_arguments(target: str, event: PresenceEvent, deduplication_id: str) -> dict[str, str]:
    """FIFO topics and queues need a group (per user keeps each user's events in order) and a
    deduplication id (the stream record's sequence number, so a retried batch re-sends the same id
    and FIFO drops the duplicate within its five-minute window)."""
    if not target.endswith(".fifo"):
        return {}
    return {
        "MessageGroupId": message_group_id(event.message.user_id),
        "MessageDeduplicationId": deduplication_id,
    }


class TopicPublisher:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, event: PresenceEvent, *, deduplication_id: str) -> None:
        self._client.publish(
            TopicArn=self._topic_arn,
            Message=event.body_text(),
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
            MessageBody=event.body_text(),
            MessageAttributes=event.message_attributes(),
            **_fifo_arguments(self._queue_url, event, deduplication_id),
        )


class StreamOnlyPublisher:
    """PRESENCE_SOURCE=stream: backends read the table's stream themselves; nothing is sent."""

    def publish(self, event: PresenceEvent, *, deduplication_id: str) -> None:
        return None


def build_publisher(settings: Settings, clients: AwsClients) -> PresencePublisher:
    if settings.presence_source == "stream" or settings.target is None:
        return StreamOnlyPublisher()
    if settings.presence_source == "topic":
        return TopicPublisher(ClientOnFirstUse(clients, "sns"), settings.target)
    return QueuePublisher(ClientOnFirstUse(clients, "sqs"), settings.target)
