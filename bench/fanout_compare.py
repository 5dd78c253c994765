"""Our pusher against the original design's naive fan-out, in one process, over one stack.

    python3 -m uv run --frozen python bench/fanout_compare.py [--connections 2000] [--users 400]
        [--notifications 3] [--rounds 2]

Starts a `sumu up` (the launcher of the end-to-end tests), opens the connections from this
process, then fans the same broadcast notification requests out to them, alternately with:

- **ours**: `sumu_pusher.handler.handler` called with an SQS event holding the requests (bounded
  concurrency, HTTP pool sized to it, one shared Scan per batch), in a worker thread as Lambda's
  runtime would call it;
- **naive**: the original design: per request, a Scan of the table, then `asyncio.gather` of one
  coroutine per connection posting through aiobotocore's default client (no bound, default pool).

Each round counts the frames at the clients until every connection has every request (or a
timeout) and prints deliveries/s per design and the ratio ours / naive.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiobotocore.session import get_session
from sumu_local.stack.issuer import TokenIssuer, load_key
from sumu_local.stack.manifest import StackManifest
from websockets.asyncio.client import ClientConnection, connect

ROUND_TIMEOUT_SECONDS = 300
CONNECT_CONCURRENCY = 64


class LambdaContext:
    def __init__(self, seconds: float) -> None:
        self._ends_at = time.monotonic() + seconds
        self.aws_request_id = uuid.uuid4().hex

    def get_remaining_time_in_millis(self) -> int:
        return int((self._ends_at - time.monotonic()) * 1000)


def sqs_event(requests: list[dict[str, Any]], manifest: StackManifest) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": uuid.uuid4().hex,
                "body": json.dumps(request),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fanout-compare",
                "awsRegion": manifest.region,
            }
            for request in requests
        ]
    }


def run_ours(requests: list[dict[str, Any]], manifest: StackManifest) -> Any:
    from sumu_pusher.handler import handler  # noqa: PLC0415 - after the environment is set

    # Its one JSON log line per invocation would bury the table.
    with contextlib.redirect_stdout(io.StringIO()):
        return handler(sqs_event(requests, manifest), LambdaContext(600))


def run_naive(requests: list[dict[str, Any]], manifest: StackManifest) -> int:
    """The original fan-out: scan per message, one unbounded coroutine per connection."""

    async def fan_out() -> int:
        session = get_session()
        failures = 0
        async with (
            session.create_client("dynamodb", endpoint_url=manifest.aws_endpoint_url) as table,
            session.create_client(
                "apigatewaymanagementapi", endpoint_url=manifest.management_url
            ) as management,
        ):
            for request in requests:
                connection_ids = []
                paginator = table.get_paginator("scan")
                async for page in paginator.paginate(TableName=manifest.connections_table):
                    connection_ids += [item["connection_id"]["S"] for item in page["Items"]]
                data = json.dumps(request["data"]).encode()

                async def post(connection_id: str, data: bytes = data) -> None:
                    await management.post_to_connection(ConnectionId=connection_id, Data=data)

                results = await asyncio.gather(
                    *(post(connection_id) for connection_id in connection_ids),
                    return_exceptions=True,
                )
                failures += sum(1 for result in results if isinstance(result, BaseException))
        return failures

    return asyncio.run(fan_out())


class Clients:
    def __init__(self) -> None:
        self.sockets: list[ClientConnection] = []
        self.received: Counter[str] = Counter()

    async def read(self, socket: ClientConnection) -> None:
        try:
            async for frame in socket:
                data = json.loads(frame)
                if isinstance(data, dict) and "compare" in data:
                    self.received[data["compare"]] += 1
        except Exception:  # noqa: S110 - a closed socket shows up as missing frames
            pass

    async def open(self, manifest: StackManifest, connections: int, users: int) -> None:
        issuer = TokenIssuer(
            key=load_key(Path(manifest.signing_key_file)),
            issuer=manifest.issuer,
            audience=manifest.audience,
        )
        tokens = [quote(issuer.token(f"fanout-{user}")) for user in range(users)]
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def open_one(index: int) -> None:
            try:
                socket = await connect(
                    f"{manifest.websocket_url}?authorization={tokens[index % users]}",
                    open_timeout=60,
                    ping_interval=None,
                    max_queue=None,
                    proxy=None,
                )
            finally:
                gate.release()
            self.sockets.append(socket)
            asyncio.create_task(self.read(socket))  # noqa: RUF006 - ends with its socket

        async with asyncio.TaskGroup() as group:
            for index in range(connections):
                await gate.acquire()
                group.create_task(open_one(index))

    async def wait_for(self, ids: list[str], seconds: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if all(self.received[one] >= len(self.sockets) for one in ids):
                break
            await asyncio.sleep(0.02)
        return time.monotonic() - started


async def compare(manifest: StackManifest, args: argparse.Namespace) -> list[dict[str, Any]]:
    clients = Clients()
    await clients.open(manifest, args.connections, args.users)
    print(f"{len(clients.sockets)} connections open", file=sys.stderr)
    rows = []
    for round_number in range(args.rounds):
        for design, run in (("ours", run_ours), ("naive", run_naive)):
            ids = [uuid.uuid4().hex for _ in range(args.notifications)]
            requests = [{"data": {"compare": one}} for one in ids]
            started = time.monotonic()
            outcome = asyncio.create_task(asyncio.to_thread(run, requests, manifest))
            await clients.wait_for(ids, ROUND_TIMEOUT_SECONDS)
            await outcome
            seconds = time.monotonic() - started
            delivered = sum(min(clients.received[one], len(clients.sockets)) for one in ids)
            rows.append(
                {
                    "round": round_number + 1,
                    "design": design,
                    "expected": len(ids) * len(clients.sockets),
                    "delivered": delivered,
                    "seconds": round(seconds, 2),
                    "per_second": round(delivered / seconds, 1),
                }
            )
            print(rows[-1], file=sys.stderr)
    for socket in clients.sockets:
        await socket.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--notifications", type=int, default=3, help="broadcasts per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.conftest import start_sumu_up, stop_sumu_up  # noqa: PLC0415 - needs sys.path

    with tempfile.TemporaryDirectory() as workdir:
        process, manifest = start_sumu_up(Path(workdir), "")
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": manifest.aws_endpoint_url,
                "AWS_REGION": manifest.region,
                "AWS_DEFAULT_REGION": manifest.region,
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "CONNECTIONS_TABLE_NAME": manifest.connections_table,
                "APIGW_ENDPOINT": manifest.management_url,
                "NOTIFICATIONS_DLQ_URL": manifest.notifications_dlq_url,
            }
        )
        try:
            rows = asyncio.run(compare(manifest, args))
        finally:
            stop_sumu_up(process)
    print(
        f"broadcast fan-out, {args.connections} connections, {args.notifications} requests "
        "per round"
    )
    print(f"{'round':>5} | {'design':<6} | {'delivered':>15} | {'s':>7} | {'deliveries/s':>12}")
    for row in rows:
        delivered = f"{row['delivered']}/{row['expected']}"
        print(
            f"{row['round']:>5} | {row['design']:<6} | {delivered:>15} | {row['seconds']:>7} | "
            f"{row['per_second']:>12}"
        )
    ours = statistics.median(row["per_second"] for row in rows if row["design"] == "ours")
    naive = statistics.median(row["per_second"] for row in rows if row["design"] == "naive")
    print(f"ratio ours / naive (median deliveries/s): {ours / naive:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
