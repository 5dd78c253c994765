"""moto's DynamoDB Query, with and without sumu-local's fast path, at 10 / 1,000 / 10,000 items.

    python3 -m uv run --frozen python bench/moto_query.py [--queries 200] [--sizes 10,1000,10000]

One moto server (in this process, over HTTP, as `sumu up` runs it) holds a table shaped like the
connections table (hash `user_id`, range `connection_id`, 5 connections per user). For each size,
the same random users are queried (`user_id = :u`, ConsistentRead, as the pusher does) with
moto's own code and then with the fast path; prints ms per query and the speed-up.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from sumu_local import moto_fastpath
from sumu_testkit import free_port

CONNECTIONS_PER_USER = 5


def create_table(dynamodb: Any, name: str, items: int) -> list[str]:
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
    users = [f"user-{index:05d}" for index in range(max(1, items // CONNECTIONS_PER_USER))]
    records = [
        {
            "user_id": {"S": users[index % len(users)]},
            "connection_id": {"S": f"conn-{index:06d}="},
            "connected_at": {"N": "1764264000000"},
            "delete_at": {"N": "1764271200"},
        }
        for index in range(items)
    ]
    for start in range(0, len(records), 25):
        batch = [{"PutRequest": {"Item": item}} for item in records[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={name: batch})
    return users


def time_queries(dynamodb: Any, name: str, users: list[str]) -> tuple[float, int]:
    samples = []
    found = 0
    for user in users:
        started = time.perf_counter()
        answer = dynamodb.query(
            TableName=name,
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": user}},
            ConsistentRead=True,
        )
        samples.append((time.perf_counter() - started) * 1000)
        found += answer["Count"]
    return statistics.median(samples), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--sizes", default="10,1000,10000")
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
    rows = []
    try:
        for size in (int(value) for value in args.sizes.split(",")):
            name = f"bench-{size}"
            users = create_table(dynamodb, name, size)
            picked = [random.choice(users) for _ in range(args.queries)]
            time_queries(dynamodb, name, picked[:10])  # warm-up
            # Interleaved, query by query, so the machine's load drifts over both alike.
            moto_samples, fast_samples = [], []
            for user in picked:
                with moto_fastpath.disabled():
                    moto_samples.append(time_queries(dynamodb, name, [user]))
                moto_fastpath.install()
                try:
                    fast_samples.append(time_queries(dynamodb, name, [user]))
                finally:
                    moto_fastpath.uninstall()
            moto_ms = statistics.median(sample[0] for sample in moto_samples)
            fast_ms = statistics.median(sample[0] for sample in fast_samples)
            moto_found = sum(sample[1] for sample in moto_samples)
            fast_found = sum(sample[1] for sample in fast_samples)
            assert moto_found == fast_found, (moto_found, fast_found)
            rows.append((size, moto_ms, fast_ms))
    finally:
        server.stop()
    print(f"moto Query, median ms per query over {args.queries} queries (HTTP round trip)")
    print(f"{'items':>8} | {'moto ms':>8} | {'fast path ms':>12} | {'speed-up':>8}")
    print(f"{'-' * 8}-+-{'-' * 8}-+-{'-' * 12}-+-{'-' * 8}")
    for size, moto_ms, fast_ms in rows:
        print(f"{size:>8,} | {moto_ms:>8.2f} | {fast_ms:>12.2f} | {moto_ms / fast_ms:>7.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
