"""The connections table (connection-record items) through an aiobotocore DynamoDB client.

Reads are eventually consistent (half the read capacity of strongly consistent reads): a
connection opened a few milliseconds before the lookup may miss one notification, which is the
same race as a notification sent just before the user connected. Only the two key attributes
are projected, with ``connected_at`` (the prune grace period needs it). Throttling and 5xx on these calls are retried by botocore's ``standard`` retry
mode configured on the client (see ``runtime``).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from sumu_pusher.batch_write import BATCH_WRITE_LIMIT, write_batch
from sumu_pusher.fanout import for_each_bounded
from sumu_pusher.settings import RetryPolicy
from sumu_pusher.targets import Connection

# One scan page holds at most 1 MB; connection records are ~150-250 bytes, so ~4,000 items per
# page. Each parallel segment reads about one page, which keeps a broadcast lookup at the latency
# of one page however large the table is.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html#Scan.ParallelScan
ITEMS_PER_SCAN_SEGMENT = 4_000
MAX_SCAN_SEGMENTS = 16
# DescribeTable's ItemCount is refreshed by DynamoDB about every six hours; asking more often
# than every ten minutes buys nothing.
ITEM_COUNT_TTL_SECONDS = 600.0
# When a batch names many users, one shared Scan can read less than one Query per user: a Query
# costs at least one 4 KB read unit however small the user's items, a Scan reads the table's
# bytes. Below MIN_USERS_FOR_SCAN the per-user Queries are kept (small batches, small latency).
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
READ_UNIT_BYTES = 4096
APPROX_ITEM_BYTES = 250
MIN_USERS_FOR_SCAN = 100
# Conditional deletes of young records in flight at once (they are rare: a 410 in the first
# minute of a connection); botocore's standard retry mode handles throttling.
CONDITIONAL_DELETE_CONCURRENCY = 8
_PROJECTION = {
    "ProjectionExpression": "#u, #c, #t",
    "ExpressionAttributeNames": {"#u": "user_id", "#c": "connection_id", "#t": "connected_at"},
}


@dataclass
class PruneOutcome:
    """What became of the gone connections handed to ``ConnectionsTable.prune``."""

    deleted: int = 0
    skipped: list[str] = field(default_factory=list)  # younger than the grace: kept
    left: int = 0  # not deleted because DynamoDB kept refusing (throttling, errors)


DEFAULT_RETRY = RetryPolicy()


def scan_segments_for(item_count: int) -> int:
    return max(1, min(MAX_SCAN_SEGMENTS, math.ceil(item_count / ITEMS_PER_SCAN_SEGMENT)))


class ConnectionsTable:
    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        scan_segments: int | None = None,
        prune_retry: RetryPolicy = DEFAULT_RETRY,
        page_limit: int | None = None,
    ) -> None:
        self._client = client
        self._table_name = table_name
        self._scan_segments = scan_segments
        self._prune_retry = prune_retry
        self._page_limit = page_limit
        self._item_count: tuple[float, int] | None = None
        self.calls = 0

    async def connections_of(self, user_id: str) -> list[Connection]:
        return await self._read_pages(
            "query",
            KeyConditionExpression="#u = :u",
            ExpressionAttributeValues={":u": {"S": user_id}},
        )

    async def all_connections(self) -> list[Connection]:
        total = await self.scan_segments()
        if total == 1:
            return await self._read_pages("scan")
        async with asyncio.TaskGroup() as group:
            segments = [
                group.create_task(self._read_pages("scan", Segment=segment, TotalSegments=total))
                for segment in range(total)
            ]
        return [connection for segment in segments for connection in segment.result()]

    async def scan_page(
        self,
        segment: int,
        total: int,
        limit: int,
        start: tuple[str, str] | None = None,
    ) -> tuple[list[Connection], tuple[str, str] | None]:
        """One page (at most ``limit`` items) of segment ``segment`` of a ``total``-way parallel
        scan, after ``start``: its connections and its LastEvaluatedKey as (user_id,
        connection_id), None at the segment's end. A caller that posts each page before asking
        for the next holds one page, not the segment (issue 19), and can hand the key on to a
        continuation. In a parallel scan the ExclusiveStartKey must come from the same segment.
        https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html#Scan.ParallelScan"""
        arguments: dict[str, Any] = {"TableName": self._table_name, **_PROJECTION, "Limit": limit}
        if total > 1:
            arguments.update(Segment=segment, TotalSegments=total)
        if start is not None:
            arguments["ExclusiveStartKey"] = {
                "user_id": {"S": start[0]},
                "connection_id": {"S": start[1]},
            }
        self.calls += 1
        response = await self._client.scan(**arguments)
        page = [
            Connection(item["user_id"]["S"], item["connection_id"]["S"], _epoch_ms(item))
            for item in response.get("Items", ())
            if "S" in item.get("user_id", {}) and "S" in item.get("connection_id", {})
        ]
        return page, _key_of(response.get("LastEvaluatedKey"))

    async def scan_segments(self) -> int:
        if self._scan_segments is not None:
            return self._scan_segments
        return scan_segments_for(await self.item_count())

    async def scan_reads_less_than_queries(self, users: int) -> bool:
        if users < MIN_USERS_FOR_SCAN:
            return False
        return users * READ_UNIT_BYTES > await self.item_count() * APPROX_ITEM_BYTES

    async def item_count(self) -> int:
        now = time.monotonic()
        if self._item_count is None or now - self._item_count[0] > ITEM_COUNT_TTL_SECONDS:
            self.calls += 1
            description = await self._client.describe_table(TableName=self._table_name)
            self._item_count = (now, int(description["Table"].get("ItemCount", 0)))
        return self._item_count[1]

    async def prune(self, connections: Sequence[Connection], cutoff_ms: int) -> PruneOutcome:
        """Delete these 410 Gone connections, but only those that connected before
        ``cutoff_ms`` (epoch ms): a younger one may be a connection whose ``$connect`` has not
        returned yet, which API Gateway also answers 410 (see settings.DEFAULT_PRUNE_GRACE_SECONDS).

        BatchWriteItem takes no condition, so it only deletes records the lookup saw old: a
        record's ``connected_at`` never changes (connection ids are unique and the record is
        written once), so old then is old now. Any other record (young at lookup, or without
        ``connected_at``) gets a DeleteItem whose condition checks the age atomically, in case
        it has come of age since the lookup; a failed condition is a skipped prune.
        """
        unique = list({c.connection_id: c for c in connections}.values())
        old = [c for c in unique if _connected_before(c, cutoff_ms)]
        other = [c for c in unique if not _connected_before(c, cutoff_ms)]
        outcome = PruneOutcome()

        async def delete_if_old(connection: Connection) -> None:
            try:
                deleted = await self._delete_if_connected_before(connection, cutoff_ms)
            except Exception:  # noqa: BLE001 - one item's failure stays its own (TTL later)
                outcome.left += 1
                return
            if deleted:
                outcome.deleted += 1
            else:
                outcome.skipped.append(connection.connection_id)

        async with asyncio.TaskGroup() as group:
            group.create_task(self._delete_unconditionally(old, outcome))
            group.create_task(
                for_each_bounded(other, CONDITIONAL_DELETE_CONCURRENCY, delete_if_old)
            )
        return outcome

    async def _delete_unconditionally(
        self, connections: Sequence[Connection], outcome: PruneOutcome
    ) -> None:
        left = await self.delete(connections)
        outcome.deleted += len(connections) - left
        outcome.left += left

    async def _delete_if_connected_before(self, connection: Connection, cutoff_ms: int) -> bool:
        """True when deleted (or already gone), False when the record is too young."""
        self.calls += 1
        try:
            await self._client.delete_item(
                TableName=self._table_name,
                Key={
                    "user_id": {"S": connection.user_id},
                    "connection_id": {"S": connection.connection_id},
                },
                # A record without connected_at (written by an older stack) is pruned as before.
                ConditionExpression="attribute_not_exists(#t) OR #t < :cutoff",
                ExpressionAttributeNames={"#t": "connected_at"},
                ExpressionAttributeValues={":cutoff": {"N": str(cutoff_ms)}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def delete(self, connections: Sequence[Connection]) -> int:
        """Delete these items unconditionally; return how many could not be deleted."""
        keys = list({connection.connection_id: connection for connection in connections}.values())
        chunks = [
            keys[start : start + BATCH_WRITE_LIMIT]
            for start in range(0, len(keys), BATCH_WRITE_LIMIT)
        ]
        async with asyncio.TaskGroup() as group:
            left = [group.create_task(self._delete_chunk(chunk)) for chunk in chunks]
        return sum(task.result() for task in left)

    async def _delete_chunk(self, chunk: Sequence[Connection]) -> int:
        requests: list[Any] = [
            {
                "DeleteRequest": {
                    "Key": {
                        "user_id": {"S": connection.user_id},
                        "connection_id": {"S": connection.connection_id},
                    }
                }
            }
            for connection in chunk
        ]
        calls, left = await write_batch(self._client, self._table_name, requests, self._prune_retry)
        self.calls += calls
        return left

    async def _read_pages(self, operation: str, **parameters: Any) -> list[Connection]:
        call = getattr(self._client, operation)
        arguments: dict[str, Any] = {"TableName": self._table_name, **_PROJECTION, **parameters}
        if self._page_limit is not None:
            arguments["Limit"] = self._page_limit
        connections: list[Connection] = []
        while True:
            self.calls += 1
            page = await call(**arguments)
            connections.extend(
                Connection(item["user_id"]["S"], item["connection_id"]["S"], _epoch_ms(item))
                for item in page.get("Items", ())
                if "S" in item.get("user_id", {}) and "S" in item.get("connection_id", {})
            )
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return connections
            arguments["ExclusiveStartKey"] = last_key


def _connected_before(connection: Connection, cutoff_ms: int) -> bool:
    return connection.connected_at_ms is not None and connection.connected_at_ms < cutoff_ms


def _epoch_ms(item: dict[str, Any]) -> int | None:
    text = item.get("connected_at", {}).get("N")
    try:
        return int(text) if isinstance(text, str) else None
    except ValueError:  # "1.7e12" or a decimal: a malformed record, treated as of unknown age
        return None


def _key_of(last_key: Any) -> tuple[str, str] | None:
    if not last_key:
        return None
    try:
        return (last_key["user_id"]["S"], last_key["connection_id"]["S"])
    except (KeyError, TypeError):
        raise ValueError(f"unexpected LastEvaluatedKey {last_key!r}") from None
