"""Benchmark: the pusher's deliveries per second against the raw limit of the same stand-in.

    python3 -m uv run --frozen python services/pusher/bench/bench_pusher.py [--runs 3]

Scenarios: broadcast to 1,000 and to 5,000 connections, and one selective request to 500 users
with 2 connections each. The connections table lives in moto server (in this process, idle
while posts run); the management API stand-in (tests/pusher_standin.py) runs in its own process
so it does not share the pusher's GIL. "raw" is a tight loop posting the same payload to the same
connections through the same management API client (signed_post.py) and concurrency, with no
lookups, no validation and no bookkeeping: the most this stand-in and client can do here.
Every run is bounded (a fixed number of posts; the whole script takes well under two minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from sumu_pusher import sdk
from sumu_pusher.handler import handler
from sumu_pusher.runtime import close_thread_runtime
from sumu_pusher.signed_post import ManagementApiClient
from sumu_testkit import free_port
from sumu_testkit.moto import apply_environment, aws_environment
from sumu_testkit.tables import create_connections_table

STANDIN = Path(__file__).resolve().parents[1] / "tests" / "pusher_standin.py"
DATA = {"type": "notification", "message": "benchmark", "padding": "x" * 200}


@dataclass
class Scenario:
    name: str
    table: str
    connections: list[tuple[str, str]]
    request: dict[str, Any]
    selective_scan: str = "auto"


@dataclass
class Context:
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def scenarios() -> list[Scenario]:
    broadcast_1k = [(f"user-{n}", f"conn-{n}") for n in range(1_000)]
    broadcast_5k = [(f"user-{n}", f"conn-{n}") for n in range(5_000)]
    selective = [(f"user-{n}", f"conn-{n}-{device}") for n in range(500) for device in (1, 2)]
    return [
        Scenario("broadcast 1,000", "bench-1k", broadcast_1k, {"data": DATA}),
        Scenario("broadcast 5,000", "bench-5k", broadcast_5k, {"data": DATA}),
        Scenario(
            "selective 500 users x 2 (auto: one Scan)",
            "bench-selective",
            selective,
            {"users": [f"user-{n}" for n in range(500)], "data": DATA},
        ),
        Scenario(
            "selective 500 users x 2 (500 Queries)",
            "bench-selective",
            selective,
            {"users": [f"user-{n}" for n in range(500)], "data": DATA},
            selective_scan="never",
        ),
    ]


def create_table(name: str, connections: list[tuple[str, str]]) -> None:
    dynamodb = boto3.client("dynamodb")
    create_connections_table(dynamodb, name)
    now = int(time.time())
    for start in range(0, len(connections), 25):
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "user_id": {"S": user_id},
                        "connection_id": {"S": connection_id},
                        "connected_at": {"N": str(now * 1000)},
                        "delete_at": {"N": str(now + 7200)},
                        "source_ip": {"S": "203.0.113.7"},
                        "user_agent": {"S": "Mozilla/5.0 (bench) sumu"},
                    }
                }
            }
            for user_id, connection_id in connections[start : start + 25]
        ]
        dynamodb.batch_write_item(RequestItems={name: requests})


def start_moto() -> tuple[subprocess.Popen[str], str]:
    """moto server in its own process, like the stand-in: lookups do not share our GIL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(300):  # up to 30 s
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return process, endpoint
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("moto server did not start")


def start_standin() -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(STANDIN), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # "ready <endpoint>", or "" if it died
    if not line.startswith("ready"):
        process.kill()
        raise SystemExit("the management API stand-in did not start")
    return process, line.split()[1]


def run_pusher(request: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    event = {
        "Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": json.dumps(request)}]
    }
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        started = time.perf_counter()
        response = handler(event, Context())
        elapsed = time.perf_counter() - started
    assert response == {"batchItemFailures": []}, response
    figures = [json.loads(line) for line in captured.getvalue().splitlines() if '"_aws"' in line]
    return elapsed, figures[-1]


async def run_raw(endpoint: str, connection_ids: list[str], concurrency: int) -> float:
    payload = json.dumps(DATA, separators=(",", ":")).encode()
    # The client the pusher posts with (signed_post.py), without the pusher around it.
    session = sdk.new_session()
    async with ManagementApiClient(
        endpoint,
        await session.get_credentials(),
        sdk.region(session),
        pool_size=concurrency,
        timeout_s=3.0,
    ) as client:
        await client.post_to_connection(ConnectionId=connection_ids[0], Data=payload)
        pending = iter(connection_ids)

        async def worker() -> None:
            for connection_id in pending:
                await client.post_to_connection(ConnectionId=connection_id, Data=payload)

        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="timed runs per scenario (median)")
    parser.add_argument("--concurrency", type=int, default=64)
    arguments = parser.parse_args()

    moto, moto_endpoint = start_moto()
    apply_environment(aws_environment(moto_endpoint))
    standin, endpoint = start_standin()
    rows = []
    try:
        created: set[str] = set()
        for scenario in scenarios():
            if scenario.table not in created:
                create_table(scenario.table, scenario.connections)
                created.add(scenario.table)
            os.environ.update(
                CONNECTIONS_TABLE_NAME=scenario.table,
                APIGW_ENDPOINT=endpoint,
                PUSHER_CONCURRENCY=str(arguments.concurrency),
                PUSHER_SELECTIVE_SCAN=scenario.selective_scan,
            )
            close_thread_runtime()
            # Warm-up (one post): the clients are built, as in a warm container.
            run_pusher({"users": [scenario.connections[0][0]], "data": DATA})
            pusher_runs = [run_pusher(scenario.request) for _ in range(arguments.runs)]
            connection_ids = [connection_id for _, connection_id in scenario.connections]
            raw_runs = [
                asyncio.run(run_raw(endpoint, connection_ids, arguments.concurrency))
                for _ in range(arguments.runs)
            ]
            elapsed = statistics.median(run for run, _ in pusher_runs)
            figures = pusher_runs[-1][1]
            delivered = figures["delivered"]
            pusher_rate = delivered / elapsed
            raw_rate = len(connection_ids) / statistics.median(raw_runs)
            rows.append(
                (
                    scenario.name,
                    delivered,
                    elapsed * 1000,
                    pusher_rate,
                    raw_rate,
                    pusher_rate / raw_rate,
                    figures["dynamodb_calls"] / figures["records"],
                )
            )
    finally:
        close_thread_runtime()
        for process in (standin, moto):
            process.terminate()
            process.wait(10)

    print(f"concurrency {arguments.concurrency}, median of {arguments.runs} run(s), warm clients")
    header = ("scenario", "delivered", "ms", "pusher/s", "raw/s", "ratio", "ddb calls/req")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, delivered, ms, pusher_rate, raw_rate, ratio, calls in rows:
        print(
            f"| {name} | {delivered} | {ms:.0f} | {pusher_rate:.0f} | {raw_rate:.0f} "
            f"| {ratio:.0%} | {calls:.0f} |"
        )


if __name__ == "__main__":
    main()
