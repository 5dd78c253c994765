"""Faults on a running `sumu up`: nothing a backend sent is lost, and the stack recovers.

One stack for the module, with fault proxies in front of the management API, of moto's DynamoDB
and of the JWKS (`injector.FaultProxy`, wired in through `sumu.toml`'s `[environment]`), and the
pusher wrapped by `crashing_pusher` (`[handlers]`). Timeouts are shrunk so a redelivery takes
seconds: visibility 2 s, the pusher's Lambda deadline 4 s.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from aiohttp import web
from sumu_local.stack.issuer import TokenIssuer, load_or_create_key
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.conftest import LiveStack, running_stack, unique
from tests.faults.injector import Fault, FaultProxy, dynamodb_throttle, management_error

ROOT = Path(__file__).resolve().parents[2]
PUSHER_DEADLINE_SECONDS = 4
VISIBILITY_SECONDS = 2

FAULTS_TOML = """
[timeouts]
visibility_timeout_seconds = {visibility}
max_receive_count = 12
pusher_timeout_seconds = {deadline}
sqs_wait_seconds = 1
ttl_sweep_seconds = 60

[handlers]
pusher = "tests.faults.crashing_pusher.handler"

[environment]
APIGW_ENDPOINT = "{management}/mvp"
AWS_ENDPOINT_URL_DYNAMODB = "{dynamodb}"
JWT_ISSUER_JWKS_URI = "{jwks}/.well-known/jwks.json"
FAULTS_CONTROL_FILE = "{control}"
PUSHER_POST_TIMEOUT_MS = "20000"
PUSHER_SAFETY_MARGIN_MS = "1000"
PUSHER_MAX_ATTEMPTS = "3"
PUSHER_BACKOFF_MAX_MS = "300"
# The ghost test prunes a connection seconds after it connected: no grace for young records
# (the pusher's default of 60 s spares a record whose $connect may still be in flight).
PUSHER_PRUNE_GRACE_SECONDS = "0"
"""


@dataclass
class FaultyStack:
    live: LiveStack
    management: FaultProxy
    dynamodb: FaultProxy
    jwks: FaultProxy
    control: Path

    def notify(self, via: str, request: dict[str, Any]) -> None:
        body = json.dumps(request)
        if via == "sqs":
            self.live.client("sqs").send_message(
                QueueUrl=self.live.manifest.notifications_queue_url, MessageBody=body
            )
        else:
            self.live.client("sns").publish(
                TopicArn=self.live.manifest.notifications_topic_arn, Message=body
            )

    def dlq_depth(self) -> int:
        attributes = self.live.client("sqs").get_queue_attributes(
            QueueUrl=self.live.manifest.notifications_dlq_url,
            AttributeNames=["ApproximateNumberOfMessages"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultyStack]:
    workdir = tmp_path_factory.mktemp("faults")
    proxies = [FaultProxy() for _ in range(3)]
    for proxy in proxies:
        proxy.start()
    management, dynamodb, jwks = proxies
    control = workdir / "control.json"
    toml = FAULTS_TOML.format(
        visibility=VISIBILITY_SECONDS,
        deadline=PUSHER_DEADLINE_SECONDS,
        management=management.url,
        dynamodb=dynamodb.url,
        jwks=jwks.url,
        control=control,
    )
    # The stack imports the crashing pusher from this repository's tests package.
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), previous]))
    try:
        with running_stack(workdir, toml) as live:
            origin = urlsplit(live.manifest.websocket_url)._replace(scheme="http", path="")
            management.upstream = jwks.upstream = origin.geturl()
            dynamodb.upstream = live.manifest.aws_endpoint_url
            yield FaultyStack(live, management, dynamodb, jwks, control)
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous
        for proxy in proxies:
            proxy.stop()


@pytest.fixture
def stack(faulty: FaultyStack) -> Iterator[FaultyStack]:
    try:
        yield faulty
    finally:
        for proxy in (faulty.management, faulty.dynamodb, faulty.jwks):
            proxy.set_rule(None)
        faulty.control.unlink(missing_ok=True)
        faulty.live.close_all()


def for_a_while(seconds: float, fault: Callable[[web.Request], Fault | None]) -> Any:
    """A rule applying `fault` during the next `seconds`, then forwarding everything."""
    until = time.monotonic() + seconds

    def rule(request: web.Request) -> Fault | None:
        return fault(request) if time.monotonic() < until else None

    return rule


def posts(fault: Fault) -> Callable[[web.Request], Fault | None]:
    return lambda request: fault if request.method == "POST" else None


def receive_ids(
    sockets: dict[str, ClientConnection], expected: dict[str, set[str]], timeout: float = 40
) -> dict[str, Counter[str]]:
    """Count the frames carrying an `id` per socket until each has its expected ids (or timeout),
    then a short grace so duplicates can show up."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in sockets}
    deadline = time.monotonic() + timeout
    grace: float | None = None
    while time.monotonic() < (grace or deadline):
        if grace is None and all(expected[name] <= set(counts[name]) for name in expected):
            grace = time.monotonic() + 1.0
        for name, socket in sockets.items():
            try:
                frame = json.loads(socket.recv(timeout=0.05))
            except TimeoutError:
                continue
            if isinstance(frame, dict) and "id" in frame:
                counts[name][frame["id"]] += 1
    return counts


def ids(count: int) -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"{run}-{index}" for index in range(count)]


def test_management_api_answering_429_then_500_delivers_everything_after_recovery(
    stack: FaultyStack,
) -> None:
    # GIVEN a user connected, and the management API answering its next 4 posts with 429
    # (throttled), the 4 after with 500, then recovering
    user = unique("throttled")
    socket = stack.live.connect(user)
    stack.live.connection_id(socket)
    answers = [management_error(429, "LimitExceededException")] * 4
    answers += [management_error(500, "InternalServerErrorException")] * 4
    stack.management.set_rule(
        lambda request: answers.pop(0) if answers and request.method == "POST" else None
    )
    # WHEN notifications are sent through SQS and SNS meanwhile
    sent = ids(6)
    for index, notification_id in enumerate(sent):
        stack.notify(
            "sqs" if index % 2 else "sns", {"users": [user], "data": {"id": notification_id}}
        )
    # THEN every one of them arrives once the API recovers, and none is dead-lettered
    counts = receive_ids({"user": socket}, {"user": set(sent)})
    assert set(counts["user"]) == set(sent)
    faulted = stack.management.requests(lambda seen: seen.fault is not None)
    assert {seen.fault.status for seen in faulted if seen.fault} == {429, 500}
    assert stack.dlq_depth() == 0


def test_a_hanging_management_api_is_cut_by_the_lambda_deadline_then_redelivered(
    stack: FaultyStack,
) -> None:
    # GIVEN a user connected, and management API posts hanging (far longer than the deadline)
    user = unique("hang")
    socket = stack.live.connect(user)
    connection_id = stack.live.connection_id(socket)
    stack.management.set_rule(
        for_a_while(2.5, posts(Fault(status=504, hang_seconds=30, body=b"{}")))
    )
    # WHEN a notification is sent
    [notification_id] = ids(1)
    stack.notify("sqs", {"users": [user], "data": {"id": notification_id}})
    # THEN it arrives after the hang, through a new attempt, started within the pusher's deadline
    # plus the visibility timeout (and some scheduling slack) of the hanging one
    counts = receive_ids({"user": socket}, {"user": {notification_id}})
    assert counts["user"][notification_id] >= 1
    attempts = stack.management.requests(
        lambda seen: seen.method == "POST" and connection_id in seen.path
    )
    hung = [seen for seen in attempts if seen.fault is not None]
    delivered = [seen for seen in attempts if seen.fault is None]
    assert hung, "the post never hung"
    assert delivered
    assert delivered[0].at - hung[0].at < PUSHER_DEADLINE_SECONDS + VISIBILITY_SECONDS + 8


def test_a_connection_gone_without_disconnect_is_pruned_and_reported_offline(
    stack: FaultyStack,
) -> None:
    # GIVEN a ghost (its socket died without $disconnect: the management API answers 410 Gone)
    # and a live user
    ghost, alive = unique("ghost"), unique("alive")
    ghost_socket = stack.live.connect(ghost)
    ghost_id = stack.live.connection_id(ghost_socket)
    alive_socket = stack.live.connect(alive)
    stack.live.connection_id(alive_socket)
    assert stack.live.inbox.wait_for(
        lambda m: m.get("user_id") == ghost and m["origin"] == "queue", timeout=20
    )
    gone = management_error(410, "GoneException")
    stack.management.set_rule(
        lambda request: gone if request.method == "POST" and ghost_id in request.path else None
    )
    # WHEN both are notified
    [notification_id] = ids(1)
    stack.notify("sqs", {"users": [ghost, alive], "data": {"id": notification_id}})
    # THEN the live user gets it, the ghost's record is deleted and OFFLINE is emitted for it
    counts = receive_ids({"alive": alive_socket}, {"alive": {notification_id}})
    assert counts["alive"][notification_id] >= 1
    table = stack.live.client("dynamodb")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        items = table.query(
            TableName=stack.live.manifest.connections_table,
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": ghost}},
        )["Items"]
        if not items:
            break
        time.sleep(0.2)
    assert items == []
    stack.live.inbox.wait_for(
        lambda m: m.get("user_id") == ghost and m["body"]["message"]["status"] == "OFFLINE",
        timeout=20,
    )
    assert stack.live.inbox.presence(ghost) == ["ONLINE", "OFFLINE"]
    assert "OFFLINE" not in stack.live.inbox.presence(alive)
    assert stack.dlq_depth() == 0


def test_dynamodb_throttling_during_query_and_scan_delays_but_loses_nothing(
    stack: FaultyStack,
) -> None:
    # GIVEN two users connected, and DynamoDB throttling every Query and Scan for 3 s
    first, second = unique("dyn-a"), unique("dyn-b")
    sockets = {first: stack.live.connect(first), second: stack.live.connect(second)}
    for socket in sockets.values():
        stack.live.connection_id(socket)

    def throttle_reads(request: web.Request) -> Fault | None:
        target = request.headers.get("X-Amz-Target", "")
        return dynamodb_throttle() if target.endswith((".Query", ".Scan")) else None

    stack.dynamodb.set_rule(for_a_while(3.0, throttle_reads))
    # WHEN selected (Query) and broadcast (Scan) requests are sent through SQS and SNS
    selected, broadcast = ids(2), ids(2)
    stack.notify("sqs", {"users": [first], "data": {"id": selected[0]}})
    stack.notify("sns", {"users": [second], "data": {"id": selected[1]}})
    stack.notify("sqs", {"data": {"id": broadcast[0]}})
    stack.notify("sns", {"data": {"id": broadcast[1]}})
    # THEN everyone gets their frames once the throttling stops
    expected = {first: {selected[0], *broadcast}, second: {selected[1], *broadcast}}
    counts = receive_ids(sockets, expected)
    for user, wanted in expected.items():
        assert wanted <= set(counts[user]), user
    throttled = {seen.target.rsplit(".", 1)[-1] for seen in stack.dynamodb.requests() if seen.fault}
    assert throttled == {"Query", "Scan"}
    assert stack.dlq_depth() == 0


def test_a_pusher_crashing_mid_batch_is_redelivered_with_duplicates_but_no_loss(
    stack: FaultyStack,
) -> None:
    # GIVEN a user connected, and a pusher that dies halfway through its next batch
    user = unique("crash")
    socket = stack.live.connect(user)
    stack.live.connection_id(socket)
    stack.control.write_text(json.dumps({"crashes": 1}), "utf-8")
    # WHEN ten requests are sent in one SendMessageBatch
    sent = ids(10)
    stack.live.client("sqs").send_message_batch(
        QueueUrl=stack.live.manifest.notifications_queue_url,
        Entries=[
            {"Id": str(index), "MessageBody": json.dumps({"users": [user], "data": {"id": value}})}
            for index, value in enumerate(sent)
        ],
    )
    # THEN every request arrives; the half delivered before the crash arrives twice
    counts = receive_ids({"user": socket}, {"user": set(sent)})
    assert set(counts["user"]) == set(sent)
    assert json.loads(stack.control.read_text("utf-8"))["crashed_batches"] == 1
    assert sum(count - 1 for count in counts["user"].values()) >= 1
    assert stack.dlq_depth() == 0


def test_with_the_jwks_down_connected_users_stay_and_known_keys_still_get_in(
    stack: FaultyStack, tmp_path: Path
) -> None:
    # GIVEN a user connected while the JWKS was up (the authorizer holds its keys)
    before = unique("jwks-before")
    socket = stack.live.connect(before)
    stack.live.connection_id(socket)
    # WHEN the JWKS endpoint goes down
    stack.jwks.set_rule(lambda request: Fault(status=503, body=b"down"))
    # THEN the connected user stays connected and notified
    [notification_id] = ids(1)
    stack.notify("sqs", {"users": [before], "data": {"id": notification_id}})
    assert notification_id in receive_ids({"u": socket}, {"u": {notification_id}})["u"]
    # AND a new user with a token signed by a known key still gets in
    after = unique("jwks-after")
    new_socket = stack.live.connect(after)
    assert stack.live.connection_id(new_socket)
    # AND a token signed by a key the authorizer has never seen is refused, not let in
    stranger_key, _ = load_or_create_key(tmp_path)
    manifest = stack.live.manifest
    stranger = TokenIssuer(key=stranger_key, issuer=manifest.issuer, audience=manifest.audience)
    url = f"{manifest.websocket_url}?authorization={quote(stranger.token('mallory'))}"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=20, proxy=None).close()
    assert refused.value.response.status_code in (401, 403, 500)
