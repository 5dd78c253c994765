"""Table adapter logic that moto cannot provoke: UnprocessedItems, segment sizing."""

from __future__ import annotations

import asyncio

from botocore.exceptions import ClientError
from sumu_pusher.settings import RetryPolicy
from sumu_pusher.store import MAX_SCAN_SEGMENTS, ConnectionsTable, scan_segments_for
from sumu_pusher.targets import Connection


class ThrottledTable:
    """Leaves one item unprocessed on the first ``throttled`` BatchWriteItem calls."""

    def __init__(self, throttled: int) -> None:
        self.throttled = throttled
        self.batches: list[int] = []

    async def batch_write_item(self, RequestItems):
        [requests] = RequestItems.values()
        self.batches.append(len(requests))
        if self.throttled:
            self.throttled -= 1
            return {"UnprocessedItems": {"t": requests[:1]}}
        return {"UnprocessedItems": {}}


def delete(client, connections, attempts=3):
    table = ConnectionsTable(client, "t", prune_retry=RetryPolicy(attempts, 0.001, 0.002))
    return asyncio.run(table.delete(connections)), table.calls


def test_unprocessed_items_are_sent_again():
    client = ThrottledTable(throttled=2)
    left, calls = delete(client, [Connection("u", f"c{n}") for n in range(3)])
    assert (left, calls, client.batches) == (0, 3, [3, 1, 1])


def test_retrying_unprocessed_items_is_bounded():
    client = ThrottledTable(throttled=10)
    left, calls = delete(client, [Connection("u", "c")], attempts=3)
    assert (left, calls) == (1, 3)


def test_segments_grow_with_the_table_up_to_a_cap():
    assert scan_segments_for(0) == 1
    assert scan_segments_for(4_000) == 1
    assert scan_segments_for(4_001) == 2
    assert scan_segments_for(10**9) == MAX_SCAN_SEGMENTS


class SizedTable:
    def __init__(self, item_count: int) -> None:
        self.item_count = item_count

    async def describe_table(self, TableName):
        return {"Table": {"ItemCount": self.item_count}}


def test_a_scan_replaces_queries_only_for_many_users_and_a_small_table():
    def cheaper(users, items):
        table = ConnectionsTable(SizedTable(items), "t")
        return asyncio.run(table.scan_reads_less_than_queries(users))

    assert not cheaper(10, 5)  # few users: always Queries
    assert cheaper(500, 1_000)  # 500 read units of Queries vs ~61 of Scan
    assert not cheaper(500, 1_000_000)  # a big table: Queries


class ConditionalTable:
    """Answers DeleteItem: ConditionalCheckFailed for "young", a 500 for "broken", else OK."""

    def __init__(self) -> None:
        self.deleted: list[str] = []

    async def delete_item(self, **parameters):
        connection_id = parameters["Key"]["connection_id"]["S"]
        assert parameters["ConditionExpression"] == "attribute_not_exists(#t) OR #t < :cutoff"
        if connection_id in {"young", "broken"}:
            code = "ConditionalCheckFailedException" if connection_id == "young" else "Internal"
            raise ClientError({"Error": {"Code": code}}, "DeleteItem")
        self.deleted.append(connection_id)

    async def batch_write_item(self, RequestItems):
        [requests] = RequestItems.values()
        self.deleted.extend(r["DeleteRequest"]["Key"]["connection_id"]["S"] for r in requests)
        return {"UnprocessedItems": {}}


def test_a_prune_keeps_young_records_and_isolates_a_failing_delete():
    client = ConditionalTable()
    table = ConnectionsTable(client, "t")
    gone = [
        Connection("u", "old", 1_000),  # old at lookup: BatchWriteItem
        Connection("u", "young", 9_000),  # young at lookup: conditional, refused
        Connection("u", "broken", 9_000),  # conditional, fails for another reason
        Connection("u", "unknown", None),  # no connected_at: conditional, deleted
    ]
    outcome = asyncio.run(table.prune(gone, cutoff_ms=5_000))
    assert (outcome.deleted, outcome.skipped, outcome.left) == (2, ["young"], 1)
    assert sorted(client.deleted) == ["old", "unknown"]
