"""Issue 19: job bodies split by measured bytes, continuations parsed, the new settings, and a
start key DynamoDB refuses (moto accepts any key, so this one is a double of the client)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from sumu_contracts import is_valid
from sumu_pusher.jobs import (
    MAX_JOB_BODY_BYTES,
    MAX_NARROWED_CONNECTIONS,
    SEND_BATCH_BYTES,
    SEND_BATCH_LIMIT,
    FanoutJob,
    list_bodies,
    parse_job,
    segment_body,
    send_batches,
)
from sumu_pusher.records import InboundRecord, Rejection, channel_envelope
from sumu_pusher.segments import FanoutSettings, JobRun, run_jobs
from sumu_pusher.settings import Settings, SettingsError
from sumu_pusher.store import ConnectionsTable
from sumu_pusher.targets import Connection
from sumu_pusher.telemetry import InvocationFigures


def record(body: str) -> InboundRecord:
    return InboundRecord(0, "aws:sqs", "m-1", body)


@settings(max_examples=30, deadline=None)
@given(
    data_chars=st.integers(min_value=0, max_value=128 * 1024 - 16),
    wide=st.booleans(),
    count=st.integers(min_value=1, max_value=2500),
)
def test_list_bodies_stay_under_the_byte_limit_and_name_everyone_once(data_chars, wide, count):
    # GIVEN data of up to 128 KiB and connections whose ids may be wide (4-byte characters)
    data = {"text": "é" * (data_chars // 2)}
    letter = "\U0001f600" if wide else "u"
    connections = [
        Connection(letter * 64 + str(i), f"c{i}", 1_700_000_000_000) for i in range(count)
    ]
    # WHEN they are cut into jobs
    bodies = list_bodies("m-1", data, connections, attempt=0)
    # THEN each job is valid, within the byte limit (measured as UTF-8) and the count limit
    parsed = [json.loads(body) for body in bodies]
    assert all(len(body.encode()) <= MAX_JOB_BODY_BYTES for body in bodies)
    assert all(1 <= len(job["connections"]) <= MAX_NARROWED_CONNECTIONS for job in parsed)
    assert all(is_valid("fanout-job", job) for job in parsed[:2])
    # and every connection is named exactly once, in order
    named = [c["connection_id"] for job in parsed for c in job["connections"]]
    assert named == [c.connection_id for c in connections]


def test_list_bodies_split_by_bytes_before_count_with_large_data():
    data = "x" * (128 * 1024 - 2)
    connections = [Connection(f"user-{i:06}-{'u' * 30}", f"connection-{i:06}") for i in range(1000)]
    bodies = list_bodies("m-1", data, connections, attempt=0)
    # 1,000 connections of ~90 bytes do not fit beside 128 KiB under 192 KiB: more than one job
    assert len(bodies) > 1
    assert max(len(body.encode()) for body in bodies) <= MAX_JOB_BODY_BYTES


def test_a_continuation_round_trips_and_a_key_with_connections_is_refused():
    body = segment_body("m-1", 1, frozenset(), 1, 4, start_key=("bob", "b7"))
    job = parse_job(record(body))
    assert isinstance(job, FanoutJob)
    assert job.start_key == ("bob", "b7")
    assert job.attempt == 0
    message = json.loads(body)
    del message["segment"], message["total_segments"]
    message["connections"] = [{"user_id": "bob", "connection_id": "b1"}]
    rejection = parse_job(record(json.dumps(message)))
    assert isinstance(rejection, Rejection)
    assert rejection.pointer == "/exclusive_start_key"


def test_the_channel_and_page_settings() -> None:
    assert FanoutSettings.from_env({}).channel_threshold == 20_000
    parsed = FanoutSettings.from_env(
        {"PUSHER_CHANNEL_SPLIT_SUBSCRIBERS": "0", "PUSHER_JOB_PAGE_ITEMS": "10"}
    )
    assert (parsed.channel_threshold, parsed.page_items) == (0, 10)
    for name, value in (
        ("PUSHER_CHANNEL_SPLIT_SUBSCRIBERS", "-1"),
        ("PUSHER_CHANNEL_SPLIT_SUBSCRIBERS", "many"),
        ("PUSHER_JOB_PAGE_ITEMS", "0"),
        ("PUSHER_JOB_PAGE_ITEMS", "1001"),
    ):
        with pytest.raises(SettingsError, match=name):
            FanoutSettings.from_env({name: value})


class RefusingDynamoDB:
    """A DynamoDB client double whose Scan refuses the start key, as DynamoDB does for one
    that is not a key of the table (moto accepts any)."""

    def __init__(self) -> None:
        self.scans: list[dict[str, Any]] = []

    async def scan(self, **arguments: Any) -> dict[str, Any]:
        self.scans.append(arguments)
        raise ClientError(
            {
                "Error": {
                    "Code": "ValidationException",
                    "Message": "The provided starting key is invalid",
                }
            },
            "Scan",
        )


def test_a_start_key_dynamodb_refuses_dead_letters_the_job_with_the_reason():
    client = RefusingDynamoDB()
    body = segment_body("m-1", "x", frozenset(), 0, 2, start_key=("u", "c"))
    job = parse_job(record(body))
    assert isinstance(job, FanoutJob)
    outcome = JobRun()
    asyncio.run(
        run_jobs(
            [job],
            table=ConnectionsTable(client, "t"),
            management_api=None,
            sqs=None,
            settings=Settings(connections_table_name="t", apigw_endpoint="http://x"),
            fanout=FanoutSettings(),
            figures=InvocationFigures(),
            outcome=outcome,
        )
    )
    [scan] = client.scans
    assert scan["ExclusiveStartKey"] == {"user_id": {"S": "u"}, "connection_id": {"S": "c"}}
    assert (scan["Segment"], scan["TotalSegments"]) == (0, 2)
    [rejection] = outcome.rejections
    assert rejection.pointer == "/exclusive_start_key"
    assert "exclusive_start_key" in rejection.reason
    assert "starting key is invalid" in rejection.reason
    assert outcome.done == set()


def test_a_segment_dynamodb_refuses_dead_letters_the_job_at_its_segment():
    # segment 5 of 2 passes the contract (it cannot compare members); DynamoDB refuses it
    body = segment_body("m-1", "x", frozenset(), 5, 2)
    job = parse_job(record(body))
    assert isinstance(job, FanoutJob)
    outcome = JobRun()
    asyncio.run(
        run_jobs(
            [job],
            table=ConnectionsTable(RefusingDynamoDB(), "t"),
            management_api=None,
            sqs=None,
            settings=Settings(connections_table_name="t", apigw_endpoint="http://x"),
            fanout=FanoutSettings(),
            figures=InvocationFigures(),
            outcome=outcome,
        )
    )
    [rejection] = outcome.rejections
    assert (rejection.code, rejection.pointer) == ("undeliverable", "/segment")


json_data = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(data=json_data, identifier=st.text(min_size=1, max_size=20), seq=st.integers(1, 2**40))
def test_a_channel_job_posts_the_envelope_byte_for_byte(data, identifier, seq):
    # GIVEN the envelope the history step builds once for a channel message
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    envelope = channel_envelope("room-1", identifier, payload.encode(), seq)
    # WHEN it travels as a job's data (split_channels parses it) and the job encodes its post
    [body] = list_bodies("m-1", json.loads(envelope), [Connection("u", "c")], attempt=0)
    job = parse_job(record(body))
    assert isinstance(job, FanoutJob)
    posted = json.dumps(job.data, ensure_ascii=False, separators=(",", ":")).encode()
    # THEN every subscriber gets the very bytes the history kept: one frame, one seq
    assert posted == envelope


@settings(max_examples=100, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=MAX_JOB_BODY_BYTES), max_size=40))
def test_send_batches_keep_order_within_ten_entries_and_the_batch_byte_limit(sizes):
    bodies = [("é" if index % 2 else "x") * (size // 2) for index, size in enumerate(sizes)]
    batches = send_batches(bodies)
    assert [body for batch in batches for body in batch] == bodies
    assert all(1 <= len(batch) <= SEND_BATCH_LIMIT for batch in batches)
    assert all(sum(len(b.encode()) for b in batch) <= SEND_BATCH_BYTES for batch in batches)
