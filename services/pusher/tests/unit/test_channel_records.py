"""Channel requests read into jobs (issue 17): audiences, envelopes, sizes. Pure, no AWS."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from sumu_contracts import load_schema, validate
from sumu_pusher.records import (
    MAX_POST_BYTES,
    InboundRecord,
    NotificationJob,
    Rejection,
    notification_job,
)
from sumu_pusher.targets import Connection, channel_posts, lookup_plan


def job_of(request: dict[str, object], message_id: str | None = "m-1") -> NotificationJob:
    record = InboundRecord(0, "aws:sqs", message_id, json.dumps(request))
    job = notification_job(record)
    assert isinstance(job, NotificationJob)
    return job


@pytest.mark.parametrize(
    ("request_", "broadcast", "empty"),
    [
        ({"data": 1}, True, False),
        ({"channels": ["a"], "data": 1}, False, False),
        ({"channels": [], "data": 1}, False, True),
        ({"users": [], "channels": [], "data": 1}, False, True),
        ({"users": [], "channels": ["a"], "data": 1}, False, False),
        ({"users": ["u"], "channels": [], "data": 1}, False, False),
    ],
)
def test_audiences(request_: dict[str, object], broadcast: bool, empty: bool) -> None:
    job = job_of(request_)
    assert (job.broadcast, job.empty_audience) == (broadcast, empty)


@settings(max_examples=30, deadline=None)
@given(request=from_schema(load_schema("notification-request")))
def test_every_envelope_is_a_server_frame_naming_its_channel(request: dict[str, object]) -> None:
    record = InboundRecord(0, "aws:sqs", "m-1", json.dumps(request))
    job = notification_job(record)
    if isinstance(job, Rejection):  # data too large to post
        assert job.code == "payload_too_large"
        return
    assert job.channels == tuple(dict.fromkeys(request.get("channels") or ()))
    for channel, envelope in job.channel_payloads:
        frame = json.loads(envelope)
        validate("server-frame", frame)
        assert frame == {
            "type": "message",
            "channel": channel,
            # The request's id when it has one (issue 18), else the input message id.
            "id": request.get("id", "m-1"),
            "data": request["data"],
        }


def test_an_envelope_over_the_post_limit_is_rejected() -> None:
    data = "x" * (MAX_POST_BYTES - 10)  # fits verbatim, not inside an envelope
    assert isinstance(
        notification_job(InboundRecord(0, "aws:sqs", "m", json.dumps({"data": data}))),
        NotificationJob,
    )
    rejected = notification_job(
        InboundRecord(0, "aws:sqs", "m", json.dumps({"channels": ["a"], "data": data}))
    )
    assert isinstance(rejected, Rejection)
    assert (rejected.code, rejected.pointer) == ("payload_too_large", "/data")


def test_a_record_without_a_message_id_gets_a_stable_id() -> None:
    first = job_of({"channels": ["a"], "data": 1}, message_id=None)
    again = job_of({"channels": ["a"], "data": 1}, message_id=None)
    assert first.channel_payloads == again.channel_payloads
    assert json.loads(first.channel_payloads[0][1])["id"].startswith("sha256:")


def test_channel_posts_one_per_channel_excluded_users_dropped() -> None:
    job = job_of({"channels": ["a", "b"], "exclude_users": ["bob"], "data": 1})
    alice, bob = Connection("alice", "c1"), Connection("bob", "c2")
    posts = channel_posts(job, {"a": [alice, bob, alice], "b": [alice]})
    assert [(c.connection_id, json.loads(p)["channel"]) for c, p in posts] == [
        ("c1", "a"),
        ("c1", "b"),
    ]


def test_the_lookup_plan_queries_each_channel_once() -> None:
    jobs = [job_of({"channels": ["a", "b"], "data": 1}), job_of({"channels": ["b"], "data": 2})]
    plan = lookup_plan(jobs)
    assert (plan.channels, plan.scan, plan.users) == (("a", "b"), False, ())


@given(st.lists(st.sampled_from(["a", "b", "c"]), max_size=5))
def test_duplicate_channels_are_delivered_once(channels: list[str]) -> None:
    job = job_of({"channels": channels, "data": 1})
    assert job.channels == tuple(dict.fromkeys(channels))
