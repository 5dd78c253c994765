"""Issue 19: a channel delivery with many subscribers goes out as fan-out jobs, on moto (with
history, so every envelope carries its seq) and the stand-in, through the handler."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from history_tables import HISTORY, IDEMPOTENCY, create_history_tables
from job_queue import FULL, drain, fresh_queue
from pusher_events import request_body, sqs_record
from sumu_pusher.handler import handler

QUEUE = "sumu-notifications-channels"
PAGE = 4
THRESHOLD = 5
# Channel -> its subscribers (user, connection). c20..c29 are in big and mid; c0, c1 in big and
# small; u1's connections are excluded by the first request.
BIG = [(f"u{i % 6}", f"c{i}") for i in range(30)]
MID = [(f"u{i % 6}", f"c{i}") for i in range(20, 35)]
SMALL = [("u0", "c0"), ("u1", "c1"), ("u4", "c40")]
CHANNELS = {"big": BIG, "mid": MID, "small": SMALL}


@pytest.fixture
def channels(stack: Any) -> tuple[Any, str]:
    """GIVEN history on, a queue for jobs, and channels of 30, 15 and 3 subscribers."""
    create_history_tables(stack.dynamodb)
    queue = fresh_queue(stack, QUEUE)
    stack.reconfigure(
        HISTORY_TABLE_NAME=HISTORY,
        IDEMPOTENCY_TABLE_NAME=IDEMPOTENCY,
        NOTIFICATIONS_QUEUE_URL=queue,
        PUSHER_CHANNEL_SPLIT_SUBSCRIBERS=str(THRESHOLD),
        PUSHER_JOB_PAGE_ITEMS=str(PAGE),
        PUSHER_POST_TIMEOUT_MS="10000",  # exactly once: no post may time out after landing
    )
    for channel, subscribers in CHANNELS.items():
        for user_id, connection_id in subscribers:
            stack.subscribe(user_id, connection_id, channel)
    stack.connect("solo", "s1")
    return stack, queue


def test_a_large_channel_delivery_splits_into_jobs_and_reaches_each_subscriber_once(channels):
    stack, queue = channels
    # WHEN one batch brings two requests: all three channels and a user, excluding u1; and big
    # again, excluding nobody
    first = request_body({"r": 1}, users=["solo"], channels=["big", "mid", "small"], exclude=["u1"])
    second = request_body({"r": 2}, channels=["big"])
    event = {"Records": [sqs_record(first, "m-1"), sqs_record(second, "m-2")]}
    assert handler(event, FULL) == {"batchItemFailures": []}
    jobs = drain(stack, queue)
    # THEN big and mid (over the threshold) went out as jobs of at most a page each; small
    # (under it) was posted by the invocation that took the requests
    by_channel = Counter(job["data"]["channel"] for job in jobs)
    assert set(by_channel) == {"big", "mid"}
    assert by_channel["big"] >= 2 * len(BIG) // PAGE - 2
    assert all(1 <= len(job["connections"]) <= PAGE for job in jobs)
    assert all(job["attempt"] == 0 for job in jobs)
    # and excluded users are in no job of the request that excluded them
    first_jobs = [job for job in jobs if job["data"]["data"] == {"r": 1}]
    assert first_jobs
    assert all(c["user_id"] != "u1" for job in first_jobs for c in job["connections"])
    # and each subscriber got each request once per channel it is in (a connection in several
    # of the channels gets one envelope per channel, as within one invocation), never twice
    everyone = {c for subscribers in CHANNELS.values() for _, c in subscribers}
    users = {c: u for subscribers in CHANNELS.values() for u, c in subscribers}
    for connection_id in everyone:
        got = Counter(
            (frame["data"]["r"], frame["channel"]) for frame in stack.api.received(connection_id)
        )
        expected = Counter(
            {
                (1, ch): 1
                for ch, subs in CHANNELS.items()
                if (users[connection_id], connection_id) in subs
            }
            if users[connection_id] != "u1"
            else {}
        )
        if (users[connection_id], connection_id) in BIG:
            expected[(2, "big")] = 1
        assert got == expected, connection_id
    assert stack.api.received("s1") == [{"r": 1}]
    # and every envelope of one request on one channel is the same bytes: one seq per channel
    for request in (1, 2):
        for channel in CHANNELS:
            frames = {
                json.dumps(frame, sort_keys=True)
                for connection_id in everyone
                for frame in stack.api.received(connection_id)
                if frame["data"]["r"] == request and frame["channel"] == channel
            }
            assert len(frames) <= 1, (request, channel, frames)
    seqs = {
        (frame["data"]["r"], frame["channel"]): frame["seq"]
        for connection_id in everyone
        for frame in stack.api.received(connection_id)
    }
    assert {seqs[(1, "big")], seqs[(2, "big")]} == {1, 2}
    assert seqs[(1, "mid")] == seqs[(1, "small")] == 1


def test_a_channel_under_the_threshold_stays_in_one_invocation(channels):
    stack, queue = channels
    # GIVEN the default threshold (auto: 20,000 subscribers)
    stack.reconfigure(PUSHER_CHANNEL_SPLIT_SUBSCRIBERS=None)
    # WHEN a request names the 30-subscriber channel
    assert handler({"Records": [sqs_record(request_body("x", channels=["big"]))]}, FULL) == {
        "batchItemFailures": []
    }
    # THEN no job was enqueued and every subscriber already has it
    assert drain(stack, queue) == []
    assert all(len(stack.api.received(c)) == 1 for _, c in BIG)


def test_a_channel_split_whose_jobs_cannot_be_enqueued_is_retried_whole(channels):
    stack, _ = channels
    # GIVEN a queue URL that does not exist (SQS refuses every job)
    missing = stack.sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"] + "-missing"
    stack.reconfigure(NOTIFICATIONS_QUEUE_URL=missing)
    # WHEN a request names the big channel
    response = handler({"Records": [sqs_record(request_body("y", channels=["big"]), "m-9")]}, FULL)
    # THEN it is returned for retry, and nobody got it from this invocation
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-9"}]}
    assert all(stack.api.received(c) == [] for _, c in BIG)
