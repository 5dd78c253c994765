"""The subscriptions table: one subscription-record per (channel, connection).

Key: ``channel`` (hash) and ``connection_id`` (range), so a channel's subscribers are one Query;
the GSI ``by_connection`` (``connection_id`` hash, ``channel`` range, projection ALL) finds a
connection's subscriptions for the limit, ``$disconnect`` and the pusher's 410 prune.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sumu_contracts import validate

BY_CONNECTION_INDEX = "by_connection"
# BatchWriteItem takes at most 25 requests:
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
BATCH_SIZE = 25
# Unprocessed items (throttling) are sent again with backoff, a bounded number of times; what is
# still left then expires by TTL (delete_at), so nothing lives past the connection's 2 hours.
BATCH_ATTEMPTS = 5
BATCH_BACKOFF_SECONDS = 0.05
# A connection has at most CHANNELS_PER_CONNECTION items; pages are bounded all the same.
MAX_PAGES = 1000


@dataclass(frozen=True)
class Subscription:
    channel: str
    connection_id: str
    user_id: str
    subscribed_at_ms: int
    delete_at: int

    def as_contract(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "connection_id": self.connection_id,
            "user_id": self.user_id,
            "subscribed_at": self.subscribed_at_ms,
            "delete_at": self.delete_at,
        }

    def as_item(self) -> dict[str, dict[str, str]]:
        # N numbers so delete_at works as the table's TTL attribute.
        return {
            name: {"N": str(value)} if isinstance(value, int) else {"S": value}
            for name, value in self.as_contract().items()
        }


def new_subscription(
    *,
    channel: str,
    connection_id: str,
    user_id: str,
    subscribed_at_ms: int,
    connected_at_ms: int,
    ttl_seconds: int,
) -> Subscription:
    """A subscription that expires with its connection's record (the same delete_at); raises
    ContractError when the values break the subscription-record contract."""
    subscription = Subscription(
        channel=channel,
        connection_id=connection_id,
        user_id=user_id,
        subscribed_at_ms=subscribed_at_ms,
        delete_at=connected_at_ms // 1000 + ttl_seconds,
    )
    validate("subscription-record", subscription.as_contract())
    return subscription


@dataclass(frozen=True)
class SubscriptionStore:
    dynamodb: Any
    table_name: str

    def put(self, subscription: Subscription) -> None:
        # PutItem overwrites: subscribing twice leaves one item.
        self.dynamodb.put_item(TableName=self.table_name, Item=subscription.as_item())

    def delete(self, *, channel: str, connection_id: str) -> None:
        # Unconditional, so unsubscribing from a channel never subscribed succeeds (idempotent).
        self.dynamodb.delete_item(
            TableName=self.table_name,
            Key={"channel": {"S": channel}, "connection_id": {"S": connection_id}},
        )

    def exists(self, *, channel: str, connection_id: str) -> bool:
        item = self.dynamodb.get_item(
            TableName=self.table_name,
            Key={"channel": {"S": channel}, "connection_id": {"S": connection_id}},
            ProjectionExpression="channel",
            ConsistentRead=True,
        ).get("Item")
        return item is not None

    def channels_of(self, connection_id: str) -> list[str]:
        """The connection's channels, from the by_connection GSI. A GSI is eventually consistent
        (it does not support ConsistentRead): a subscription made a moment ago may be missing."""
        channels: list[str] = []
        start: dict[str, Any] | None = None
        for _ in range(MAX_PAGES):
            arguments: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": BY_CONNECTION_INDEX,
                "KeyConditionExpression": "connection_id = :connection_id",
                "ExpressionAttributeValues": {":connection_id": {"S": connection_id}},
                "ProjectionExpression": "channel",
            }
            if start is not None:
                arguments["ExclusiveStartKey"] = start
            page = self.dynamodb.query(**arguments)
            channels.extend(item["channel"]["S"] for item in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return channels

    def delete_all(self, connection_id: str) -> int:
        """Delete every subscription of the connection; the number of items deleted. Raises the
        client's error, or RuntimeError when throttling left items after BATCH_ATTEMPTS."""
        channels = self.channels_of(connection_id)
        for offset in range(0, len(channels), BATCH_SIZE):
            requests = [
                {
                    "DeleteRequest": {
                        "Key": {"channel": {"S": channel}, "connection_id": {"S": connection_id}}
                    }
                }
                for channel in channels[offset : offset + BATCH_SIZE]
            ]
            self._write_batch(requests)
        return len(channels)

    def _write_batch(self, requests: list[dict[str, Any]]) -> None:
        pending: dict[str, list[dict[str, Any]]] = {self.table_name: requests}
        for attempt in range(BATCH_ATTEMPTS):
            if attempt:
                time.sleep(BATCH_BACKOFF_SECONDS * 2 ** (attempt - 1))
            response = self.dynamodb.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return
        left = sum(len(items) for items in pending.values())
        raise RuntimeError(f"{left} subscription deletes still unprocessed after throttling")
