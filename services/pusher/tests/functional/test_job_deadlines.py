"""Issue 19: a fan-out job that reaches its Lambda deadline part-way enqueues exactly what it
has not served (a continuation), on moto and the stand-in, through the handler.

"Invocations" are handler calls fed with what the notifications queue (a moto queue) holds, as
the SQS event source would: a record in ``batchItemFailures`` becomes visible again, the others
are deleted. The deadline is the Lambda context's remaining time: each post to the stand-in
takes 50 ms ("slow"), so a job given X ms of posting gets part-way through its connections.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from job_queue import FULL, clear_connections, drain, fresh_queue
from pusher_events import LambdaContext, request_body, sqs_event, sqs_record
from sumu_pusher.handler import handler
from sumu_pusher.segments import JOB_ENQUEUE_RESERVE_S

QUEUE = "sumu-notifications-deadlines"
# No post may time out after the stand-in took it (that one would be sent again: the README's
# duplicate window), so posts get 10 s; the deadline is what cuts the jobs short.
POST_TIMEOUT_MS = 10_000
SAFETY_MARGIN_MS = 500  # the stack fixture's
# A context with this much time left lets a job start no post at all.
NO_POSTING_MS = int(SAFETY_MARGIN_MS + JOB_ENQUEUE_RESERVE_S * 1000 + POST_TIMEOUT_MS)


@pytest.fixture
def queue(stack: Any) -> str:
    return fresh_queue(stack, QUEUE)


def posting_for(milliseconds: int) -> LambdaContext:
    """A context whose deadline lets jobs start posts for ``milliseconds``."""
    return LambdaContext(remaining_ms=NO_POSTING_MS + milliseconds)


def configure(stack: Any, queue: str, *, segments: int, page_items: int, concurrency: int) -> None:
    stack.api.reset()
    stack.api.default_behaviour = "slow"
    stack.reconfigure(
        NOTIFICATIONS_QUEUE_URL=queue,
        PUSHER_BROADCAST_SEGMENTS=str(segments),
        PUSHER_JOB_PAGE_ITEMS=str(page_items),
        PUSHER_CONCURRENCY=str(concurrency),
        PUSHER_POST_TIMEOUT_MS=str(POST_TIMEOUT_MS),
    )


def continuations(jobs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Jobs that continue another (a resumed scan, or an unserved list at the same attempt)."""
    return [job for job in jobs if "exclusive_start_key" in job or "connections" in job]


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    size=st.integers(min_value=0, max_value=36),
    segments=st.integers(min_value=2, max_value=4),
    page_items=st.integers(min_value=1, max_value=8),
    concurrency=st.integers(min_value=1, max_value=3),
    batch=st.integers(min_value=1, max_value=3),
    excluded=st.sets(st.integers(min_value=0, max_value=5), max_size=2),
    # Where the deadline falls in each of the first invocations: ms of posting each gets.
    deadlines=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=5),
)
def test_a_segmented_broadcast_reaches_every_connection_once_across_deadlines(  # noqa: PLR0917 - drawn
    stack, queue, size, segments, page_items, concurrency, batch, excluded, deadlines
):
    # GIVEN `size` connections of six users, a broadcast split into `segments` jobs, posts that
    # take 50 ms each, and invocations whose deadline falls part-way through their jobs
    clear_connections(stack)
    configure(stack, queue, segments=segments, page_items=page_items, concurrency=concurrency)
    connections = [(f"user-{i % 6}", f"conn-{i}") for i in range(size)]
    stack.connect_many(connections)
    excluded_users = sorted(f"user-{i}" for i in excluded)
    # WHEN the request is split, and its jobs (and their continuations) run to the end
    body = request_body({"n": size}, exclude=excluded_users)
    assert handler(sqs_event(body), FULL) == {"batchItemFailures": []}
    jobs = drain(stack, queue, [posting_for(ms) for ms in deadlines], batch)
    # THEN each connection of a user not excluded got it exactly once, whatever was cut short
    for user_id, connection_id in connections:
        expected = [] if user_id in excluded_users else [{"n": size}]
        assert stack.api.received(connection_id) == expected, connection_id
    # and a continuation is never a failure: no job's attempt grew, nothing was dead-lettered
    assert {job["attempt"] for job in jobs} <= {0}
    assert stack.dead_letters() == []


def test_a_job_stopped_at_its_deadline_continues_with_exactly_its_unserved_rest(stack, queue):
    # GIVEN 40 connections in 2 segments, pages of 4, one post at a time of 50 ms each: a
    # segment of ~20 needs about a second, and the first invocation gets 500 ms of posting
    configure(stack, queue, segments=2, page_items=4, concurrency=1)
    connections = [(f"u{i % 7}", f"c{i}") for i in range(40)]
    stack.connect_many(connections)
    assert handler(sqs_event(request_body("hello")), FULL) == {"batchItemFailures": []}
    # WHEN the first job runs out of time part-way, and the rest runs to the end
    jobs = drain(stack, queue, [posting_for(500)])
    # THEN its continuation resumed the scan after a key (and possibly listed the unserved
    # connections of its page), at the same attempt
    assert len(jobs) > 2
    resumed = [job for job in jobs if "exclusive_start_key" in job]
    assert resumed, jobs
    assert {job["attempt"] for job in jobs} == {0}
    # and every connection got it exactly once
    assert Counter(len(stack.api.received(c)) for _, c in connections) == Counter({1: 40})
    assert [stack.api.received(c) for _, c in connections[:3]] == [["hello"]] * 3


def test_a_job_that_gets_nowhere_is_retried_alone_and_whole(stack, queue):
    # GIVEN two explicit-list jobs in one batch: the first reaches its connections, the second's
    # connections hang until the deadline
    configure(stack, queue, segments=2, page_items=8, concurrency=4)
    stack.api.default_behaviour = "ok"
    for connection_id in ("h1", "h2"):
        stack.api.behave(connection_id, "hang")
    good = job_body("m-1", [("alice", "a1"), ("bob", "b1")])
    stuck = job_body("m-2", [("hank", "h1"), ("hank", "h2")])
    event = {"Records": [sqs_record(good, "good"), sqs_record(stuck, "stuck")]}
    # WHEN they run in one invocation with 300 ms of posting and 1 s of post timeout
    stack.reconfigure(PUSHER_POST_TIMEOUT_MS="1000")
    context = LambdaContext(remaining_ms=SAFETY_MARGIN_MS + 1000 + 1000 + 300)
    response = handler(event, context)
    # THEN only the job that served nobody is returned, whole (no post of it landed)
    assert response == {"batchItemFailures": [{"itemIdentifier": "stuck"}]}
    assert stack.api.received("a1") == [1]
    assert stack.api.received("b1") == [1]
    assert stack.api.received("h1") == []
    # and its retry, once the connections answer, reaches them once
    stack.api.reset()
    assert handler({"Records": [sqs_record(stuck, "stuck")]}, FULL) == {"batchItemFailures": []}
    assert stack.api.received("h1") == [1]
    assert stack.api.received("h2") == [1]
    assert stack.api.received("a1") == []


def job_body(origin_id: str, connections: Sequence[tuple[str, str]]) -> str:
    return json.dumps(
        {
            "kind": "fanout-job",
            "origin_id": origin_id,
            "data": 1,
            "connections": [{"user_id": u, "connection_id": c} for u, c in connections],
            "attempt": 0,
        }
    )
