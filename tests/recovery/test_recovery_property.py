"""Issue 18's property: for any interleaving of publishes, redeliveries, disconnects and
reconnects, a client that applies the documented client rule (buffer a channel's live frames
between its subscribe and the ack; drop any (channel, seq) it already has) sees every message
of its channels exactly once and in seq order, as long as it reconnects within the history
window.

Against the REAL handlers: sumu-connections ($connect, subscribe with since, $disconnect) and
sumu-pusher (SQS events), on moto over HTTP, with a stand-in of the management API that both
post to. A disconnected connection answers 410 (GoneException), as API Gateway's does.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)
from sumu_connections import handler as connections
from sumu_local.stack.resources import create_history_table, create_idempotency_table
from sumu_pusher.handler import handler as pusher
from sumu_pusher.runtime import close_thread_runtime
from sumu_testkit.tables import create_connections_table, create_subscriptions_table

PREFIX = "sumu-recovery-property"
CONNECTIONS = f"{PREFIX}-connections"
SUBSCRIPTIONS = f"{PREFIX}-subscriptions"
HISTORY = f"{PREFIX}-history"
IDEMPOTENCY = f"{PREFIX}-idempotency"
HISTORY_SIZE = 100  # more than any run publishes: every reconnect is within the window
CLIENTS = 3
CHANNELS = 2
_examples = itertools.count()


class ManagementApi:
    """PostToConnection: records each post per connection, in order; 410 once it is gone."""

    def __init__(self) -> None:
        self.posts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                connection_id = self.path.rsplit("/", 1)[-1]
                with api._lock:
                    status = 410 if connection_id in api.gone else 200
                    if status == 200:
                        api.posts[connection_id].append(json.loads(body))
                payload = b"" if status == 200 else b'{"message": "Gone"}'
                self.send_response(status)
                if status == 410:
                    self.send_header("x-amzn-ErrorType", "GoneException")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/mvp"

    def take(self, connection_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return self.posts.pop(connection_id, [])

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Client:
    """The client library's rule, as the connections README documents it."""

    user: str
    channels: tuple[str, ...]
    connection_id: str | None = None
    last_seq: dict[str, int] = field(default_factory=dict)
    seen: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def apply(self, frames: list[dict[str, Any]]) -> None:
        for frame in frames:
            if frame.get("type") != "message":
                continue
            channel, seq = frame["channel"], frame["seq"]
            if seq <= self.last_seq.get(channel, 0):
                continue  # a duplicate by seq (the seam, a redelivery): dropped
            assert seq == self.last_seq.get(channel, 0) + 1, (channel, seq, self.last_seq)
            self.last_seq[channel] = seq
            self.seen[channel].append(seq)


def _context(route: str, event_type: str, connection_id: str, user: str) -> dict[str, Any]:
    return {
        "routeKey": route,
        "eventType": event_type,
        "connectionId": connection_id,
        "requestId": f"req-{connection_id}-{route}",
        "stage": "mvp",
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "apiId": "abc123",
        "authorizer": {"principalId": user},
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "property"},
    }


class Recovery(RuleBasedStateMachine):
    api: ManagementApi
    dynamodb: Any

    def __init__(self) -> None:
        super().__init__()
        example = next(_examples)
        # Channel names of their own per example: the tables are shared across examples.
        self.channels = tuple(f"public:e{example}-c{n}" for n in range(CHANNELS))
        self.clients = [
            Client(f"e{example}-u{n}", self.channels[: 1 + n % CHANNELS]) for n in range(CLIENTS)
        ]
        self.published: dict[str, int] = defaultdict(int)
        self.bodies: list[tuple[str, str]] = []  # (message id, body) for redeliveries
        self._ids = itertools.count(1)
        self.example = example
        for client in self.clients:
            self._connect(client)

    # --- the client's side -------------------------------------------------------------------

    def _connect(self, client: Client) -> None:
        connection_id = f"e{self.example}-conn-{next(self._ids)}"
        event = {"requestContext": _context("$connect", "CONNECT", connection_id, client.user)}
        assert connections.handler(event, None)["statusCode"] == 200
        client.connection_id = connection_id
        for channel in client.channels:
            frame: dict[str, Any] = {"action": "subscribe", "channel": channel}
            if channel in client.last_seq:
                frame["since"] = client.last_seq[channel]
            event = {
                "requestContext": _context("subscribe", "MESSAGE", connection_id, client.user),
                "body": json.dumps(frame),
            }
            ack = json.loads(connections.handler(event, None)["body"])
            # Frames posted during the subscribe (the replay) come before the ack.
            client.apply(self.api.take(connection_id))
            assert ack["type"] == "ack", ack
            if "since" in frame:
                assert ack["recovered"] is True, ack
            assert ack["seq"] == self.published[channel]
            # A first subscribe starts at the ack's seq: the next reconnect asks since it.
            client.last_seq.setdefault(channel, ack["seq"])

    def _deliver(self) -> None:
        for client in self.clients:
            if client.connection_id is not None:
                client.apply(self.api.take(client.connection_id))

    # --- rules -------------------------------------------------------------------------------

    @rule(channels=st.sets(st.integers(0, CHANNELS - 1), min_size=1))
    def publish(self, channels: set[int]) -> None:
        names = [self.channels[n] for n in sorted(channels)]
        message_id = f"e{self.example}-m-{next(self._ids)}"
        body = json.dumps({"channels": names, "data": message_id})
        self.bodies.append((message_id, body))
        self._send(message_id, body)
        for name in names:
            self.published[name] += 1

    @precondition(lambda self: self.bodies)
    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        """SQS delivers a message again: it keeps its seqs (clients drop it by seq)."""
        message_id, body = data.draw(st.sampled_from(self.bodies))
        self._send(message_id, body)

    def _send(self, message_id: str, body: str) -> None:
        event = {
            "Records": [
                {
                    "messageId": message_id,
                    "receiptHandle": "handle",
                    "body": body,
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:notifications",
                    "awsRegion": "us-east-1",
                }
            ]
        }
        assert pusher(event, None) == {"batchItemFailures": []}
        self._deliver()

    @rule(client=st.integers(0, CLIENTS - 1), clean=st.booleans())
    def disconnect(self, client: int, clean: bool) -> None:
        """The connection drops: it answers 410 from now on; $disconnect may run or not yet."""
        model = self.clients[client]
        if model.connection_id is None:
            return
        self.api.gone.add(model.connection_id)
        if clean:
            event = {
                "requestContext": _context(
                    "$disconnect", "DISCONNECT", model.connection_id, model.user
                )
            }
            connections.handler(event, None)
        model.connection_id = None

    @rule(client=st.integers(0, CLIENTS - 1))
    def reconnect(self, client: int) -> None:
        model = self.clients[client]
        if model.connection_id is None:
            self._connect(model)

    # --- the property ------------------------------------------------------------------------

    @invariant()
    def connected_clients_saw_every_message_once_in_order(self) -> None:
        for client in self.clients:
            if client.connection_id is None:
                continue
            for channel in client.channels:
                assert client.seen[channel] == list(range(1, self.published[channel] + 1))


@pytest.fixture
def recovery_stack(aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementApi]:
    dynamodb = boto3.client("dynamodb")
    create_connections_table(dynamodb, CONNECTIONS)
    create_subscriptions_table(dynamodb, SUBSCRIPTIONS)
    create_history_table(dynamodb, HISTORY)
    create_idempotency_table(dynamodb, IDEMPOTENCY)
    api = ManagementApi()
    for name, value in {
        "CONNECTIONS_TABLE_NAME": CONNECTIONS,
        "SUBSCRIPTIONS_TABLE_NAME": SUBSCRIPTIONS,
        "HISTORY_TABLE_NAME": HISTORY,
        "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY,
        "HISTORY_SIZE": str(HISTORY_SIZE),
        "APIGW_ENDPOINT": api.endpoint,
        "PUSHER_PRUNE_GRACE_SECONDS": "0",
        "PUSHER_MAX_ATTEMPTS": "1",
        "PUSHER_CONCURRENCY": "8",
    }.items():
        monkeypatch.setenv(name, value)
    connections.service.cache_clear()
    close_thread_runtime()
    Recovery.api = api
    try:
        yield api
    finally:
        connections.service.cache_clear()
        close_thread_runtime()
        api.stop()


def test_a_reconnecting_client_sees_every_message_once_in_order(recovery_stack: Any) -> None:
    test = Recovery.TestCase
    test.settings = settings(
        max_examples=25,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    test().runTest()
