"""Presence as backends see it on the messages queue: ONLINE on every connect, OFFLINE only
when the last connection of the user is gone, whatever closed it.

Presence may collapse the events of one user within one stream batch (two connects read
together give one ONLINE), so each test connects its second device only after the first
device's ONLINE arrived: then each connect has its own ONLINE to check."""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveStack, running_stack, unique


def wait_for_statuses(
    live: LiveStack, user: str, expected: list[str], timeout: float = 15
) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = live.inbox.presence(user)
        if len(statuses) >= len(expected):
            break
        time.sleep(0.05)
    time.sleep(0.5)  # room for an event that should not come
    return live.inbox.presence(user)


def wait_until_removed(live: LiveStack, user: str, connection_id: str) -> None:
    """Until the connection's record is gone from the table (its REMOVE is on the stream), plus
    the time presence needs to read the stream, so that an event it should not send has been
    given every chance to be sent."""
    dynamodb = live.client("dynamodb")
    key = {"user_id": {"S": user}, "connection_id": {"S": connection_id}}
    deadline = time.monotonic() + 10
    while dynamodb.get_item(
        TableName=live.manifest.connections_table, Key=key, ConsistentRead=True
    ).get("Item"):
        assert time.monotonic() < deadline, f"{connection_id} was never removed"
        time.sleep(0.05)
    time.sleep(1.0)


def connect_two_devices(live: LiveStack, user: str) -> tuple[Any, str, Any, str]:
    """Two connections of one user, each seen ONLINE."""
    first = live.connect(user)
    first_id = live.connection_id(first)
    assert wait_for_statuses(live, user, ["ONLINE"]) == ["ONLINE"]
    second = live.connect(user)
    second_id = live.connection_id(second)
    assert wait_for_statuses(live, user, ["ONLINE", "ONLINE"]) == ["ONLINE", "ONLINE"]
    return first, first_id, second, second_id


def test_offline_only_after_the_last_connection_closes(live: LiveStack) -> None:
    # GIVEN a user on two devices, ONLINE for each
    user = unique("hana")
    phone, phone_id, laptop, _ = connect_two_devices(live, user)
    # WHEN the phone closes
    phone.close()
    wait_until_removed(live, user, phone_id)
    # THEN nothing: the laptop is still connected
    assert live.inbox.presence(user) == ["ONLINE", "ONLINE"]
    # WHEN the laptop closes too
    laptop.close()
    # THEN OFFLINE, once
    assert wait_for_statuses(live, user, ["ONLINE", "ONLINE", "OFFLINE"]) == [
        "ONLINE",
        "ONLINE",
        "OFFLINE",
    ]


def test_a_management_delete_closes_the_socket_and_counts_as_a_close(live: LiveStack) -> None:
    # GIVEN a user on two devices
    user = unique("ivan")
    first, first_id, _, second_id = connect_two_devices(live, user)
    management = live.management()
    # WHEN a backend deletes the first connection
    management.delete_connection(ConnectionId=first_id)
    # THEN the user stays online; WHEN it deletes the second, THEN OFFLINE
    with pytest.raises(ConnectionClosed):
        first.recv(timeout=10)
    wait_until_removed(live, user, first_id)
    assert live.inbox.presence(user) == ["ONLINE", "ONLINE"]
    management.delete_connection(ConnectionId=second_id)
    assert wait_for_statuses(live, user, ["ONLINE", "ONLINE", "OFFLINE"])[-1] == "OFFLINE"
    assert live.inbox.presence(user).count("OFFLINE") == 1


TTL_STACK_TOML = """
[timeouts]
connection_ttl_seconds = 2
ttl_sweep_seconds = 0.5
"""


def test_ttl_expiry_takes_a_user_offline_on_the_messages_topic(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # GIVEN a stack whose connections live 2 s in the table, presence on the topic
    workdir = tmp_path_factory.mktemp("sumu-up-ttl")
    with running_stack(
        workdir, TTL_STACK_TOML, "--presence", "topic", stop_signal=signal.SIGINT
    ) as stack:
        user = unique("jun")
        socket = stack.connect(user)
        stack.connection_id(socket)
        # WHEN its record expires (DynamoDB's TTL, played by the stack's sweeper)
        # THEN presence says OFFLINE on the topic, and nothing goes to the queue
        deadline = time.monotonic() + 20
        while "OFFLINE" not in stack.inbox.presence(user, origin="topic"):
            assert time.monotonic() < deadline, stack.inbox.presence(user, origin="topic")
            time.sleep(0.1)
        assert stack.inbox.presence(user, origin="topic") == ["ONLINE", "OFFLINE"]
        assert stack.inbox.presence(user, origin="queue") == []
        table = stack.manifest.connections_table
        assert stack.client("dynamodb").scan(TableName=table)["Items"] == []
        # AND the socket itself stays open (TTL only removes the record, as on AWS) until
        # Ctrl-C stops the stack, which closes it (running_stack asserts a clean exit)
        assert stack.connection_id(socket)
        stack.sockets.remove(socket)  # not closed by the test: the shutdown must close it
    with pytest.raises(ConnectionClosed):
        socket.recv(timeout=10)
