"""Benchmark of the local API Gateway: connect N WebSocket clients, then POST to all of them.

    python3 -m uv run --frozen python infra/local/bench/bench_gateway.py [--connections 10000]

The gateway runs in its own process (this script re-executes itself with --serve) so that its
resident memory can be read from /proc without the clients' memory. Its routes are stand-ins
with the real shape: an authorizer that allows, and $connect / $disconnect / $default handlers
that return at once, so the numbers are the gateway's cost, not a handler's.
Prints one table. Every phase is bounded by --timeout seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import websockets
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from aiohttp import web
from botocore.exceptions import ClientError
from sumu_local.gateway import Gateway, GatewayConfig


def allow_everyone(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "principalId": "bench",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": event["methodArn"]}
            ],
        },
        "context": {"user_id": "bench"},
    }


def accept(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200}


def raise_nofile_limit() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the gateway process -----------------------------------------------------------------------


async def serve() -> None:
    raise_nofile_limit()

    def add_bench_routes(app: web.Application) -> None:
        async def connection_ids(request: web.Request) -> web.Response:
            return web.json_response(gateway.connection_ids())

        async def collect(request: web.Request) -> web.Response:
            gc.collect()
            return web.json_response({"pid": os.getpid()})

        app.router.add_get("/bench/connections", connection_ids)
        app.router.add_post("/bench/gc", collect)

    gateway = Gateway(
        GatewayConfig(
            routes={"$connect": accept, "$disconnect": accept, "$default": accept},
            authorizer=allow_everyone,
            port=0,
        ),
        configure_app=add_bench_routes,
    )
    await gateway.start()
    print(f"ready {gateway.port}", flush=True)
    await asyncio.get_running_loop().run_in_executor(
        None, sys.stdin.read
    )  # until the parent closes stdin
    await gateway.stop()


# -- the client process ------------------------------------------------------------------------


async def connect_all(url: str, count: int, concurrency: int) -> tuple[list[Any], float, int]:
    clients: list[Any] = []
    failures = 0
    semaphore = asyncio.Semaphore(concurrency)

    async def connect_one(index: int) -> None:
        nonlocal failures
        try:
            clients.append(
                await websockets.connect(
                    f"{url}?authorization=bench-{index}",
                    open_timeout=30,
                    ping_interval=None,
                    max_queue=4,
                )
            )
        except (OSError, websockets.WebSocketException, TimeoutError):
            failures += 1
        finally:
            semaphore.release()

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for index in range(count):
            await semaphore.acquire()
            group.create_task(connect_one(index))
    return clients, time.perf_counter() - started, failures


async def post_to_all(
    base: str, connection_ids: list[str], concurrency: int, client: str
) -> tuple[float, int, int]:
    """POST one frame to every connection, `concurrency` in flight; (seconds, ok, failed)."""
    payload = json.dumps({"type": "bench", "data": "x" * 64}).encode()
    semaphore = asyncio.Semaphore(concurrency)
    outcomes = {"ok": 0, "failed": 0}
    async with contextlib.AsyncExitStack() as stack:
        if client == "aiobotocore":
            # What the pusher does: signed requests through botocore's machinery.
            management = await stack.enter_async_context(
                get_session().create_client(
                    "apigatewaymanagementapi",
                    endpoint_url=base,
                    region_name="us-east-1",
                    aws_access_key_id="bench",
                    aws_secret_access_key="bench",  # noqa: S106 - the gateway checks no signature
                    config=AioConfig(max_pool_connections=concurrency),
                )
            )

            async def send(connection_id: str) -> bool:
                await management.post_to_connection(ConnectionId=connection_id, Data=payload)
                return True
        else:
            session = await stack.enter_async_context(
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
            )

            async def send(connection_id: str) -> bool:
                url = f"{base}/@connections/{connection_id}"
                async with session.post(url, data=payload) as response:
                    return response.status == 200

        async def post_one(connection_id: str) -> None:
            try:
                outcomes["ok" if await send(connection_id) else "failed"] += 1
            except (aiohttp.ClientError, ClientError):
                outcomes["failed"] += 1
            finally:
                semaphore.release()

        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for connection_id in connection_ids:
                await semaphore.acquire()
                group.create_task(post_one(connection_id))
        return time.perf_counter() - started, outcomes["ok"], outcomes["failed"]


async def count_delivered(clients: list[Any]) -> int:
    delivered = 0
    for client in clients:
        try:
            await asyncio.wait_for(client.recv(), 5)
            delivered += 1
        except (TimeoutError, websockets.WebSocketException):
            pass
    return delivered


async def run(arguments: argparse.Namespace) -> None:
    raise_nofile_limit()
    phase_seconds = arguments.timeout
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None
    assert server.stdin is not None
    try:
        async with asyncio.timeout(30):
            port = int((await server.stdout.readline()).split()[1])
        base = f"http://127.0.0.1:{port}"
        websocket_url = f"ws://127.0.0.1:{port}/mvp"
        async with aiohttp.ClientSession() as session:
            # Warm-up: one-time costs (handler threads, imports, caches) are not per connection.
            async with asyncio.timeout(phase_seconds):
                warm, _, _ = await connect_all(
                    websocket_url, arguments.warmup, arguments.connect_concurrency
                )
                for client in warm:
                    await client.close()
            await asyncio.sleep(1)
            async with session.post(f"{base}/bench/gc"):
                pass
            rss_before = rss_kib(server.pid)
            cpu_before = cpu_seconds(server.pid)
            async with asyncio.timeout(phase_seconds):
                clients, connect_seconds, connect_failures = await connect_all(
                    websocket_url, arguments.connections, arguments.connect_concurrency
                )
            connect_cpu = cpu_seconds(server.pid) - cpu_before
            await asyncio.sleep(1)
            async with session.post(f"{base}/bench/gc"):
                pass
            rss_after = rss_kib(server.pid)
            async with session.get(f"{base}/bench/connections") as response:
                connection_ids = await response.json()
        cpu_before = cpu_seconds(server.pid)
        async with asyncio.timeout(phase_seconds):
            post_seconds, posted, post_failures = await post_to_all(
                f"{base}/mvp", connection_ids, arguments.post_concurrency, arguments.post_client
            )
        post_cpu = cpu_seconds(server.pid) - cpu_before
        async with asyncio.timeout(phase_seconds):
            delivered = await count_delivered(clients)
        connected = len(clients)
        print_table(
            [
                ("connections requested", f"{arguments.connections}"),
                ("connections open", f"{connected} ({connect_failures} failed)"),
                ("connect time", f"{connect_seconds:.2f} s"),
                ("connect rate", f"{connected / connect_seconds:.0f} /s"),
                ("gateway CPU per connect", f"{1000 * connect_cpu / max(connected, 1):.2f} ms"),
                (
                    "gateway RSS before / after",
                    f"{rss_before / 1024:.1f} MiB / {rss_after / 1024:.1f} MiB",
                ),
                (
                    "RSS per idle connection",
                    f"{(rss_after - rss_before) / max(connected, 1):.1f} KiB",
                ),
                (
                    "management POSTs",
                    f"{posted} ok, {post_failures} failed, {arguments.post_client}, concurrency {arguments.post_concurrency}",
                ),
                ("POST rate", f"{posted / post_seconds:.0f} /s"),
                ("gateway CPU per POST", f"{1000 * post_cpu / max(posted, 1):.2f} ms"),
                (
                    "machine load average (1 min)",
                    f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
                ),
                ("frames delivered", f"{delivered}"),
            ]
        )
        async with asyncio.timeout(phase_seconds):
            for client in clients:
                await client.close()
    finally:
        server.stdin.close()
        async with asyncio.timeout(60):
            await server.wait()


def print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"{'metric':<{width}} | value")
    print(f"{'-' * width}-+-{'-' * 40}")
    for name, value in rows:
        print(f"{name:<{width}} | {value}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument(
        "--warmup", type=int, default=500, help="connections opened and closed before measuring"
    )
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--post-concurrency", type=int, default=100)
    parser.add_argument("--post-client", choices=["aiohttp", "aiobotocore"], default="aiohttp")
    parser.add_argument("--timeout", type=float, default=300.0, help="bound of each phase, seconds")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        asyncio.run(serve())
    else:
        asyncio.run(run(arguments))


if __name__ == "__main__":
    main()
