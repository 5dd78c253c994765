"""The presence rules with in-process fakes for the table and the publisher."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st
from sumu_contracts import validate
from sumu_presence.handler import Runtime, handle_batch
from sumu_presence.presence_event import PresenceEvent
from sumu_presence.settings import Settings
from sumu_presence.stream_records import ChangeKind, ConnectionChange
from sumu_presence.watchdog import process_changes


@dataclass
class FakeTable:
    connected: set[str] = field(default_factory=set)
    broken: bool = False
    queries: list[str] = field(default_factory=list)

    def has_connection(self, user_id: str) -> bool:
        self.queries.append(user_id)
        if self.broken:
            raise ConnectionError("table unreachable")
        return user_id in self.connected


@dataclass
class FakePublisher:
    failing_users: set[str] = field(default_factory=set)
    sent: list[tuple[str, str, float]] = field(default_factory=list)
    deduplication_ids: list[str] = field(default_factory=list)

    def publish(self, event: PresenceEvent, *, deduplication_id: str) -> None:
        validate("presence-event", event.to_json_dict())
        message = event.message
        if message.user_id in self.failing_users:
            raise RuntimeError("publish refused")
        self.sent.append((message.user_id, message.status, message.timestamp))
        self.deduplication_ids.append(deduplication_id)


def changes(*specs: tuple[ChangeKind, str, str]) -> list[ConnectionChange]:
    """One change per (kind, user, connection), numbered and timed in stream order."""
    return [
        ConnectionChange(str(100 + index), kind, user, connection, 1700000000 + index)
        for index, (kind, user, connection) in enumerate(specs)
    ]


def test_every_connect_is_online_and_repeats_within_a_batch_collapse():
    publisher = FakePublisher()
    outcome = process_changes(
        changes(("INSERT", "alice", "phone"), ("INSERT", "alice", "laptop")),
        FakeTable(),
        publisher,
    )
    # The first ONLINE is kept: alice has been online since then.
    assert publisher.sent == [("alice", "ONLINE", 1700000000)]
    assert outcome.collapsed == 1
    assert publisher.deduplication_ids == ["100"]


def test_a_remove_while_the_table_still_holds_a_connection_is_silent():
    table, publisher = FakeTable(connected={"alice"}), FakePublisher()
    process_changes(changes(("REMOVE", "alice", "phone")), table, publisher)
    assert publisher.sent == []
    assert table.queries == ["alice"]


def test_the_last_remove_is_offline():
    table, publisher = FakeTable(), FakePublisher()
    process_changes(changes(("REMOVE", "alice", "phone")), table, publisher)
    assert publisher.sent == [("alice", "OFFLINE", 1700000000)]


def test_a_later_remove_in_the_batch_proves_a_connection_remained():
    # The table is already empty when the batch runs; the phone's REMOVE must not be OFFLINE,
    # because the laptop was still connected then.
    table, publisher = FakeTable(), FakePublisher()
    process_changes(
        changes(("REMOVE", "alice", "phone"), ("REMOVE", "alice", "laptop")), table, publisher
    )
    assert publisher.sent == [("alice", "OFFLINE", 1700000001)]
    assert table.queries == ["alice"]  # only the last REMOVE needed the read


def test_a_connection_inserted_in_between_proves_nothing_about_the_earlier_remove():
    table, publisher = FakeTable(), FakePublisher()
    process_changes(
        changes(
            ("REMOVE", "alice", "phone"),
            ("INSERT", "alice", "laptop"),
            ("REMOVE", "alice", "laptop"),
        ),
        table,
        publisher,
    )
    assert [status for _, status, _ in publisher.sent] == ["OFFLINE", "ONLINE", "OFFLINE"]


def test_users_interleaved_in_the_stream_keep_their_own_order():
    publisher = FakePublisher()
    process_changes(
        changes(
            ("INSERT", "alice", "a1"),
            ("INSERT", "bob", "b1"),
            ("REMOVE", "alice", "a1"),
            ("REMOVE", "bob", "b1"),
        ),
        FakeTable(),
        publisher,
    )
    assert publisher.sent == [
        ("alice", "ONLINE", 1700000000),
        ("bob", "ONLINE", 1700000001),
        ("alice", "OFFLINE", 1700000002),
        ("bob", "OFFLINE", 1700000003),
    ]


def test_processing_stops_at_the_first_failed_publish():
    publisher = FakePublisher(failing_users={"bob"})
    outcome = process_changes(
        changes(("INSERT", "alice", "a1"), ("INSERT", "bob", "b1"), ("INSERT", "carol", "c1")),
        FakeTable(),
        publisher,
    )
    assert publisher.sent == [("alice", "ONLINE", 1700000000)]  # carol waits for the retry
    assert outcome.failed is not None
    assert outcome.failed.change.sequence_number == "101"
    assert outcome.failed.reason == "RuntimeError: publish refused"


def test_a_failed_table_read_fails_its_record():
    outcome = process_changes(
        changes(("INSERT", "alice", "a1"), ("REMOVE", "bob", "b1")),
        FakeTable(broken=True),
        FakePublisher(),
    )
    assert outcome.failed is not None
    assert outcome.failed.change.sequence_number == "101"


def test_near_the_deadline_the_rest_is_left_for_the_retry_but_the_first_record_runs():
    publisher = FakePublisher()
    outcome = process_changes(
        changes(("INSERT", "alice", "a1"), ("INSERT", "bob", "b1")),
        FakeTable(),
        publisher,
        remaining_ms=lambda: 10,
    )
    assert publisher.sent == [("alice", "ONLINE", 1700000000)]
    assert outcome.failed is not None
    assert outcome.failed.change.sequence_number == "101"


def runtime(table: FakeTable, publisher: FakePublisher) -> Runtime:
    return Runtime(Settings("connections", "stream", None), table, publisher)


def insert_record(user_id: str, sequence_number: str) -> dict[str, object]:
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "ApproximateCreationDateTime": 1700000000,
            "Keys": {"user_id": {"S": user_id}, "connection_id": {"S": "c"}},
            "SequenceNumber": sequence_number,
        },
    }


def test_the_response_names_the_failed_record_and_one_log_line_sums_up(capsys):
    event = {"Records": [insert_record("alice", "7"), insert_record("bob", "8"), "junk"]}
    response = handle_batch(event, runtime(FakeTable(), FakePublisher(failing_users={"bob"})))
    assert response == {"batchItemFailures": [{"itemIdentifier": "8"}]}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["message"] for line in lines] == [
        "malformed stream record skipped",
        "presence record failed; the stream retries from it",
        "presence batch",
    ]
    assert lines[-1] | {"duration_ms": 0} == {
        "level": "INFO",
        "logger": "sumu_presence",
        "message": "presence batch",
        "presence_source": "stream",
        "records": 3,
        "inserts": 2,
        "removes": 0,
        "ttl_removes": 0,
        "ignored_modifies": 0,
        "malformed": 1,
        "online": 1,
        "offline": 0,
        "collapsed": 0,
        "failed_sequence_number": "8",
        "duration_ms": 0,
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
plausible_records = st.fixed_dictionaries(
    {
        "eventName": st.sampled_from(["INSERT", "MODIFY", "REMOVE", "OTHER"]) | json_values,
        "dynamodb": st.fixed_dictionaries(
            {
                "ApproximateCreationDateTime": st.floats() | st.integers() | json_values,
                "Keys": st.fixed_dictionaries(
                    {
                        "user_id": st.fixed_dictionaries({"S": st.sampled_from(["a", "b", ""])}),
                        "connection_id": st.fixed_dictionaries({"S": st.text(max_size=3)}),
                    }
                )
                | json_values,
                "SequenceNumber": st.integers(0, 99).map(str) | json_values,
            }
        )
        | json_values,
    }
)


@given(
    event=json_values
    | st.fixed_dictionaries({"Records": st.lists(plausible_records | json_values, max_size=6)}),
    failing=st.sets(st.sampled_from(["a", "b"])),
    connected=st.sets(st.sampled_from(["a", "b"])),
)
def test_the_handler_survives_any_event(event, failing, connected):
    response = handle_batch(event, runtime(FakeTable(connected), FakePublisher(failing)))
    failures = response["batchItemFailures"]
    assert len(failures) <= 1
    records = event.get("Records") if isinstance(event, dict) else None
    sequence_numbers = [
        record["dynamodb"].get("SequenceNumber")
        for record in records or []
        if isinstance(record, dict) and isinstance(record.get("dynamodb"), dict)
    ]
    for failure in failures:
        assert failure["itemIdentifier"] in sequence_numbers
