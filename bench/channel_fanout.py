"""Channel fan-out against a broadcast to the same connections, on one `sumu up` (issue 17).

    python3 -m uv run --frozen python bench/channel_fanout.py [--connections 2000] [--rounds 3]

Starts a `sumu up` (the launcher of the end-to-end tests), opens the connections from this
process and subscribes every one to the same public channel (no token claim needed). Then, each
round, a backend sends through the notifications queue, as a backend would, and in alternating
order:

- **broadcast**: `{"data": ...}`: the pusher Scans the connections table;
- **channel**: `{"channels": [channel], "data": ...}`: the pusher Queries the subscriptions table.

Both go through the stack's own SQS poller and pusher function. A round's time is from the
SendMessage to the last connection's frame; the issue's target is channel / broadcast <= 1.2.
Every wait is bounded (`--timeout` per phase).

`--history on|off|both` (issue 18, default both): `on` is the stack as it starts (the pusher
has HISTORY_TABLE_NAME and IDEMPOTENCY_TABLE_NAME: every channel message takes a seq, is
written to history and claimed); `off` starts a stack with both variables set empty (the
pusher treats empty as unset: no seq, no history, no claim). `both` runs one stack after the
other and prints the channel publish time with history on / off (issue 18's target: <= 1.3).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from sumu_local.stack.issuer import TokenIssuer, load_key
from sumu_local.stack.manifest import StackManifest
from websockets.asyncio.client import ClientConnection, connect

CONNECT_CONCURRENCY = 64
MAX_CONNECTIONS = 5000  # the local stack's file descriptors and this machine's two cores
USERS = 400  # several connections per user, as in bench/fanout_compare.py


class Clients:
    """The connections, and what each received, counted by the bench id in the frame."""

    def __init__(self) -> None:
        self.sockets: list[ClientConnection] = []
        self.received: Counter[str] = Counter()
        self.acks = 0
        self.refusals: Counter[str] = Counter()
        self.seqs: set[int] = set()  # the channel seqs seen (history on)

    async def read(self, socket: ClientConnection) -> None:
        try:
            async for text in socket:
                self._count(json.loads(text))
        except Exception:  # noqa: S110 - a closed socket shows up as missing frames
            pass

    def _count(self, frame: Any) -> None:
        if not isinstance(frame, dict):
            return
        if frame.get("type") == "ack" and frame.get("action") == "subscribe":
            self.acks += 1
        elif frame.get("type") == "error":
            self.refusals[str(frame.get("code"))] += 1
        # A channel delivery is the envelope; a broadcast is the data verbatim.
        data = frame.get("data") if frame.get("type") == "message" else frame
        if isinstance(data, dict) and "bench" in data:
            self.received[str(data["bench"])] += 1
            if frame.get("type") == "message" and "seq" in frame:
                self.seqs.add(int(frame["seq"]))

    async def open(self, manifest: StackManifest, connections: int) -> None:
        issuer = TokenIssuer(
            key=load_key(Path(manifest.signing_key_file)),
            issuer=manifest.issuer,
            audience=manifest.audience,
        )
        tokens = [quote(issuer.token(f"channel-bench-{user}")) for user in range(USERS)]
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def open_one(index: int) -> None:
            try:
                socket = await connect(
                    f"{manifest.websocket_url}?authorization={tokens[index % USERS]}",
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

    async def subscribe(self, channel: str, bound_seconds: float) -> float:
        """Every connection subscribes (a bounded number of frames in flight); seconds taken."""
        started = time.monotonic()
        frame = json.dumps({"action": "subscribe", "channel": channel})
        for index, socket in enumerate(self.sockets):
            await socket.send(frame)
            # At most CONNECT_CONCURRENCY unanswered subscribes: the connections function's
            # concurrency, not the gateway's queue, should set the pace.
            while index + 1 - self.acks - sum(self.refusals.values()) > CONNECT_CONCURRENCY:
                if time.monotonic() - started > bound_seconds:
                    return time.monotonic() - started
                await asyncio.sleep(0.01)
        while self.acks + sum(self.refusals.values()) < len(self.sockets):
            if time.monotonic() - started > bound_seconds:
                break
            await asyncio.sleep(0.02)
        return time.monotonic() - started

    async def wait_for(self, bench_id: str, bound_seconds: float) -> float:
        started = time.monotonic()
        while self.received[bench_id] < len(self.sockets):
            if time.monotonic() - started > bound_seconds:
                break
            await asyncio.sleep(0.005)
        return time.monotonic() - started


async def measure(manifest: StackManifest, args: argparse.Namespace) -> list[dict[str, Any]]:
    clients = Clients()
    await clients.open(manifest, args.connections)
    print(f"{len(clients.sockets)} connections open", file=sys.stderr)
    channel = f"public:bench-{uuid.uuid4().hex[:8]}"
    seconds = await clients.subscribe(channel, args.timeout)
    print(
        f"{clients.acks} subscribed to {channel} in {seconds:.1f} s"
        + (f", refused: {dict(clients.refusals)}" if clients.refusals else ""),
        file=sys.stderr,
    )
    sqs = boto3.client(
        "sqs",
        endpoint_url=manifest.aws_endpoint_url,
        region_name=manifest.region,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - moto accepts any
    )
    rows = []
    for round_number in range(args.rounds):
        # Alternate which goes first, so neither always finds the stack warmer.
        kinds = ("broadcast", "channel") if round_number % 2 == 0 else ("channel", "broadcast")
        for kind in kinds:
            bench_id = uuid.uuid4().hex
            request: dict[str, Any] = {"data": {"bench": bench_id}}
            if kind == "channel":
                request["channels"] = [channel]
            started = time.monotonic()
            await asyncio.to_thread(
                sqs.send_message,
                QueueUrl=manifest.notifications_queue_url,
                MessageBody=json.dumps(request),
            )
            await clients.wait_for(bench_id, args.timeout)
            elapsed = time.monotonic() - started
            rows.append(
                {
                    "round": round_number + 1,
                    "kind": kind,
                    "expected": len(clients.sockets),
                    "delivered": min(clients.received[bench_id], len(clients.sockets)),
                    "seconds": round(elapsed, 2),
                }
            )
            print(rows[-1], file=sys.stderr)
            await asyncio.sleep(args.pause)  # let the last posts' connections settle
    for socket in clients.sockets:
        await socket.close()
    channel_rounds = sum(1 for row in rows if row["kind"] == "channel")
    print(
        f"channel seqs seen: {sorted(clients.seqs)} ({channel_rounds} published)", file=sys.stderr
    )
    return rows


def print_table(rows: list[dict[str, Any]], connections: int, history: str) -> float:
    print(f"history {history}: time to the last of {connections} deliveries: channel vs broadcast")
    print(f"{'round':>5} | {'kind':<9} | {'delivered':>11} | {'s to last':>9}")
    for row in rows:
        delivered = f"{row['delivered']}/{row['expected']}"
        print(f"{row['round']:>5} | {row['kind']:<9} | {delivered:>11} | {row['seconds']:>9}")
    channel = statistics.median(row["seconds"] for row in rows if row["kind"] == "channel")
    broadcast = statistics.median(row["seconds"] for row in rows if row["kind"] == "broadcast")
    print(
        f"median channel {channel:.2f} s, broadcast {broadcast:.2f} s: "
        f"ratio channel / broadcast {channel / broadcast:.2f} (target <= 1.2)"
    )
    return channel


# History off: the pusher reads an empty variable as unset (no seq, no history, no claim).
HISTORY_OFF_TOML = """
[environment]
HISTORY_TABLE_NAME = ""
IDEMPOTENCY_TABLE_NAME = ""
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0, help="bound of each phase, s")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between sends")
    parser.add_argument("--history", choices=("on", "off", "both"), default="both")
    args = parser.parse_args()
    if not 1 <= args.connections <= MAX_CONNECTIONS or not 1 <= args.rounds <= 20:
        parser.error(f"--connections 1..{MAX_CONNECTIONS}, --rounds 1..20")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.conftest import start_sumu_up, stop_sumu_up  # noqa: PLC0415 - needs sys.path

    modes = ("on", "off") if args.history == "both" else (args.history,)
    medians: dict[str, float] = {}
    for mode in modes:
        with tempfile.TemporaryDirectory() as workdir:
            process, manifest = start_sumu_up(
                Path(workdir), "" if mode == "on" else HISTORY_OFF_TOML
            )
            try:
                rows = asyncio.run(measure(manifest, args))
            finally:
                stop_sumu_up(process)
        medians[mode] = print_table(rows, args.connections, mode)
    if len(medians) == 2:
        print(
            f"channel publish, median s to the last delivery: history on {medians['on']:.2f}, "
            f"off {medians['off']:.2f}: ratio on / off {medians['on'] / medians['off']:.2f} "
            "(target <= 1.3)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
