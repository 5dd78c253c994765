from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sumu_presence.stream_records import ConnectionChange, parse_batch


def stream_record(
    event_name: str = "INSERT",
    user_id: str = "alice",
    connection_id: str = "c1",
    sequence_number: str = "100",
    created: float = 1700000000,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "eventID": f"event-{sequence_number}",
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "ApproximateCreationDateTime": created,
            "Keys": {"user_id": {"S": user_id}, "connection_id": {"S": connection_id}},
            "SequenceNumber": sequence_number,
            "StreamViewType": "KEYS_ONLY",
        },
        **extra,
    }


def test_insert_and_remove_become_changes_and_modify_is_counted_as_ignored():
    batch = parse_batch(
        {
            "Records": [
                stream_record("INSERT", sequence_number="1"),
                stream_record("MODIFY", sequence_number="2"),
                stream_record("REMOVE", sequence_number="3", created=1700000001.5),
            ]
        }
    )
    assert batch.changes == [
        ConnectionChange("1", "INSERT", "alice", "c1", 1700000000),
        ConnectionChange("3", "REMOVE", "alice", "c1", 1700000001.5),
    ]
    assert batch.ignored_modifies == 1
    assert batch.malformed == []


def test_a_user_id_with_any_sendable_character_is_kept():
    user_id = "ålice\t\u2603\U0001f600"
    (change,) = parse_batch({"Records": [stream_record(user_id=user_id)]}).changes
    assert change.user_id == user_id


def test_a_ttl_delete_is_recognised_by_its_service_identity():
    ttl = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    caller = {"type": "Service", "principalId": "someone.amazonaws.com"}
    batch = parse_batch(
        {
            "Records": [
                stream_record("REMOVE", userIdentity=ttl),
                stream_record("REMOVE", userIdentity=caller),
            ]
        }
    )
    assert [change.expired_by_ttl for change in batch.changes] == [True, False]


def broken(path: str, value: object) -> dict[str, Any]:
    record = stream_record()
    *parents, last = path.split(".")
    target: Any = record
    for name in parents:
        target = target[name]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return record


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (None, "record is NoneType, not an object"),
        (broken("eventName", "UPSERT"), "unknown eventName 'UPSERT'"),
        (broken("eventName", KeyError), "unknown eventName None"),
        (broken("dynamodb", KeyError), "dynamodb is missing or not an object"),
        (broken("dynamodb.Keys", []), "Keys is missing or not an object"),
        (broken("dynamodb.Keys.user_id", {"N": "1"}), "Keys.user_id is missing or not a string"),
        (broken("dynamodb.Keys.user_id", {"S": ""}), "S is missing or not a non-empty string"),
        (broken("dynamodb.Keys.connection_id", KeyError), "Keys.connection_id is missing"),
        (broken("dynamodb.Keys.user_id", {"S": "a\x01b"}), "user_id has characters SNS / SQS"),
        (broken("dynamodb.Keys.user_id", {"S": "a\ud800"}), "user_id has characters SNS / SQS"),
        (broken("dynamodb.Keys.user_id", {"S": "\uffff"}), "user_id has characters SNS / SQS"),
        (broken("dynamodb.SequenceNumber", 5), "SequenceNumber is missing or not a non-empty"),
        (broken("dynamodb.ApproximateCreationDateTime", "today"), "not a number"),
        (broken("dynamodb.ApproximateCreationDateTime", True), "not a number"),
        (broken("dynamodb.ApproximateCreationDateTime", float("nan")), "not a finite epoch"),
        (broken("dynamodb.ApproximateCreationDateTime", -1), "not a finite epoch"),
        (broken("dynamodb.ApproximateCreationDateTime", 10**400), "not a finite epoch"),
        (broken("dynamodb.ApproximateCreationDateTime", float("inf")), "not a finite epoch"),
    ],
)
def test_a_malformed_record_is_set_aside_with_its_reason(record, reason):
    batch = parse_batch({"Records": [record, stream_record(sequence_number="200")]})
    (malformed,) = batch.malformed
    assert reason in malformed.reason
    assert [change.sequence_number for change in batch.changes] == ["200"]


@pytest.mark.parametrize("event", [None, [], {}, {"Records": "x"}, "Records"])
def test_an_event_without_a_records_list_is_malformed_not_an_error(event):
    batch = parse_batch(event)
    assert batch.changes == []
    assert batch.malformed[0].reason == "event has no Records list"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


@given(st.lists(json_values, max_size=5))
def test_any_records_are_parsed_or_set_aside(records):
    batch = parse_batch({"Records": records})
    assert len(batch.changes) + len(batch.malformed) + batch.ignored_modifies == len(records)
