"""Issue 19: a fan-out job whose exclusive_start_key is bogus is never lost silently: the handler
survives it, and it is either run (DynamoDB took the key), dead-lettered with its reason, or
returned for retry. On moto, through the handler."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from job_queue import FULL, fresh_queue
from pusher_events import sqs_record
from sumu_pusher.handler import handler

QUEUE = "sumu-notifications-start-keys"
CONNECTIONS = [(f"u{i % 3}", f"c{i}") for i in range(6)]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
# Keys shaped like the contract's (two strings), wide ones included: a user id of 1,024
# four-byte characters is a valid member but over DynamoDB's 2,048-byte partition key limit.
shaped_keys = st.fixed_dictionaries(
    {
        "user_id": st.text(min_size=1, max_size=1024) | st.just("\U0001f600" * 1024),
        "connection_id": st.text(min_size=1, max_size=256),
    }
)


@pytest.fixture
def table(stack: Any) -> Any:
    queue = fresh_queue(stack, QUEUE)
    stack.reconfigure(NOTIFICATIONS_QUEUE_URL=queue, PUSHER_POST_TIMEOUT_MS="10000")
    stack.connect_many(CONNECTIONS)
    return stack


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(key=shaped_keys | json_values, segment=st.integers(min_value=0, max_value=2))
@example(key={"user_id": "\U0001f600" * 1024, "connection_id": "c1"}, segment=0)
@example(key={"user_id": {"S": "u1"}, "connection_id": {"S": "c1"}}, segment=0)
@example(key={"user_id": "u1", "connection_id": "c1"}, segment=0)
def test_a_bogus_start_key_is_run_dead_lettered_or_retried_never_dropped(table, key, segment):
    stack = table
    stack.api.reset()
    # GIVEN a segment job continued after a key drawn from anything JSON can hold
    body = json.dumps(
        {
            "kind": "fanout-job",
            "origin_id": "fuzz",
            "data": "x",
            "segment": segment,
            "total_segments": 3,
            "exclusive_start_key": key,
            "attempt": 0,
        }
    )
    # WHEN the pusher receives it
    response = handler({"Records": [sqs_record(body, "job-1")]}, FULL)
    # THEN the handler answers, and the job has a visible fate
    letters = stack.dead_letters()
    retried = response["batchItemFailures"] == [{"itemIdentifier": "job-1"}]
    assert retried or response == {"batchItemFailures": []}
    for letter in letters:
        stack.sqs.delete_message(QueueUrl=stack.dlq_url, ReceiptHandle=letter["ReceiptHandle"])
    valid_shape = (
        isinstance(key, dict)
        and set(key) >= {"user_id", "connection_id"}
        and all(isinstance(key[name], str) for name in ("user_id", "connection_id"))
        and 1 <= len(key["user_id"]) <= 1024
        and 1 <= len(key["connection_id"]) <= 256
    )
    if not valid_shape:
        # a key the contract refuses: dead-lettered at once, with the reason and where
        [letter] = letters
        attributes = letter["MessageAttributes"]
        assert attributes["reason_code"]["StringValue"] == "contract_violation"
        assert attributes["error_pointer"]["StringValue"].startswith("/exclusive_start_key")
        assert letter["Body"] == body
    elif letters:
        # a key DynamoDB refuses: dead-lettered with DynamoDB's reason
        [letter] = letters
        attributes = letter["MessageAttributes"]
        assert attributes["error_pointer"]["StringValue"] == "/exclusive_start_key"
        assert "exclusive_start_key" in attributes["reason"]["StringValue"]
        assert not retried
    # and, run or not, no connection got it twice
    assert all(len(stack.api.received(c)) <= 1 for _, c in CONNECTIONS)
