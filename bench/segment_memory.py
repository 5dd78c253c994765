"""Peak memory of one fan-out segment job (issue 19) at 5,000 and 20,000 connections.

    python3 -m uv run --frozen python bench/segment_memory.py [--sizes 5000,20000]

moto (``python -m moto.server``) runs in its own process, so tracemalloc sees only the pusher:
the job streams its scan pages into the bounded posting pool. The management API is an
in-process stub that takes every post at once (``asyncio.sleep(0)``): this measures the job's
own memory, not an HTTP server's, and a real post's client buffers are the same for any table
size (PUSHER_CONCURRENCY sockets); it also keeps 20,000 posts quick on a loaded machine. For contrast, the same table read the pre-0.4.0 way (``all_connections``:
the whole segment in a list) is measured too. Items are written to moto with BatchWriteItem,
25 at a time. Prints one table row per size; peak = tracemalloc's peak during the run, above
what was allocated before it started (clients built and warmed first).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import boto3
from sumu_testkit import free_port
from sumu_testkit.tables import create_connections_table

ROOT = Path(__file__).resolve().parents[1]


class StubManagementApi:
    """Takes every post at once, like a 200 from API Gateway."""

    def __init__(self) -> None:
        self.posts = 0

    async def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> None:
        self.posts += 1
        await asyncio.sleep(0)


def wait_for_port(port: int, seconds: float = 30.0) -> None:
    import socket  # noqa: PLC0415

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def fill(dynamodb: Any, table: str, count: int) -> None:
    now_ms = int(time.time() * 1000) - 600_000
    for start in range(0, count, 25):
        dynamodb.batch_write_item(
            RequestItems={
                table: [
                    {
                        "PutRequest": {
                            "Item": {
                                "user_id": {"S": f"user-{i % 1000:04d}-{'x' * 24}"},
                                "connection_id": {"S": f"conn-{i:07d}-AbCdEfGhIjKlMn="},
                                "connected_at": {"N": str(now_ms)},
                                "delete_at": {"N": str(now_ms // 1000 + 7200)},
                                "source_ip": {"S": "203.0.113.7"},
                                "user_agent": {"S": "Mozilla/5.0 (X11; Linux x86_64) bench"},
                            }
                        }
                    }
                    for i in range(start, min(count, start + 25))
                ]
            }
        )


async def measure(table_name: str, size: int) -> tuple[float, float, float, int]:
    from aiobotocore.session import get_session  # noqa: PLC0415
    from sumu_pusher.jobs import FanoutJob  # noqa: PLC0415
    from sumu_pusher.records import InboundRecord  # noqa: PLC0415
    from sumu_pusher.segments import FanoutSettings, JobRun, run_jobs  # noqa: PLC0415
    from sumu_pusher.settings import Settings  # noqa: PLC0415
    from sumu_pusher.store import ConnectionsTable  # noqa: PLC0415
    from sumu_pusher.telemetry import InvocationFigures  # noqa: PLC0415

    settings = Settings(
        connections_table_name=table_name, apigw_endpoint="http://stub", concurrency=64
    )
    session = get_session()
    async with session.create_client("dynamodb") as dynamodb:
        management = StubManagementApi()
        table = ConnectionsTable(dynamodb, table_name)
        await dynamodb.describe_table(TableName=table_name)
        await dynamodb.scan(TableName=table_name, Limit=1)  # botocore loads Scan's model now
        job = FanoutJob(
            record=InboundRecord(0, "aws:sqs", "m", "{}"),
            origin_id="m",
            data={"text": "hello"},
            excluded=frozenset(),
            attempt=0,
        )
        figures = InvocationFigures()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        started = time.monotonic()
        await run_jobs(
            [job],
            table=table,
            management_api=management,
            sqs=None,
            settings=settings,
            fanout=FanoutSettings(),
            figures=figures,
            outcome=JobRun(),
        )
        elapsed = time.monotonic() - started
        job_peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        everyone = await table.all_connections()
        whole_peak = tracemalloc.get_traced_memory()[1] - base
        del everyone
        tracemalloc.stop()
        assert figures.delivered == size, figures
        return job_peak / 1e6, whole_peak / 1e6, elapsed, figures.delivered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="5000,20000")
    arguments = parser.parse_args()
    moto_port = free_port()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        wait_for_port(moto_port)
        os.environ.update(
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{moto_port}",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's dummy credentials
        )
        dynamodb = boto3.client("dynamodb")
        print(
            "| connections | peak, one segment job (streamed) | peak, whole segment in a list "
            "(pre-0.4.0 read) | job time | delivered |"
        )
        print("|---:|---:|---:|---:|---:|")
        for size in (int(text) for text in arguments.sizes.split(",")):
            name = f"bench-{size}"
            create_connections_table(dynamodb, name)
            fill(dynamodb, name, size)
            job_mb, whole_mb, elapsed, delivered = asyncio.run(measure(name, size))
            print(
                f"| {size:,} | {job_mb:.2f} MB | {whole_mb:.2f} MB | {elapsed:.1f} s "
                f"| {delivered:,} |",
                flush=True,
            )
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


if __name__ == "__main__":
    main()
