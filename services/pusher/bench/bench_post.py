"""Micro-benchmark: CPU per post, SDK client (the old path) vs signed_post (the new one).

    python3 -m uv run --frozen python services/pusher/bench/bench_post.py [--posts 4000] [--rounds 3]

Both paths post through ``management_api.post_to_connection`` (the retry loop the pusher runs),
with PUSHER_CONCURRENCY posts at once (a semaphore, as the fan-out does), signed with the same
static credentials, to a stand-in management API on 127.0.0.1 that runs in its own process (a
minimal asyncio HTTP/1.1 server answering 200, so it does not share this process's CPU time).

- "sdk client": an aiobotocore apigatewaymanagementapi client configured as the runtime built
  it before signed_post (retries off, pool = concurrency, post timeout, shared TLS context);
- "signed_post": ``ManagementApiClient``, as the runtime builds it now.

"CPU ms / post" is this process's CPU time (user + system, ``time.process_time``) over the
round divided by the posts: what a post costs the pusher. "posts/s" is wall-clock throughput on
this machine, bounded also by the stand-in and by whatever else runs. Rounds alternate the two
paths so both see the same load; the table shows the median round and the load average.
Every round is bounded (a fixed number of posts, a 120 s timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiobotocore.config import AioConfig
from sumu_pusher import sdk
from sumu_pusher.management_api import PostResult, post_to_connection
from sumu_pusher.settings import RetryPolicy
from sumu_pusher.signed_post import ManagementApiClient

REGION = "eu-north-1"
STAGE = "bench"
PAYLOAD = b'{"type":"notification","message":"benchmark","padding":"' + b"x" * 200 + b'"}'
ROUND_TIMEOUT_S = 120.0


async def serve(port_file: str) -> None:
    """The stand-in: every request answered 200 with an empty body (keep-alive)."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for _ in range(1_000_000):  # bounded per socket
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", 0, backlog=1024)
    port = str(server.sockets[0].getsockname()[1])
    await asyncio.to_thread(Path(port_file).write_text, port, "utf-8")
    # Bounded: the benchmark kills it; it ends by itself after an hour at most.
    await asyncio.sleep(3600)


def start_standin() -> tuple[subprocess.Popen[bytes], str]:
    with tempfile.TemporaryDirectory() as directory:
        port_file = Path(directory) / "port"
        process = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file)])
        for _ in range(200):  # up to 10 s for the stand-in to listen
            if port_file.exists() and port_file.read_text("utf-8"):
                break
            time.sleep(0.05)
        port = port_file.read_text("utf-8")
    return process, f"http://127.0.0.1:{port}/{STAGE}"


async def run_round(client: Any, posts: int, concurrency: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``posts`` posts, ``concurrency`` at once."""
    slots = asyncio.Semaphore(concurrency)
    retry = RetryPolicy()
    failures: list[PostResult] = []

    async def one(n: int) -> None:
        async with slots:
            outcome = await post_to_connection(client, f"Bench{n:06d}Cw=", PAYLOAD, retry)
            if outcome.result is not PostResult.DELIVERED:
                failures.append(outcome.result)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(posts))), ROUND_TIMEOUT_S)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if failures:
        raise RuntimeError(f"{len(failures)} posts not delivered: {failures[:3]}")
    return cpu, wall


def sdk_client(endpoint: str, concurrency: int, timeout_s: float) -> Any:
    session = sdk.new_session()
    config = AioConfig(
        retries={"total_max_attempts": 1},
        max_pool_connections=concurrency,
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        http_session_cls=sdk.SharedTLSContextSession,
    )
    return session.create_client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)


async def signed_client(endpoint: str, concurrency: int, timeout_s: float) -> Any:
    session = sdk.new_session()
    return ManagementApiClient(
        endpoint,
        await session.get_credentials(),
        sdk.region(session),
        pool_size=concurrency,
        timeout_s=timeout_s,
    )


async def measure(
    paths: dict[str, Callable[[], Awaitable[Any]]], posts: int, rounds: int, concurrency: int
) -> dict[str, list[tuple[float, float]]]:
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    opened = {}
    for name, build in paths.items():
        context = await build()
        opened[name] = (context, await context.__aenter__())
        await run_round(opened[name][1], min(posts, 500), concurrency)  # warm: sockets open
    try:
        for _ in range(rounds):
            for name, (_, client) in opened.items():
                results[name].append(await run_round(client, posts, concurrency))
    finally:
        for context, _ in opened.values():
            await context.__aexit__(None, None, None)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=4000, help="posts per round (100..20000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per path (1..10)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    posts = max(100, min(args.posts, 20_000))
    rounds = max(1, min(args.rounds, 10))
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDBENCH")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench-secret")
    os.environ.setdefault("AWS_SESSION_TOKEN", "bench-token")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    standin, endpoint = start_standin()
    try:
        timeout_s = 3.0

        async def old() -> Any:
            return sdk_client(endpoint, args.concurrency, timeout_s)

        async def new() -> Any:
            return await signed_client(endpoint, args.concurrency, timeout_s)

        paths = {"sdk client": old, "signed_post": new}
        load_before = os.getloadavg()
        results = asyncio.run(measure(paths, posts, rounds, args.concurrency))
        load_after = os.getloadavg()
    finally:
        standin.kill()
        standin.wait(10)
    print(
        f"{posts} posts x {rounds} rounds per path, concurrency {args.concurrency}, "
        f"load average {load_before[0]:.2f} -> {load_after[0]:.2f} (1 min), {os.cpu_count()} CPUs"
    )
    print()
    print("| path | CPU ms / post (median) | min | posts/s (median) | max |")
    print("|---|---|---|---|---|")
    medians = {}
    for name, runs in results.items():
        per_post = [cpu / posts * 1000 for cpu, _ in runs]
        rates = [posts / wall for _, wall in runs]
        medians[name] = statistics.median(per_post)
        print(
            f"| {name} | {statistics.median(per_post):.3f} | {min(per_post):.3f} "
            f"| {statistics.median(rates):,.0f} | {max(rates):,.0f} |"
        )
    ratio = medians["signed_post"] / medians["sdk client"]
    print(f"\nsigned_post costs {ratio:.0%} of the SDK client's CPU per post.")


if __name__ == "__main__":
    main()
