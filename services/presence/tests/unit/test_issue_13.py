"""Issue 13: FIFO group ids for any user id, a deadline margin that covers one AWS call with its
retries, and the stream record's SequenceNumber on every presence event."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from sumu_contracts import validate
from sumu_presence import aws
from sumu_presence.aws import QueuePublisher, TopicPublisher
from sumu_presence.handler import Runtime, handle_batch
from sumu_presence.presence_event import PresenceEvent
from sumu_presence.settings import Settings

# What SQS and SNS FIFO accept as MessageGroupId: up to 128 alphanumeric characters and
# punctuation (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
FIFO_ID = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")


@dataclass
class RecordingClient:
    calls: list[dict[str, Any]] = field(default_factory=list)

    def send_message(self, **arguments: Any) -> dict[str, str]:
        self.calls.append(arguments)
        return {"MessageId": "m"}

    def publish(self, **arguments: Any) -> dict[str, str]:
        self.calls.append(arguments)
        return {"MessageId": "m"}


def group_ids(user_id: str) -> list[str]:
    event = PresenceEvent.build(user_id=user_id, status="ONLINE", timestamp=1700000000)
    client = RecordingClient()
    QueuePublisher(client, "https://sqs.us-east-1.amazonaws.com/1/presence.fifo").publish(
        event, deduplication_id="1"
    )
    TopicPublisher(client, "arn:aws:sns:us-east-1:1:presence.fifo").publish(
        event, deduplication_id="1"
    )
    return [call["MessageGroupId"] for call in client.calls]


@given(user_id=st.text(min_size=1, max_size=1100))
@example(user_id="alice smith")  # a space: not FIFO punctuation
@example(user_id="émilie")  # not ASCII
@example(user_id="x" * 129)  # over 128 characters
def test_the_fifo_group_id_is_valid_for_any_user_id(user_id: str) -> None:
    # GIVEN any user id WHEN its event goes to a FIFO queue or topic
    ids = group_ids(user_id)
    # THEN the group id satisfies FIFO's rules, is the same for queue and topic and per user
    assert all(FIFO_ID.match(group_id) for group_id in ids), ids
    assert len(set(ids)) == 1
    assert group_ids(user_id) == ids


@given(first=st.text(min_size=1, max_size=50), second=st.text(min_size=1, max_size=50))
def test_different_users_get_different_groups(first: str, second: str) -> None:
    if first != second:
        assert group_ids(first)[0] != group_ids(second)[0]


def test_the_margin_covers_one_call_with_every_retry() -> None:
    # 3 attempts of (connect 1 s + read 3 s), plus standard mode's backoff before retries 1 and 2
    # (at most 1 s and 2 s).
    config = aws.CLIENT_CONFIG
    attempts = config.retries["total_max_attempts"]
    per_attempt = config.connect_timeout + config.read_timeout
    assert aws.CALL_MARGIN_MS == (attempts * per_attempt + 1 + 2) * 1000 == 15_000


@dataclass
class CountingTable:
    queries: int = 0

    def has_connection(self, user_id: str) -> bool:
        self.queries += 1
        return False


@dataclass
class CountingPublisher:
    published: list[PresenceEvent] = field(default_factory=list)

    def publish(self, event: PresenceEvent, *, deduplication_id: str) -> None:
        self.published.append(event)


def stream_event(*specs: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventName": kind,
                "dynamodb": {
                    "ApproximateCreationDateTime": 1700000000,
                    "Keys": {"user_id": {"S": user}, "connection_id": {"S": "c"}},
                    "SequenceNumber": sequence,
                },
            }
            for kind, user, sequence in specs
        ]
    }


def test_no_call_starts_without_time_for_it_and_its_retries() -> None:
    # GIVEN 10 s left: more than the old 1 s margin, less than one call with its retries (15 s)
    table, publisher = CountingTable(), CountingPublisher()
    runtime = Runtime(Settings("t", "queue", "q"), table, publisher)
    event = stream_event(("REMOVE", "alice", "100"), ("REMOVE", "bob", "200"))

    # WHEN the batch is handled
    response = handle_batch(event, runtime, lambda: 10_000)

    # THEN the first record is attempted (progress), the second is left for the retry, which
    # starts from it rather than replaying the batch after a timeout
    assert [e.message.user_id for e in publisher.published] == ["alice"]
    assert response == {"batchItemFailures": [{"itemIdentifier": "200"}]}


def test_a_publish_does_not_start_after_a_query_used_the_time() -> None:
    # GIVEN time for the second record's query but not for its publish afterwards
    left = iter([20_000, 10_000])
    table, publisher = CountingTable(), CountingPublisher()
    runtime = Runtime(Settings("t", "queue", "q"), table, publisher)
    event = stream_event(("INSERT", "alice", "100"), ("REMOVE", "bob", "200"))

    response = handle_batch(event, runtime, lambda: next(left))

    assert table.queries == 1
    assert [e.message.user_id for e in publisher.published] == ["alice"]
    assert response == {"batchItemFailures": [{"itemIdentifier": "200"}]}


def test_events_carry_the_stream_records_sequence_number() -> None:
    # GIVEN an OFFLINE and an ONLINE of one user in the same second
    publisher = CountingPublisher()
    runtime = Runtime(Settings("t", "queue", "q"), CountingTable(), publisher)
    event = stream_event(
        ("REMOVE", "alice", "4421584500000000017450439091"),
        ("INSERT", "alice", "4421584500000000017450439092"),
    )
    handle_batch(event, runtime)
    # THEN each event carries its record's SequenceNumber, and validates
    assert [e.message.sequence_number for e in publisher.published] == [
        "4421584500000000017450439091",
        "4421584500000000017450439092",
    ]
    for published in publisher.published:
        validate("presence-event", published.to_json_dict())
        assert published.to_json_dict()["body"]["message"]["sequence_number"]


def test_a_sequence_number_that_is_not_digits_is_left_out_not_fatal() -> None:
    publisher = CountingPublisher()
    runtime = Runtime(Settings("t", "queue", "q"), CountingTable(), publisher)
    response = handle_batch(stream_event(("INSERT", "alice", "shard-1/7")), runtime)
    assert response == {"batchItemFailures": []}
    assert "sequence_number" not in publisher.published[0].to_json_dict()["body"]["message"]


@given(sequence_number=st.text(min_size=1, max_size=60) | st.from_regex(r"\A[0-9]{1,40}\Z"))
def test_any_sequence_number_gives_a_valid_event_or_none_at_all(sequence_number: str) -> None:
    # GIVEN a record with any SequenceNumber WHEN it is handled THEN it is never a failure, and
    # the event carries the number exactly when it is a string of digits
    publisher = CountingPublisher()
    runtime = Runtime(Settings("t", "queue", "q"), CountingTable(), publisher)
    response = handle_batch(stream_event(("INSERT", "alice", sequence_number)), runtime)
    assert response == {"batchItemFailures": []}
    [published] = publisher.published
    validate("presence-event", published.to_json_dict())
    digits = re.fullmatch(r"[0-9]{1,40}", sequence_number) is not None
    assert (published.message.sequence_number == sequence_number) is digits
