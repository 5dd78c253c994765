"""The subscriptions table (subscription-record items, written by sumu-connections) through the
same aiobotocore DynamoDB client as the connections table.

Key ``channel`` (hash) / ``connection_id`` (range): a channel's subscribers are one Query,
paginated. GSI ``by_connection`` (``connection_id`` / ``channel``, projection ALL): a gone
connection's subscriptions are one Query, then BatchWriteItem deletes. Reads are eventually
consistent, like the connections table's: a subscription made a moment before the lookup may
miss one message (the same race as subscribing just after it was published). With history
(issue 18) the subscribers Query is strongly consistent instead: a subscribe with ``since``
writes its subscription, then reads history; this Query runs after the message's history
write, so either the subscriber's history read saw the message or this Query sees the
subscription (no gap at the seam; twice the read units).
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sumu_pusher.batch_write import BATCH_WRITE_LIMIT, write_batch
from sumu_pusher.fanout import for_each_bounded
from sumu_pusher.settings import RetryPolicy
from sumu_pusher.targets import Connection

BY_CONNECTION_INDEX = "by_connection"
# Gone connections whose subscriptions are looked up and deleted at once.
PRUNE_CONCURRENCY = 8


class SubscriptionsTable:
    def __init__(
        self, client: Any, table_name: str, *, retry: RetryPolicy, consistent: bool = False
    ) -> None:
        self._client = client
        self._consistent = consistent
        self._table_name = table_name
        self._retry = retry
        self.calls = 0

    async def subscribers_of(self, channel: str) -> list[Connection]:
        """The channel's subscribed connections (``connected_at_ms`` unknown: a subscription
        does not carry it, so a 410 prune checks the age on the connection record itself)."""
        subscribers: list[Connection] = []
        async for page in self.subscriber_pages(channel):
            subscribers.extend(page)
        return subscribers

    async def subscriber_pages(
        self, channel: str, limit: int | None = None
    ) -> AsyncIterator[list[Connection]]:
        """The channel's subscribers one Query page (at most ``limit`` items) at a time, so a
        caller splitting a large channel into jobs holds one page, not the channel (issue 19)."""
        arguments: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "#ch = :ch",
            "ExpressionAttributeValues": {":ch": {"S": channel}},
            "ProjectionExpression": "#u, #c",
            "ExpressionAttributeNames": {"#u": "user_id", "#c": "connection_id", "#ch": "channel"},
            "ConsistentRead": self._consistent,
        }
        if limit is not None:
            arguments["Limit"] = limit
        for _ in range(10_000_000):  # bounded: a page holds at least one item or ends the Query
            self.calls += 1
            page = await self._client.query(**arguments)
            last_key = page.get("LastEvaluatedKey")
            yield [
                Connection(item["user_id"]["S"], item["connection_id"]["S"])
                for item in page.get("Items", ())
                if "S" in item.get("user_id", {}) and "S" in item.get("connection_id", {})
            ]
            if not last_key:
                return
            arguments["ExclusiveStartKey"] = last_key

    async def delete_subscriptions_of(self, connection_ids: Sequence[str]) -> int:
        """Delete every subscription of these (gone) connections; how many could not be."""
        left = 0

        async def prune(connection_id: str) -> None:
            nonlocal left
            try:
                channels = await self._channels_of(connection_id)
                for start in range(0, len(channels), BATCH_WRITE_LIMIT):
                    left += await self._delete_chunk(
                        connection_id, channels[start : start + BATCH_WRITE_LIMIT]
                    )
            except Exception:  # noqa: BLE001 - one connection's failure stays its own (TTL later)
                left += 1

        await for_each_bounded(dict.fromkeys(connection_ids), PRUNE_CONCURRENCY, prune)
        return left

    async def _channels_of(self, connection_id: str) -> list[str]:
        arguments: dict[str, Any] = {
            "TableName": self._table_name,
            "IndexName": BY_CONNECTION_INDEX,
            "KeyConditionExpression": "#c = :c",
            "ExpressionAttributeNames": {"#c": "connection_id", "#ch": "channel"},
            "ExpressionAttributeValues": {":c": {"S": connection_id}},
            "ProjectionExpression": "#ch",
        }
        channels: list[str] = []
        while True:
            self.calls += 1
            page = await self._client.query(**arguments)
            channels.extend(
                item["channel"]["S"]
                for item in page.get("Items", ())
                if "S" in item.get("channel", {})
            )
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return channels
            arguments["ExclusiveStartKey"] = last_key

    async def _delete_chunk(self, connection_id: str, channels: Sequence[str]) -> int:
        requests: list[Any] = [
            {
                "DeleteRequest": {
                    "Key": {"channel": {"S": channel}, "connection_id": {"S": connection_id}}
                }
            }
            for channel in channels
        ]
        calls, left = await write_batch(self._client, self._table_name, requests, self._retry)
        self.calls += calls
        return left
