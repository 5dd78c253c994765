"""The loop and clients per thread, bounded concurrency, and the table adapter against moto."""

from __future__ import annotations

import asyncio
import threading
import time

from aiobotocore.session import get_session
from conftest import TABLE
from pusher_events import LambdaContext, log_lines, request_body, sqs_event
from sumu_pusher import runtime as runtime_module
from sumu_pusher.handler import handler
from sumu_pusher.runtime import close_idle_runtimes
from sumu_pusher.store import ConnectionsTable
from sumu_pusher.targets import Connection


def test_posts_in_flight_never_exceed_the_concurrency(stack):
    # GIVEN 64 connections that each take 50 ms to answer, and PUSHER_CONCURRENCY=16
    stack.connect_many([(f"user-{n}", f"conn-{n}") for n in range(64)])
    stack.api.default_behaviour = "slow"
    # WHEN a broadcast runs
    response = handler(sqs_event(request_body("x")), LambdaContext())
    # THEN all got it, with up to 16 posts at once and never more
    assert response == {"batchItemFailures": []}
    assert stack.api.total_posts() == 64
    assert 2 <= stack.api.max_in_flight <= 16


def test_concurrent_calls_from_worker_threads_each_use_their_own_loop(stack):
    # GIVEN three users, and the local stack's way of calling: worker threads, no running loop
    for n in range(3):
        stack.connect(f"user-{n}", f"conn-{n}")
    responses: dict[int, object] = {}
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for round_number in range(2):  # the second call reuses the thread's loop
                event = sqs_event(request_body(f"{n}-{round_number}", users=[f"user-{n}"]))
                responses[n * 10 + round_number] = handler(event, LambdaContext())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    # WHEN three threads call the handler at the same time
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # THEN every call succeeded and delivered
    assert errors == []
    assert all(response == {"batchItemFailures": []} for response in responses.values())
    assert len(responses) == 6
    for n in range(3):
        assert stack.api.received(f"conn-{n}") == [f"{n}-0", f"{n}-1"]
    # AND the runtimes of the threads that ended are closed by the exit hook, not leaked
    close_idle_runtimes()
    assert runtime_module._opened == []


def test_auto_scan_segments_reads_the_item_count_once_per_container(stack, capsys):
    stack.reconfigure(PUSHER_SCAN_SEGMENTS="auto")
    stack.connect("alice", "a1")
    handler(sqs_event(request_body("x")), LambdaContext())
    handler(sqs_event(request_body("y")), LambdaContext())
    calls = [
        line["dynamodb_calls"] for line in log_lines(capsys.readouterr().out) if "_aws" in line
    ]
    assert stack.api.received("a1") == ["x", "y"]
    assert calls == [2, 1]  # DescribeTable + Scan, then the cached count and a Scan


def table_call(operation):
    async def run():
        async with get_session().create_client("dynamodb") as client:
            return await operation(client)

    return asyncio.run(run())


def test_parallel_scan_segments_with_pagination_return_every_connection_once(stack):
    # GIVEN 120 connections
    stack.connect_many([(f"user-{n % 40}", f"conn-{n}") for n in range(120)])

    async def scan(client):
        table = ConnectionsTable(client, TABLE, scan_segments=4, page_limit=7)
        connections = await table.all_connections()
        return connections, table.calls

    # WHEN scanned in 4 segments of 7-item pages
    connections, calls = table_call(scan)
    # THEN each connection comes back exactly once, over many pages
    assert sorted(c.connection_id for c in connections) == sorted(f"conn-{n}" for n in range(120))
    assert calls >= 120 // 7


def test_a_user_query_follows_pagination(stack):
    stack.connect("alice", *(f"a{n}" for n in range(30)))

    async def query(client):
        return await ConnectionsTable(client, TABLE, page_limit=4).connections_of("alice")

    assert len(table_call(query)) == 30


def test_deleting_more_than_25_connections(stack):
    stack.connect_many([(f"user-{n}", f"conn-{n}") for n in range(60)])
    doomed = [Connection(f"user-{n}", f"conn-{n}") for n in range(55)]

    async def delete(client):
        return await ConnectionsTable(client, TABLE).delete(doomed + doomed[:3])

    assert table_call(delete) == 0
    assert stack.connection_ids() == {f"conn-{n}" for n in range(55, 60)}


def test_the_prune_condition_is_checked_against_the_stored_record(stack):
    # GIVEN an established record, a record still in its $connect and one without connected_at
    stack.connect("alice", "established")
    stack.connect("alice", "opening", age_s=0)
    stack.dynamodb.put_item(
        TableName=TABLE, Item={"user_id": {"S": "alice"}, "connection_id": {"S": "legacy"}}
    )
    now_ms = int(time.time() * 1000)
    # AND a lookup that saw all three as young (or of unknown age), so each gets a DeleteItem
    gone = [
        Connection("alice", "established", now_ms),
        Connection("alice", "opening", now_ms),
        Connection("alice", "legacy", None),
    ]

    async def prune(client):
        return await ConnectionsTable(client, TABLE).prune(gone, now_ms - 60_000)

    # WHEN pruned with a 60 s grace
    outcome = table_call(prune)
    # THEN the condition read the stored connected_at: only the young record is kept
    assert (outcome.deleted, outcome.skipped, outcome.left) == (2, ["opening"], 0)
    assert stack.connection_ids() == {"opening"}
