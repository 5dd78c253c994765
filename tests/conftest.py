"""Fixtures of the cross-package end-to-end and browser tests: one real ``sumu up`` per session.

The stack is started exactly as a user starts it (the ``sumu`` console script, in a temporary
working directory, on free ports) and found through the ``.sumu/stack.json`` it writes. Tests
share it, so each one uses its own user ids.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import boto3
import pytest
from sumu_local.cli import issue_token
from sumu_local.stack.manifest import StackManifest
from sumu_testkit import free_port
from websockets.sync.client import ClientConnection, connect

STARTUP_SECONDS = 90
SUMU_TOML = """
[timeouts]
visibility_timeout_seconds = 2
max_receive_count = 3
ttl_sweep_seconds = 1
"""


def unique(name: str) -> str:
    """A user id no other test uses."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


@dataclass
class BackendInbox:
    """What a backend reads: the messages queue, and a queue subscribed to the messages topic
    (raw delivery, so attributes arrive as SQS message attributes). Read in the background."""

    sqs: Any
    queue_urls: dict[str, str]
    messages: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        for origin, url in self.queue_urls.items():
            threading.Thread(target=self._read, args=(origin, url), daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _read(self, origin: str, url: str) -> None:
        while not self._stop.is_set():
            try:
                batch = self.sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=1,
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception:  # the stack is going away at the end of the session
                return
            for message in batch:
                attributes = {
                    name: value["StringValue"]
                    for name, value in message.get("MessageAttributes", {}).items()
                }
                with self._lock:
                    self.messages.append(
                        {"origin": origin, "body": json.loads(message["Body"]), **attributes}
                    )
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], *, count: int = 1, timeout: float = 15
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.matching(predicate)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def matching(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        with self._lock:
            return [message for message in self.messages if predicate(message)]

    def presence(self, user_id: str, origin: str = "queue") -> list[str]:
        return [
            message["body"]["message"]["status"]
            for message in self.matching(
                lambda m: (
                    m["origin"] == origin
                    and m.get("source") == "lambda.presence.watchdog"
                    and m.get("user_id") == user_id
                )
            )
        ]


@dataclass
class LiveStack:
    manifest: StackManifest
    workdir: Path
    inbox: BackendInbox
    sockets: list[ClientConnection] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.manifest.aws_endpoint_url,
            region_name=self.manifest.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def management(self) -> Any:
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=self.manifest.management_url,
            region_name=self.manifest.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def token(self, user_id: str, **options: Any) -> str:
        return issue_token(self.manifest, user_id, **options)

    def connect(self, user_id: str, token: str | None = None) -> ClientConnection:
        url = f"{self.manifest.websocket_url}?authorization={quote(token or self.token(user_id))}"
        socket = connect(url, open_timeout=20, proxy=None, legacy=True)
        self.sockets.append(socket)
        return socket

    def connection_id(self, socket: ClientConnection) -> str:
        socket.send(json.dumps({"action": "ping"}))
        pong = json.loads(socket.recv(timeout=10))
        assert pong["type"] == "pong", pong
        return str(pong["connectionId"])

    def close_all(self) -> None:
        for socket in self.sockets:
            socket.close()
        self.sockets.clear()


def start_sumu_up(
    workdir: Path, sumu_toml: str = SUMU_TOML, *extra: str
) -> tuple[subprocess.Popen[str], StackManifest]:
    """``sumu up`` in ``workdir`` on free ports; returns once it printed ``ready``."""
    sumu = shutil.which("sumu") or str(Path(sys.executable).parent / "sumu")
    (workdir / "sumu.toml").write_text(sumu_toml, "utf-8")
    log = (workdir / "sumu-up.log").open("w")
    ports = ["--port", str(free_port()), "--aws-port", str(free_port())]
    process = subprocess.Popen(
        [sumu, "up", *ports, "--config", "sumu.toml", *extra],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP_SECONDS
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.strip() == "ready":
            # Keep draining stdout so the stack never blocks on a full pipe, into a file: the
            # handlers' JSON log lines (the pusher's per-invocation figures) are what explains
            # a failed or slow run.
            stdout_log = workdir / "sumu-up.stdout.log"
            threading.Thread(
                target=_copy_lines, args=(process.stdout, stdout_log), daemon=True
            ).start()
            return process, StackManifest.read(workdir / ".sumu" / "stack.json")
    stop_sumu_up(process)
    log_text = (workdir / "sumu-up.log").read_text("utf-8")[-4000:]
    pytest.fail(f"sumu up did not print ready: {''.join(lines)}\n{log_text}")


def _copy_lines(source: IO[str], path: Path) -> None:
    with path.open("w", encoding="utf-8") as sink:
        for line in source:
            sink.write(line)
            sink.flush()


def stop_sumu_up(
    process: subprocess.Popen[str], stop_signal: signal.Signals = signal.SIGTERM
) -> int:
    process.send_signal(stop_signal)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=5)


def _aws(manifest: StackManifest, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=manifest.aws_endpoint_url,
        region_name=manifest.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def backend_inbox(manifest: StackManifest) -> BackendInbox:
    """An inbox on the messages queue and on a tap queue subscribed to the messages topic."""
    sqs = _aws(manifest, "sqs")
    tap = sqs.create_queue(QueueName="e2e-messages-topic-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    _aws(manifest, "sns").subscribe(
        TopicArn=manifest.messages_topic_arn,
        Protocol="sqs",
        Endpoint=tap_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    inbox = BackendInbox(sqs, {"queue": manifest.messages_queue_url, "topic": tap})
    inbox.start()
    return inbox


@contextlib.contextmanager
def running_stack(
    workdir: Path,
    sumu_toml: str = SUMU_TOML,
    *extra: str,
    stop_signal: signal.Signals = signal.SIGTERM,
) -> Iterator[LiveStack]:
    """A ``sumu up`` for the duration of the block; asserts that it shuts down cleanly on
    ``stop_signal`` (SIGINT is what Ctrl-C sends)."""
    process, manifest = start_sumu_up(workdir, sumu_toml, *extra)
    stack = LiveStack(manifest=manifest, workdir=workdir, inbox=backend_inbox(manifest))
    try:
        yield stack
    finally:
        stack.close_all()
        stack.inbox.stop()
        status = stop_sumu_up(process, stop_signal)
        assert status == 0, (workdir / "sumu-up.log").read_text("utf-8")[-4000:]
        assert not (workdir / ".sumu" / "stack.json").exists()


@pytest.fixture(scope="session")
def sumu_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    with running_stack(tmp_path_factory.mktemp("sumu-up")) as stack:
        yield stack


@pytest.fixture
def live(sumu_stack: LiveStack) -> Iterator[LiveStack]:
    """The session's stack; the sockets a test opens are closed after it."""
    try:
        yield sumu_stack
    finally:
        sumu_stack.close_all()
