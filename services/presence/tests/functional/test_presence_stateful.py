"""Users connect and disconnect on several devices in random order; after every step the events
the watchdog emitted (read back from a real queue) agree with the truth kept by the model."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sumu_presence.handler import handle_batch

USERS = ("alice", "bob", "carol")
Op = tuple[str, str, str]  # ("connect" | "disconnect", user_id, connection_id)
Event = tuple[str, str, float]  # (user_id, status, timestamp)


def expected_events(
    open_before: dict[str, set[str]], ops: list[Op], timestamps: list[float]
) -> list[Event]:
    """What consumers must hear for one batch, from the truth alone.

    ONLINE on every connect; OFFLINE when a user's last connection goes. Two documented
    contractions: an OFFLINE is not announced when the user is connected again by the end of the
    batch (the watchdog's strongly consistent read runs after the batch), and a user's repeat of
    the status just announced in the same batch is collapsed.
    """
    open_now = {user: set(connections) for user, connections in open_before.items()}
    transitions: list[Event] = []
    for (kind, user, connection), timestamp in zip(ops, timestamps, strict=True):
        if kind == "connect":
            open_now[user].add(connection)
            transitions.append((user, "ONLINE", timestamp))
        else:
            open_now[user].remove(connection)
            if not open_now[user]:
                transitions.append((user, "OFFLINE", timestamp))
    announced: list[Event] = []
    last_status: dict[str, str] = {}
    for user, status, timestamp in transitions:
        if status == "OFFLINE" and open_now[user]:
            continue
        if last_status.get(user) == status:
            continue
        last_status[user] = status
        announced.append((user, status, timestamp))
    return announced


def per_user(events: list[Event]) -> dict[str, list[tuple[str, float]]]:
    """Each user's events in order (the watchdog orders within a user, not across users)."""
    grouped: dict[str, list[tuple[str, float]]] = {}
    for user, status, timestamp in events:
        grouped.setdefault(user, []).append((status, timestamp))
    return grouped


def presence_machine(make_stream: Callable[..., Any], make_queue: Callable[..., Any]) -> type:
    class PresenceMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.open: dict[str, set[str]] = {user: set() for user in USERS}
            self.connection_ids = itertools.count()
            self.last_emitted: list[Event] = []

        @initialize(view_type=st.sampled_from(["NEW_AND_OLD_IMAGES", "KEYS_ONLY"]))
        def create_resources(self, view_type: str) -> None:
            self.stream = make_stream(view_type)
            self.queue = make_queue()
            self.runtime = self.stream.queue_runtime(self.queue)

        def apply(self, ops: list[Op], ttl: bool = False) -> None:
            """Run ``ops`` on the table, feed the new stream records, compare with the truth."""
            for kind, user, connection in ops:
                if kind == "connect":
                    self.stream.connect(user, connection)
                else:
                    self.stream.disconnect(user, connection)
            records = self.stream.new_records()
            assert len(records) == len(ops)
            if ttl:
                records = [self.stream.as_ttl_expiry(record) for record in records]
            timestamps = [record["dynamodb"]["ApproximateCreationDateTime"] for record in records]
            expected = expected_events(self.open, ops, timestamps)
            response = handle_batch(self.stream.lambda_event(records), self.runtime)
            assert response == {"batchItemFailures": []}
            emitted = [
                (
                    event["body"]["message"]["user_id"],
                    event["body"]["message"]["status"],
                    event["body"]["message"]["timestamp"],
                )
                for event in self.queue.drain()
            ]
            assert per_user(emitted) == per_user(expected)
            for kind, user, connection in ops:
                (self.open[user].add if kind == "connect" else self.open[user].remove)(connection)
            self.last_emitted = emitted

        def new_connection(self, user: str) -> Op:
            return ("connect", user, f"{user}-{next(self.connection_ids)}")

        def has_connections(self) -> bool:
            return any(self.open.values())

        @rule(user=st.sampled_from(USERS))
        def connect(self, user: str) -> None:
            self.apply([self.new_connection(user)])
            assert [(u, s) for u, s, _ in self.last_emitted] == [(user, "ONLINE")]

        @precondition(has_connections)
        @rule(data=st.data(), by_ttl=st.booleans())
        def disconnect(self, data: st.DataObject, by_ttl: bool) -> None:
            user, connection = data.draw(
                st.sampled_from(sorted((u, c) for u, cs in self.open.items() for c in cs))
            )
            was_last = self.open[user] == {connection}
            self.apply([("disconnect", user, connection)], ttl=by_ttl)
            # OFFLINE exactly when the last connection goes, never while one remains.
            assert [(u, s) for u, s, _ in self.last_emitted] == (
                [(user, "OFFLINE")] if was_last else []
            )

        @precondition(has_connections)
        @rule(data=st.data())
        def burst(self, data: st.DataObject) -> None:
            """Several connects and disconnects of several users land in one stream batch."""
            simulated = {user: set(connections) for user, connections in self.open.items()}
            ops: list[Op] = []
            for _ in range(data.draw(st.integers(min_value=2, max_value=5))):
                open_pairs = sorted((u, c) for u, cs in simulated.items() for c in cs)
                if open_pairs and data.draw(st.booleans()):
                    user, connection = data.draw(st.sampled_from(open_pairs))
                    simulated[user].remove(connection)
                    ops.append(("disconnect", user, connection))
                else:
                    op = self.new_connection(data.draw(st.sampled_from(USERS)))
                    simulated[op[1]].add(op[2])
                    ops.append(op)
            self.apply(ops)

        @invariant()
        def never_offline_while_connected(self) -> None:
            for user, status, _ in self.last_emitted:
                if status == "OFFLINE":
                    assert not self.open[user]

    return PresenceMachine


def test_emitted_presence_agrees_with_the_truth(make_stream, make_queue):
    run_state_machine_as_test(
        presence_machine(make_stream, make_queue),
        settings=settings(max_examples=12, stateful_step_count=8, deadline=None),
    )
