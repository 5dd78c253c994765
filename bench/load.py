"""Load on the local stack: N WebSocket connections over U users, notifications for S seconds.

    python3 -m uv run --frozen python bench/load.py --connections 10000 --users 2000 --seconds 60

Starts its own `sumu up` on free ports (the launcher of the root end-to-end tests,
`tests/conftest.py`), raises RLIMIT_NOFILE, opens the connections (connection i belongs to user
i mod U), then for S seconds sends notification requests at a bounded rate, alternating SQS and
SNS: selected ones (1-3 random users) at `--rate` per second, and every `--broadcast-every`
seconds a broadcast or an all-but (`exclude_users`). Each request's `data` carries a unique id;
every frame is counted at the clients. After the sending stops it waits (at most
`--drain-seconds`) until every expected frame arrived, then prints a table and writes a JSON
report: connections held, connects/s, deliveries/s, latency p50/p99 (SendMessage / Publish
called -> frame received), lost deliveries, duplicates, the stack process's RSS, and what sits in
the DLQs.

A lost delivery is an (open connection, notification) pair that never arrived although the
connection was open (and stored) before the notification was sent. Connections that close during
the run are reported and their deliveries left out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from sumu_local.stack.issuer import TokenIssuer, load_key
from sumu_local.stack.manifest import StackManifest
from websockets.asyncio.client import ClientConnection, connect

# The local stack runs few pusher invocations at once (two SQS pollers, the SNS source), and a
# broadcast to 10,000 connections takes minutes there: give it Lambda's room (up to 900 s)
# rather than the 30 s default, and keep the queues' visibility above it (Lambda's rule) so a
# long invocation is not redelivered while it runs.
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
LOAD_SUMU_TOML_TEMPLATE = """
[stack]
functions = "{functions}"

[timeouts]
pusher_timeout_seconds = {pusher_timeout}
visibility_timeout_seconds = {visibility}
idle_timeout_seconds = 3600
sqs_wait_seconds = 1
sqs_pollers = {sqs_pollers}

[environment]
PUSHER_CONCURRENCY = "128"
"""


def load_sumu_toml(
    pusher_timeout_seconds: int = 120,
    functions: str = "process",
    sqs_pollers: int = 2,
    broadcast_segments: str = "",
) -> str:
    """``functions``: "process" (each function in processes of its own, the default) or
    "inprocess" (0.1's design: every handler imported into the stack's process)."""
    toml = LOAD_SUMU_TOML_TEMPLATE.format(
        pusher_timeout=pusher_timeout_seconds,
        visibility=pusher_timeout_seconds + 30,
        functions=functions,
        sqs_pollers=sqs_pollers,
    )
    # Issue 19: split each broadcast into this many fan-out jobs ("" = the pusher's auto).
    if broadcast_segments:
        toml += f'PUSHER_BROADCAST_SEGMENTS = "{broadcast_segments}"\n'
    return toml


LOAD_SUMU_TOML = load_sumu_toml()
CONNECT_CONCURRENCY = 64
OPEN_TIMEOUT_SECONDS = 60


@dataclass
class LoadOptions:
    connections: int = 1000
    users: int = 200
    seconds: float = 10.0
    rate: float = 10.0  # selected notifications per second
    broadcast_every: float = 5.0  # seconds between broadcast / all-but requests
    drain_seconds: float = 120.0
    seed: int = 7


@dataclass
class Sent:
    kind: str
    via: str
    targets: frozenset[int]
    sent_at: float


@dataclass
class LoadReport:
    options: dict[str, Any]
    connections_requested: int
    connections_held: int
    connect_failures: int
    connections_dropped: int
    connect_seconds: float
    connects_per_second: float
    notifications_sent: dict[str, int]
    expected_deliveries: int
    delivered: int
    lost: int
    duplicates: int
    deliveries_per_second: float
    delivery_seconds: float
    latency_ms: dict[str, float]
    latency_p50_p99_ms_by_kind: dict[str, list[float]]
    stack_rss_mb: float
    stack_peak_rss_mb: float
    queue_depths: dict[str, int]
    # CPU seconds used since start-up by the stack's process and its children (moto, each
    # function's environments): where the machine's time went.
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    lost_examples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Clients:
    """The open sockets and every frame they received: (connection index, id) -> count."""

    run_id: str
    sockets: dict[int, ClientConnection] = field(default_factory=dict)
    received: Counter[tuple[int, int]] = field(default_factory=Counter)
    first_seen: dict[tuple[int, int], float] = field(default_factory=dict)
    other_frames: int = 0
    dropped: set[int] = field(default_factory=set)
    last_frame_at: float = 0.0
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def read(self, index: int, socket: ClientConnection) -> None:
        try:
            async for frame in socket:
                now = time.monotonic()
                try:
                    data = json.loads(frame)
                except ValueError:
                    self.other_frames += 1
                    continue
                if not isinstance(data, dict) or data.get("load") != self.run_id:
                    self.other_frames += 1
                    continue
                key = (index, int(data["id"]))
                self.received[key] += 1
                self.first_seen.setdefault(key, now)
                self.last_frame_at = now
        except Exception:  # noqa: S110 - any end of the socket is recorded below
            pass
        self.dropped.add(index)


def raise_open_files_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a process, from /proc."""
    values = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def cpu_seconds_by_role(stack_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of the stack process, its moto and its functions' processes
    (summed per function), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text("ascii").rsplit(")", 1)[1].split()
            parent, used = int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks
            if int(entry.name) == stack_pid:
                totals["stack"] = totals.get("stack", 0.0) + used
            elif parent == stack_pid:
                role = _role(entry)
                totals[role] = totals.get(role, 0.0) + used
        except (OSError, ValueError, IndexError):
            continue  # a process that ended meanwhile
    return {role: round(seconds, 1) for role, seconds in sorted(totals.items())}


def _role(process: Path) -> str:
    if b"moto_server" in (process / "cmdline").read_bytes():
        return "moto"
    for variable in (process / "environ").read_bytes().split(b"\0"):
        if variable.startswith(b"AWS_LAMBDA_FUNCTION_NAME="):
            return "function " + variable.split(b"=", 1)[1].decode()
    return "other"


def aws(manifest: StackManifest, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=manifest.aws_endpoint_url,
        region_name=manifest.region,
        aws_access_key_id="load",
        aws_secret_access_key="load",  # noqa: S106 - moto accepts any credentials
    )


async def open_connections(
    manifest: StackManifest, options: LoadOptions, clients: Clients
) -> tuple[int, float]:
    key = load_key(Path(manifest.signing_key_file))
    issuer = TokenIssuer(key=key, issuer=manifest.issuer, audience=manifest.audience)
    tokens = [
        quote(issuer.token(f"load-user-{user}", ttl_seconds=7200)) for user in range(options.users)
    ]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    failures = 0

    async def open_one(index: int) -> None:
        nonlocal failures
        url = f"{manifest.websocket_url}?authorization={tokens[index % options.users]}"
        try:
            socket = await connect(
                url,
                open_timeout=OPEN_TIMEOUT_SECONDS,
                ping_interval=None,  # 10,000 keepalive pings would be load of their own
                close_timeout=2,
                max_queue=None,
                proxy=None,
            )
        except Exception:
            failures += 1
            return
        finally:
            gate.release()
        clients.sockets[index] = socket
        clients.readers.append(asyncio.create_task(clients.read(index, socket)))

    started = time.monotonic()
    async with asyncio.TaskGroup() as group:
        for index in range(options.connections):
            await gate.acquire()  # taken before the task exists: at most 64 handshakes at once
            group.create_task(open_one(index))
    return failures, time.monotonic() - started


class Sender:
    """Sends notification requests as a backend would, from a few threads (boto3 is blocking)."""

    def __init__(self, manifest: StackManifest, threads: int = 4) -> None:
        self.manifest = manifest
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sender")
        self.errors: list[str] = []

    def _client(self, service: str) -> Any:
        client = getattr(self.local, service, None)
        if client is None:
            client = aws(self.manifest, service)
            setattr(self.local, service, client)
        return client

    def _send(self, via: str, request: dict[str, Any]) -> None:
        body = json.dumps(request)
        try:
            if via == "sqs":
                self._client("sqs").send_message(
                    QueueUrl=self.manifest.notifications_queue_url, MessageBody=body
                )
            else:
                self._client("sns").publish(
                    TopicArn=self.manifest.notifications_topic_arn, Message=body
                )
        except Exception as error:  # reported: a request that never left is not a loss
            self.errors.append(f"{via}: {error}")

    def send(self, via: str, request: dict[str, Any]) -> Any:
        return self.pool.submit(self._send, via, request)


def plan_targets(
    kind: str, rng: random.Random, options: LoadOptions, open_indexes: list[int]
) -> tuple[dict[str, Any], frozenset[int]]:
    def connections_of(users: set[int]) -> frozenset[int]:
        return frozenset(index for index in open_indexes if index % options.users in users)

    if kind == "selected":
        users = set(rng.sample(range(options.users), k=min(options.users, rng.randint(1, 3))))
        request = {"users": [f"load-user-{user}" for user in sorted(users)]}
        return request, connections_of(users)
    if kind == "broadcast":
        return {}, frozenset(open_indexes)
    excluded = set(rng.sample(range(options.users), k=min(options.users, 2)))
    request = {"exclude_users": [f"load-user-{user}" for user in sorted(excluded)]}
    return request, frozenset(open_indexes) - connections_of(excluded)


async def send_notifications(
    manifest: StackManifest, options: LoadOptions, clients: Clients
) -> dict[int, Sent]:
    rng = random.Random(options.seed)
    sender = Sender(manifest)
    open_indexes = sorted(clients.sockets)
    sent: dict[int, Sent] = {}
    futures = []
    started = time.monotonic()
    deadline = started + options.seconds
    next_selected = started
    next_broadcast = started + min(1.0, options.broadcast_every)
    broadcasts = 0
    while time.monotonic() < deadline:
        now = time.monotonic()
        due: list[str] = []
        while next_selected <= now and next_selected < deadline:
            due.append("selected")
            next_selected += 1 / options.rate
        if options.broadcast_every > 0 and next_broadcast <= now:
            due.append("broadcast" if broadcasts % 2 == 0 else "all-but")
            broadcasts += 1
            next_broadcast += options.broadcast_every
        for kind in due:
            notification_id = len(sent)
            via = "sqs" if notification_id % 2 == 0 else "sns"
            request, targets = plan_targets(kind, rng, options, open_indexes)
            request["data"] = {"load": clients.run_id, "id": notification_id, "kind": kind}
            sent[notification_id] = Sent(kind, via, targets, time.monotonic())
            futures.append(sender.send(via, request))
        await asyncio.sleep(0.01)
    await asyncio.gather(*(asyncio.wrap_future(future) for future in futures))
    sender.pool.shutdown()
    for error in sender.errors:
        print(f"send failed: {error}", file=sys.stderr)
    return sent


def expected_pairs(sent: dict[int, Sent], dropped: set[int]) -> Iterator[tuple[int, int]]:
    for notification_id, notification in sent.items():
        for index in notification.targets:
            if index not in dropped:
                yield index, notification_id


async def drain(sent: dict[int, Sent], clients: Clients, seconds: float) -> None:
    expected = set(expected_pairs(sent, clients.dropped))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        missing = sum(1 for pair in expected if pair not in clients.received)
        if missing == 0:
            return
        await asyncio.sleep(0.5)


def queue_depths(manifest: StackManifest) -> dict[str, int]:
    """Messages left in the notifications queues and their DLQs when the run ends."""
    sqs = aws(manifest, "sqs")
    counts = {}
    queue_urls = {
        "notifications_queue": manifest.notifications_queue_url,
        "notifications_dlq": manifest.notifications_dlq_url,
    }
    for url in sqs.list_queues().get("QueueUrls", []):
        if url.endswith("-sns-delivery"):
            queue_urls["sns_delivery_queue"] = url
        if url.endswith("-sns-delivery-dlq"):
            queue_urls["sns_delivery_dlq"] = url
    for name, url in queue_urls.items():
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        counts[name] = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
    return counts


async def run_load(manifest: StackManifest, options: LoadOptions) -> LoadReport:
    """Open the connections, send for options.seconds, drain, count; closes its sockets."""
    clients = Clients(run_id=uuid.uuid4().hex[:12])
    failures, connect_seconds = await open_connections(manifest, options, clients)
    held = len(clients.sockets) - len(clients.dropped)
    print(
        f"{held} connections held ({failures} failed) in {connect_seconds:.1f} s; sending",
        file=sys.stderr,
    )
    try:
        send_started = time.monotonic()
        sent = await send_notifications(manifest, options, clients)
        await drain(sent, clients, options.drain_seconds)
        held_to_end = len(clients.sockets) - len(clients.dropped)
        rss, peak = rss_mb(manifest.pid)
        cpu = cpu_seconds_by_role(manifest.pid)
        expected = list(expected_pairs(sent, clients.dropped))
        expected_set = set(expected)
        delivered = sum(1 for pair in expected if pair in clients.received)
        latencies = [
            (clients.first_seen[pair] - sent[pair[1]].sent_at) * 1000
            for pair in expected
            if pair in clients.first_seen
        ]
        by_kind: dict[str, list[float]] = {}
        for pair, latency in zip(
            (pair for pair in expected if pair in clients.first_seen), latencies, strict=True
        ):
            kind = "selected" if sent[pair[1]].kind == "selected" else "broadcast/all-but"
            by_kind.setdefault(kind, []).append(latency)
        duplicates = sum(count - 1 for count in clients.received.values() if count > 1)
        unexpected = sum(1 for pair in clients.received if pair not in expected_set)
        lost_pairs = [pair for pair in expected if pair not in clients.received]
        delivery_seconds = max(clients.last_frame_at - send_started, 1e-9)
        kinds = Counter(f"{item.kind}/{item.via}" for item in sent.values())
        if unexpected:
            kinds["frames_not_targeted"] = unexpected
        return LoadReport(
            options=asdict(options),
            connections_requested=options.connections,
            connections_held=held_to_end,
            connect_failures=failures,
            connections_dropped=len(clients.dropped),
            connect_seconds=round(connect_seconds, 2),
            connects_per_second=round(len(clients.sockets) / connect_seconds, 1),
            notifications_sent=dict(sorted(kinds.items())),
            expected_deliveries=len(expected),
            delivered=delivered,
            lost=len(lost_pairs),
            duplicates=duplicates,
            deliveries_per_second=round(delivered / delivery_seconds, 1),
            delivery_seconds=round(delivery_seconds, 2),
            latency_ms={
                "p50": round(percentile(latencies, 0.50), 1),
                "p90": round(percentile(latencies, 0.90), 1),
                "p99": round(percentile(latencies, 0.99), 1),
                "max": round(max(latencies, default=float("nan")), 1),
                "mean": round(statistics.fmean(latencies), 1) if latencies else float("nan"),
            },
            latency_p50_p99_ms_by_kind={
                kind: [round(percentile(values, 0.5), 1), round(percentile(values, 0.99), 1)]
                for kind, values in sorted(by_kind.items())
            },
            stack_rss_mb=round(rss, 1),
            stack_peak_rss_mb=round(peak, 1),
            queue_depths=await asyncio.to_thread(queue_depths, manifest),
            cpu_seconds=cpu,
            lost_examples=[
                {"connection": index, "notification": notification_id, **_describe(sent, pair)}
                for pair in lost_pairs[:10]
                for index, notification_id in [pair]
            ],
        )
    finally:
        await close_all(clients)


def _describe(sent: dict[int, Sent], pair: tuple[int, int]) -> dict[str, Any]:
    notification = sent[pair[1]]
    return {"kind": notification.kind, "via": notification.via}


async def close_all(clients: Clients) -> None:
    gate = asyncio.Semaphore(256)

    async def close(socket: ClientConnection) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.close(), 5)

    await asyncio.gather(*(close(socket) for socket in clients.sockets.values()))


def print_table(report: LoadReport) -> None:
    rows = [
        ("connections held", f"{report.connections_held:,} / {report.connections_requested:,}"),
        ("connect failures / dropped", f"{report.connect_failures} / {report.connections_dropped}"),
        ("connects/s", f"{report.connects_per_second:,.1f} ({report.connect_seconds:.1f} s)"),
        ("notifications sent", ", ".join(f"{k} {v}" for k, v in report.notifications_sent.items())),
        ("expected deliveries", f"{report.expected_deliveries:,}"),
        ("delivered", f"{report.delivered:,}"),
        ("lost (not arrived by the end)", f"{report.lost:,}"),
        ("duplicates", f"{report.duplicates:,}"),
        ("deliveries/s", f"{report.deliveries_per_second:,.1f} over {report.delivery_seconds} s"),
        ("latency p50 / p99 ms", f"{report.latency_ms['p50']} / {report.latency_ms['p99']}"),
        ("latency p90 / max ms", f"{report.latency_ms['p90']} / {report.latency_ms['max']}"),
        *(
            (f"  {kind} p50 / p99 ms", f"{p50} / {p99}")
            for kind, (p50, p99) in report.latency_p50_p99_ms_by_kind.items()
        ),
        ("stack RSS / peak MB", f"{report.stack_rss_mb} / {report.stack_peak_rss_mb}"),
        (
            "CPU seconds by process",
            ", ".join(f"{role} {seconds}" for role, seconds in report.cpu_seconds.items()),
        ),
        ("left in queues / DLQs", ", ".join(f"{k} {v}" for k, v in report.queue_depths.items())),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}} | {value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=10.0, help="selected requests per second")
    parser.add_argument("--broadcast-every", type=float, default=5.0, help="seconds; 0 = none")
    parser.add_argument("--drain-seconds", type=float, default=120.0)
    parser.add_argument(
        "--pusher-timeout", type=int, default=120, help="the pusher's Lambda timeout, seconds"
    )
    parser.add_argument(
        "--functions",
        choices=("process", "inprocess"),
        default="process",
        help="functions in processes of their own (default) or 0.1's in-process handlers",
    )
    parser.add_argument(
        "--sqs-pollers", type=int, default=2, help="notifications-queue batches in flight"
    )
    parser.add_argument(
        "--broadcast-segments", default="", help="PUSHER_BROADCAST_SEGMENTS (issue 19)"
    )
    parser.add_argument("--report", type=Path, default=Path("load-report.json"))
    parser.add_argument("--workdir", type=Path, help="keep the stack's directory and log here")
    args = parser.parse_args()
    options = LoadOptions(
        connections=args.connections,
        users=args.users,
        seconds=args.seconds,
        rate=args.rate,
        broadcast_every=args.broadcast_every,
        drain_seconds=args.drain_seconds,
    )
    limit = raise_open_files_limit()  # the stack inherits it
    if options.connections + 512 > limit:
        print(f"RLIMIT_NOFILE is {limit}: too low for {options.connections} connections")
        return 2
    # The launcher of the end-to-end tests, so there is one way to start a stack for a test.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.conftest import start_sumu_up, stop_sumu_up  # noqa: PLC0415 - needs sys.path

    with tempfile.TemporaryDirectory() as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        process, manifest = start_sumu_up(
            workdir,
            load_sumu_toml(
                args.pusher_timeout, args.functions, args.sqs_pollers, args.broadcast_segments
            ),
        )
        try:
            report = asyncio.run(run_load(manifest, options))
        finally:
            stop_sumu_up(process)
    print_table(report)
    args.report.write_text(json.dumps(asdict(report), indent=2) + "\n", "utf-8")
    print(f"report: {args.report}")
    return 0 if report.lost == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
