"""Selective notify latency on the local stack: SQS SendMessage -> frame received.

    python3 -m uv run python bench/bench_notify_latency.py [--count 1000] [--stack .sumu/stack.json]

Without --stack it starts its own `sumu up` on free ports in a temporary directory (and stops
it at the end). One user is connected; notification requests for that user are sent one at a
time to the notifications queue and the time until the frame arrives on the socket is recorded.
Prints p50 / p90 / p99 / max. Target: p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from sumu_local.cli import issue_token
from sumu_local.stack.manifest import StackManifest
from websockets.sync.client import connect

WARMUP = 20
FRAME_TIMEOUT_SECONDS = 5.0


def start_stack(workdir: Path) -> tuple[subprocess.Popen[str], StackManifest]:
    sumu = shutil.which("sumu") or str(Path(sys.executable).parent / "sumu")
    process = subprocess.Popen(
        [sumu, "up", "--port", "0", "--aws-port", "0"],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.strip() == "ready":
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, StackManifest.read(workdir / ".sumu" / "stack.json")
    process.kill()
    raise SystemExit("sumu up did not become ready")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(manifest: StackManifest, count: int) -> tuple[list[float], int]:
    user = f"bench-{uuid.uuid4().hex[:8]}"
    sqs: Any = boto3.client(
        "sqs",
        endpoint_url=manifest.aws_endpoint_url,
        region_name=manifest.region,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - moto accepts any credentials
    )
    url = f"{manifest.websocket_url}?authorization={quote(issue_token(manifest, user))}"
    latencies: list[float] = []
    lost = 0
    with connect(url, open_timeout=30, proxy=None) as socket:
        for index in range(WARMUP + count):
            body = json.dumps({"users": [user], "data": {"i": index}})
            started = time.perf_counter()
            sqs.send_message(QueueUrl=manifest.notifications_queue_url, MessageBody=body)
            deadline = started + FRAME_TIMEOUT_SECONDS
            while True:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    lost += 1
                    break
                try:
                    frame = json.loads(socket.recv(timeout=remaining))
                except TimeoutError:
                    continue
                if frame == {"i": index}:
                    if index >= WARMUP:
                        latencies.append((time.perf_counter() - started) * 1000)
                    break
    return latencies, lost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--stack", type=Path, help="a running stack's stack.json")
    args = parser.parse_args()
    process = None
    with tempfile.TemporaryDirectory() as workdir:
        if args.stack:
            manifest = StackManifest.read(args.stack)
        else:
            process, manifest = start_stack(Path(workdir))
        try:
            latencies, lost = measure(manifest, args.count)
        finally:
            if process is not None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=30)
    if not latencies:
        print("no notification arrived")
        return 1
    print(f"selective notify latency, SQS send -> frame received ({len(latencies)} notifications)")
    print("| p50 ms | p90 ms | p99 ms | max ms | mean ms | lost |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {percentile(latencies, 0.50):.1f} | {percentile(latencies, 0.90):.1f} "
        f"| {percentile(latencies, 0.99):.1f} | {max(latencies):.1f} "
        f"| {statistics.fmean(latencies):.1f} | {lost} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
