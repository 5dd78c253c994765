"""moto's DynamoDB Scan, index Query and a subscribe burst, with and without sumu-local's fast paths.

    python3 -m uv run --frozen python bench/moto_scan.py [--items 10000] [--repeat 3]
        [--subscribers 2000] [--profile]

One moto server (in this process, over HTTP, as `sumu up` runs it), three measurements, each
with moto's own code and then with the fast paths (`sumu_local.moto_fastpath`, which installs
`moto_scan_fastpath` too), interleaved so the machine's load drifts over both alike:

- Scan: a connections-shaped table (hash `user_id`, range `connection_id`, 5 connections per
  user) read as the pusher reads it for a broadcast (its projection, every page), in K=1 and K=4
  parallel segments (the segments one after the other: the time is moto's work for one
  broadcast). Seconds per whole Scan, median of --repeat.
- TTL sweep: the TTL sweeper's Scan of that table (FilterExpression `delete_at <= now`,
  nothing expired, as in a load run). Seconds per sweep.
- Index Query: the subscriptions table (hash `channel`, range `connection_id`, GSI
  `by_connection`) with 5 subscriptions per connection; `channels_of` (the GSI Query each
  subscribe and disconnect makes). Median ms per query.
- Subscribe burst: --subscribers connections each subscribing once, as the connections service
  does (the GSI Query, then PutItem) onto an empty subscriptions table. Seconds for the burst.

--profile runs the burst once more under cProfile with moto's code and prints where it went.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import random
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
from moto.dynamodb.responses import DynamoHandler
from moto.server import ThreadedMotoServer
from sumu_local import moto_fastpath
from sumu_testkit import free_port
from sumu_testkit.tables import create_subscriptions_table

CONNECTIONS_PER_USER = 5
CHANNELS_PER_CONNECTION = 5
PUSHER_PROJECTION = {
    "ProjectionExpression": "#u, #c, #t",
    "ExpressionAttributeNames": {"#u": "user_id", "#c": "connection_id", "#t": "connected_at"},
}


def put_all(dynamodb: Any, name: str, records: list[dict[str, Any]]) -> None:
    for start in range(0, len(records), 25):
        batch = [{"PutRequest": {"Item": item}} for item in records[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={name: batch})


def create_connections(dynamodb: Any, name: str, items: int) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "connection_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "connection_id", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    users = max(1, items // CONNECTIONS_PER_USER)
    put_all(
        dynamodb,
        name,
        [
            {
                "user_id": {"S": f"user-{index % users:05d}"},
                "connection_id": {"S": f"conn-{index:06d}="},
                "connected_at": {"N": str(1764264000000 + index)},
                "delete_at": {"N": "1764271200"},
            }
            for index in range(items)
        ],
    )


def subscription(channel: str, connection_id: str) -> dict[str, Any]:
    return {
        "channel": {"S": channel},
        "connection_id": {"S": connection_id},
        "user_id": {"S": "user-" + connection_id},
        "subscribed_at": {"N": "1764264000000"},
        "delete_at": {"N": "1764271200"},
    }


def scan_all(dynamodb: Any, name: str, segments: int) -> int:
    found = 0
    for segment in range(segments):
        arguments: dict[str, Any] = {"TableName": name, **PUSHER_PROJECTION}
        if segments > 1:
            arguments.update(Segment=segment, TotalSegments=segments)
        for _ in range(100_000):
            page = dynamodb.scan(**arguments)
            found += page["Count"]
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found


def sweep_scan(dynamodb: Any, name: str) -> int:
    """The TTL sweeper's Scan (sumu_local.stack.sources.ttl): nothing has expired yet."""
    request: dict[str, Any] = {
        "TableName": name,
        "FilterExpression": "#ttl <= :now",
        "ExpressionAttributeNames": {"#ttl": "delete_at"},
        "ExpressionAttributeValues": {":now": {"N": "1764264000"}},
        "ConsistentRead": True,
    }
    expired = 0
    for _ in range(100_000):
        page = dynamodb.scan(**request)
        expired += page["Count"]
        if "LastEvaluatedKey" not in page:
            return expired
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return expired


def channels_of(dynamodb: Any, name: str, connection_id: str) -> int:
    page = dynamodb.query(
        TableName=name,
        IndexName="by_connection",
        KeyConditionExpression="connection_id = :c",
        ExpressionAttributeValues={":c": {"S": connection_id}},
        ProjectionExpression="channel",
    )
    return int(page["Count"])


def subscribe_burst(dynamodb: Any, name: str, subscribers: int) -> int:
    """What each subscribe costs moto (services/connections channel_routes._subscribe)."""
    held = 0
    for index in range(subscribers):
        connection_id = f"conn-{index:06d}="
        held += channels_of(dynamodb, name, connection_id)
        dynamodb.put_item(TableName=name, Item=subscription("news", connection_id))
    return held


class HandlerClock:
    """Seconds spent inside moto's DynamoDB handler (on its request threads): moto's own share
    of a round trip, without boto3's and werkzeug's (the client shares this process's GIL)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._original = DynamoHandler.call_action

    def install(self) -> None:
        original = self._original

        def clocked(handler: DynamoHandler) -> Any:
            started = time.perf_counter()
            try:
                return original(handler)
            finally:
                with self._lock:
                    self.seconds += time.perf_counter() - started

        DynamoHandler.call_action = clocked  # type: ignore[method-assign]

    def uninstall(self) -> None:
        DynamoHandler.call_action = self._original  # type: ignore[method-assign]


CLOCK = HandlerClock()


def timed(work: Callable[[], int], fast: bool) -> tuple[float, float, int]:
    """Wall seconds, moto handler seconds, the answer."""
    if fast:
        moto_fastpath.install()
    try:
        handler_before = CLOCK.seconds
        started = time.perf_counter()
        result = work()
        return time.perf_counter() - started, CLOCK.seconds - handler_before, result
    finally:
        moto_fastpath.uninstall()


Row = tuple[str, str, float, float, float, float]


def both(label: str, unit: str, work: Callable[[], int], repeat: int, scale: float = 1.0) -> Row:
    """Median wall and handler seconds with moto's code and with the fast paths, times scale;
    the answers must agree."""
    samples: list[tuple[float, float, float, float]] = []
    for _ in range(repeat):
        moto_wall, moto_handler, moto_result = timed(work, fast=False)
        fast_wall, fast_handler, fast_result = timed(work, fast=True)
        assert moto_result == fast_result, (moto_result, fast_result)
        samples.append((moto_wall, fast_wall, moto_handler, fast_handler))
    medians = [
        statistics.median(sample[column] for sample in samples) * scale for column in range(4)
    ]
    return (label, unit, medians[0], medians[1], medians[2], medians[3])


def profile_burst(burst: Callable[[], int]) -> str:
    """The burst under cProfile. moto answers on its own request threads: its DynamoDB handler
    is profiled there (the burst's requests are sequential, so one profiler at a time)."""
    profiler = cProfile.Profile()
    original = DynamoHandler.call_action

    def profiled(handler: DynamoHandler) -> Any:
        profiler.enable()
        try:
            return original(handler)
        finally:
            profiler.disable()

    DynamoHandler.call_action = profiled  # type: ignore[method-assign]
    try:
        burst()
    finally:
        DynamoHandler.call_action = original  # type: ignore[method-assign]
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    return out.getvalue()


def measure(dynamodb: Any, args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    create_connections(dynamodb, "connections", args.items)
    for segments in (1, 4):
        rows.append(
            both(
                f"Scan {args.items:,} items, K={segments}",
                "s per Scan",
                lambda k=segments: scan_all(dynamodb, "connections", k),
                args.repeat,
            )
        )

    rows.append(
        both(
            f"TTL sweep Scan, {args.items:,} items",
            "s per sweep",
            lambda: sweep_scan(dynamodb, "connections"),
            args.repeat,
        )
    )

    create_subscriptions_table(dynamodb, "subscriptions")
    connections = max(1, args.items // CHANNELS_PER_CONNECTION)
    subscriptions = connections * CHANNELS_PER_CONNECTION
    put_all(
        dynamodb,
        "subscriptions",
        [
            subscription(f"channel-{index % 50}", f"conn-{index // CHANNELS_PER_CONNECTION:06d}=")
            for index in range(subscriptions)
        ],
    )
    picked = [f"conn-{random.randrange(connections):06d}=" for _ in range(args.queries)]

    def queries() -> int:
        return sum(channels_of(dynamodb, "subscriptions", connection) for connection in picked)

    rows.append(
        both(
            f"GSI Query, {subscriptions:,} subscriptions",
            "ms per query",
            queries,
            args.repeat,
            scale=1000 / len(picked),
        )
    )

    burst_tables = iter(range(1_000))

    def burst() -> int:
        name = f"burst-{next(burst_tables)}"
        create_subscriptions_table(dynamodb, name)
        try:
            return subscribe_burst(dynamodb, name, args.subscribers)
        finally:
            dynamodb.delete_table(TableName=name)

    rows.append(both(f"subscribe burst, {args.subscribers:,} connections", "s per burst", burst, 1))
    if args.profile:
        print(profile_burst(burst))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--subscribers", type=int, default=2_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - moto accepts any credentials
    )
    moto_fastpath.uninstall()
    CLOCK.install()
    try:
        rows = measure(dynamodb, args)
    finally:
        CLOCK.uninstall()
        server.stop()
    load = os.getloadavg()
    print(f"moto, median of {args.repeat} (HTTP round trips, moto in this process)")
    print(f"load average after the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("wall: the client's round trips; moto: time inside moto's DynamoDB handler")
    header = f"{'measurement':<38} | {'unit':<12} | {'wall moto':>9} | {'wall fast':>9} |"
    print(f"{header} {'moto':>9} | {'fast':>9} | {'speed-up':>8}")
    print(f"{'-' * 38}-+-{'-' * 12}-+-{'-' * 9}-+-{'-' * 9}-+-{'-' * 9}-+-{'-' * 9}-+-{'-' * 8}")
    for label, unit, moto_wall, fast_wall, moto_handler, fast_handler in rows:
        print(
            f"{label:<38} | {unit:<12} | {moto_wall:>9.3f} | {fast_wall:>9.3f} | "
            f"{moto_handler:>9.3f} | {fast_handler:>9.3f} | {moto_handler / fast_handler:>7.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
