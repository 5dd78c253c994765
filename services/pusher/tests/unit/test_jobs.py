"""fanout-job messages (issue 19): told from requests, parsed, narrowed in chunks; the settings."""

from __future__ import annotations

import json

import pytest
from sumu_contracts import is_valid
from sumu_pusher.jobs import (
    MAX_NARROWED_CONNECTIONS,
    FanoutJob,
    narrowed_bodies,
    parse_job,
    segment_body,
)
from sumu_pusher.records import InboundRecord, Rejection
from sumu_pusher.segments import FanoutSettings, broadcast_segments_for
from sumu_pusher.settings import SettingsError
from sumu_pusher.targets import Connection


def record(body: str, source: str = "aws:sqs") -> InboundRecord:
    return InboundRecord(0, source, "m-1", body)  # type: ignore[arg-type]


def test_a_notification_request_is_no_job() -> None:
    assert parse_job(record('{"data": "fanout-job"}')) is None
    assert parse_job(record("not json fanout-job")) is None


def test_a_segment_body_round_trips_from_sqs_and_sns() -> None:
    body = segment_body("m-1", {"a": 1}, frozenset({"bob"}), 2, 5)
    assert is_valid("fanout-job", json.loads(body))
    for source in ("aws:sqs", "aws:sns"):
        job = parse_job(record(body, source))
        assert isinstance(job, FanoutJob)
        assert (job.segment, job.total_segments, job.excluded) == (2, 5, frozenset({"bob"}))
        assert job.connections is None


def test_a_job_breaking_the_contract_is_rejected_with_its_pointer() -> None:
    bad = json.dumps({"kind": "fanout-job", "origin_id": "m", "data": 1, "attempt": -1})
    rejection = parse_job(record(bad))
    assert isinstance(rejection, Rejection)
    assert rejection.code == "contract_violation"


def test_narrowed_jobs_name_only_the_failed_connections_in_chunks() -> None:
    job = FanoutJob(record(""), "m-1", "x", frozenset(), attempt=1, segment=0, total_segments=3)
    failed = [Connection(f"u{i}", f"c{i}", 1_700_000_000_000) for i in range(2500)]
    bodies = [json.loads(body) for body in narrowed_bodies(job, failed)]
    assert [len(body["connections"]) for body in bodies] == [MAX_NARROWED_CONNECTIONS] * 2 + [500]
    assert all(body["attempt"] == 2 and is_valid("fanout-job", body) for body in bodies)
    named = [c["connection_id"] for body in bodies for c in body["connections"]]
    assert named == [f"c{i}" for i in range(2500)]


def test_auto_keeps_a_small_table_in_one_invocation() -> None:
    assert broadcast_segments_for(0) == 1
    assert broadcast_segments_for(20_000) == 1
    assert broadcast_segments_for(20_001) == 2
    assert broadcast_segments_for(10**9) == 1000


def test_settings() -> None:
    assert FanoutSettings.from_env({}) == FanoutSettings()
    assert FanoutSettings.from_env(
        {"NOTIFICATIONS_QUEUE_URL": "http://q", "PUSHER_BROADCAST_SEGMENTS": "8"}
    ) == FanoutSettings("http://q", 8)
    for value in ("0", "1001", "many"):
        with pytest.raises(SettingsError, match="PUSHER_BROADCAST_SEGMENTS"):
            FanoutSettings.from_env({"PUSHER_BROADCAST_SEGMENTS": value})
