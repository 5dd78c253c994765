"""Benchmark of sumu-connections: cold-start imports, frame reading, and each route end to end
against moto server on 127.0.0.1. Prints a table; asserts nothing.

    python3 -m uv run --frozen python services/connections/bench/bench_routes.py [--rounds 200]

Numbers from moto measure this code plus a local HTTP round trip, not AWS latency.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import boto3
from sumu_connections.client_frame import read_client_frame
from sumu_connections.handler import handler
from sumu_testkit import start_moto_server
from sumu_testkit.moto import aws_environment
from sumu_testkit.tables import create_connections_table

ROUND_TIME_LIMIT_SECONDS = 20.0


def timed(action: Callable[[], object], rounds: int) -> list[float]:
    """Milliseconds per call, for at most ``rounds`` calls or ROUND_TIME_LIMIT_SECONDS."""
    samples: list[float] = []
    deadline = time.perf_counter() + ROUND_TIME_LIMIT_SECONDS
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
        if time.perf_counter() > deadline:
            break
    return samples


def row(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"| {name:<38} | {len(samples):>5} | {statistics.median(samples):>8.2f} | {p95:>8.2f} |"


def cold_start_ms(statement: str, rounds: int) -> list[float]:
    """Wall time of ``statement`` in a fresh interpreter, minus an empty interpreter's start."""
    code = (
        "import time; t = time.perf_counter(); "
        f"{statement}; print((time.perf_counter() - t) * 1000)"
    )
    env = {**os.environ, "CONNECTIONS_TABLE_NAME": "bench"}
    samples = []
    for _ in range(rounds):
        output = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
        ).stdout
        samples.append(float(output.strip().splitlines()[-1]))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    rows = [
        row("cold: import handler", cold_start_ms("import sumu_connections.handler", 5)),
    ]
    for size in (100, 10_000, 131_000):
        frame = json.dumps({"action": "send", "message": "x" * (size - 31)})
        rows.append(
            row(
                f"read_client_frame {size} B",
                timed(lambda f=frame: read_client_frame(f), args.rounds),
            )
        )

    moto = start_moto_server()
    os.environ.update(aws_environment(moto.endpoint_url))
    try:
        rows.extend(route_rows(args.rounds))
    finally:
        moto.stop()

    print("| measurement                            | calls | p50 (ms) | p95 (ms) |")
    print("|----------------------------------------|-------|----------|----------|")
    print("\n".join(rows))


def route_rows(rounds: int) -> list[str]:
    dynamodb, sqs, sns = (boto3.client(name) for name in ("dynamodb", "sqs", "sns"))
    create_connections_table(dynamodb, "bench")
    os.environ["CONNECTIONS_TABLE_NAME"] = "bench"
    os.environ["MESSAGES_QUEUE_URL"] = sqs.create_queue(QueueName="bench")["QueueUrl"]
    os.environ["MESSAGES_TOPIC_ARN"] = sns.create_topic(Name="bench")["TopicArn"]

    def event(route_key: str, body: dict[str, object] | str | None = None) -> dict[str, object]:
        context = {
            "routeKey": route_key,
            "connectionId": "bench-connection",
            "requestId": "bench-request",
            "requestTimeEpoch": 1_795_000_000_000,
            "connectedAt": 1_795_000_000_000,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "bench"},
            "authorizer": {"principalId": "bench-user"},
        }
        built: dict[str, object] = {"requestContext": context}
        if body is not None:
            built["body"] = body if isinstance(body, str) else json.dumps(body)
        return built

    message = {"text": "x" * 200}
    routes = [
        ("$connect", event("$connect")),
        ("ping", event("ping", {"action": "ping"})),
        ("send (SQS, 200 B message)", event("send", {"action": "send", "message": message})),
        (
            "publish (SNS, 200 B message)",
            event("publish", {"action": "publish", "message": message}),
        ),
        ("$default (not JSON)", event("$default", "hello")),
        ("$disconnect", event("$disconnect")),
    ]
    handler(routes[1][1], None)  # the container's first call reads the settings
    return [
        row(f"route {name}", timed(lambda e=ev: handler(e, None), rounds)) for name, ev in routes
    ]


if __name__ == "__main__":
    main()
