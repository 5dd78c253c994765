"""How long the watchdog takes per stream batch: the rules alone, and against moto server.

    python3 -m uv run --frozen python services/presence/bench/bench_batch.py

Prints a table. Each row feeds batches of N stream records (half connects, half disconnects of
distinct users, so every record publishes) and reports the median time per batch. "rules" uses
in-process fakes (parsing, the presence rules, event building and the contract validator); "moto" uses a
real table, a real SQS queue and the strongly consistent reads, over HTTP on 127.0.0.1.
Bounded: a fixed number of rounds per row.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from sumu_presence.aws import DynamoConnectionsTable, QueuePublisher
from sumu_presence.handler import Runtime, handle_batch
from sumu_presence.presence_event import PresenceEvent
from sumu_presence.settings import Settings
from sumu_testkit.moto import apply_environment, aws_environment, start_moto_server
from sumu_testkit.tables import create_connections_table

BATCH_SIZES = (1, 10, 100)
ROUNDS = 5


class NoTable:
    def has_connection(self, user_id: str) -> bool:
        return False


class NoPublisher:
    def publish(self, event: PresenceEvent, *, deduplication_id: str) -> None:
        return None


def batch_event(size: int) -> dict[str, Any]:
    records = []
    for index in range(size):
        user = f"user-{index // 2}"
        records.append(
            {
                "eventName": "INSERT" if index % 2 == 0 else "REMOVE",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1700000000 + index,
                    "Keys": {"user_id": {"S": user}, "connection_id": {"S": "c"}},
                    "SequenceNumber": str(1000 + index),
                },
            }
        )
    return {"Records": records}


def median_ms(event: dict[str, Any], make_runtime: Callable[[], Runtime]) -> float:
    timings = []
    for _ in range(ROUNDS):
        runtime = make_runtime()  # outside the timing: a fresh queue (moto slows as one grows)
        started = time.perf_counter()
        response = handle_batch(event, runtime)
        timings.append((time.perf_counter() - started) * 1000)
        assert response == {"batchItemFailures": []}
    return statistics.median(timings)


def moto_runtimes() -> Callable[[], Runtime]:
    """A table, and a factory of runtimes that each send to a new queue."""
    dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
    table_name = f"connections-{uuid.uuid4().hex[:8]}"
    create_connections_table(dynamodb, table_name)
    table = DynamoConnectionsTable(dynamodb, table_name)

    def make_runtime() -> Runtime:
        queue_url = sqs.create_queue(QueueName=f"presence-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        return Runtime(
            Settings(table_name, "queue", queue_url), table, QueuePublisher(sqs, queue_url)
        )

    return make_runtime


def cold_import_ms() -> float:
    """Median time to import the handler module in a fresh interpreter (a cold start's share)."""
    code = (
        "import time; started = time.perf_counter(); import sumu_presence.handler; "
        "print((time.perf_counter() - started) * 1000)"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(ROUNDS)
    ]
    return statistics.median(runs)


def main() -> None:
    server = start_moto_server()
    apply_environment(aws_environment(server.endpoint_url))
    try:
        fakes = Runtime(Settings("connections", "stream", None), NoTable(), NoPublisher())
        moto = moto_runtimes()
        print(
            f"{'records':>8} | {'rules ms/batch':>15} | {'moto ms/batch':>14} | {'moto ms/record':>15}"
        )
        print(f"{'-' * 8}-+-{'-' * 15}-+-{'-' * 14}-+-{'-' * 15}")
        for size in BATCH_SIZES:
            event = batch_event(size)
            rules = median_ms(event, lambda: fakes)
            real = median_ms(event, moto)
            print(f"{size:>8} | {rules:>15.2f} | {real:>14.1f} | {real / size:>15.2f}")
    finally:
        server.stop()
    print(f"\nimport sumu_presence.handler in a fresh interpreter: {cold_import_ms():.0f} ms")


if __name__ == "__main__":
    main()
