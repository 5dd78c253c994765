"""History, positions and idempotent requests (issue 18) on moto."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from history_tables import HISTORY, IDEMPOTENCY, create_history_tables, history_items
from pusher_events import (
    LambdaContext,
    failed_ids,
    invocation_figures,
    request_body,
    sns_event,
    sqs_record,
)
from pusher_standin import Flaky
from sumu_contracts import validate
from sumu_pusher.handler import IncompleteDelivery, handler
from sumu_pusher.runtime import close_thread_runtime


@pytest.fixture
def history(stack: Any) -> Any:
    """GIVEN the stack with the history and idempotency tables configured."""
    create_history_tables(stack.dynamodb)
    stack.reconfigure(HISTORY_TABLE_NAME=HISTORY, IDEMPOTENCY_TABLE_NAME=IDEMPOTENCY)
    return stack


def publish(body: str, message_id: str) -> dict[str, Any]:
    result: dict[str, Any] = handler({"Records": [sqs_record(body, message_id)]}, LambdaContext())
    return result


def with_id(body: str, request_id: str) -> str:
    request = json.loads(body)
    request["id"] = request_id
    return json.dumps(request)


def test_seqs_start_at_1_and_grow_by_one_per_message_and_history_keeps_the_frames(history):
    history.subscribe("alice", "a1", "room-1")
    for number in range(1, 4):
        assert publish(request_body({"n": number}, channels=["room-1"]), f"m-{number}") == {
            "batchItemFailures": []
        }
    frames = history.api.received("a1")
    assert [frame["seq"] for frame in frames] == [1, 2, 3]
    for frame in frames:
        validate("server-frame", frame)
    items = history_items(history.dynamodb, "room-1")
    assert items[0]["head"]["N"] == "3"
    assert "delete_at" not in items[0]  # the head outlives history
    assert [json.loads(items[seq]["frame"]["S"]) for seq in (1, 2, 3)] == frames
    assert int(items[1]["delete_at"]["N"]) > time.time() + 250  # HISTORY_TTL_SECONDS 300


def test_each_channel_has_its_own_seq(history):
    history.subscribe("alice", "a1", "room-1", "room-2")
    publish(request_body(1, channels=["room-1"]), "m-1")
    publish(request_body(2, channels=["room-1", "room-2"]), "m-2")
    received = {(f["channel"], f["seq"]) for f in history.api.received("a1")}
    assert received == {("room-1", 1), ("room-1", 2), ("room-2", 1)}


def test_a_redelivery_of_the_same_message_keeps_its_seq(history):
    history.subscribe("alice", "a1", "room-1")
    history.api.behave("a1", Flaky(3))  # every attempt of the first delivery fails
    first = publish(request_body("x", channels=["room-1"]), "m-1")
    assert failed_ids(first) == ["m-1"]
    second = publish(request_body("x", channels=["room-1"]), "m-1")  # SQS redelivers it
    assert second == {"batchItemFailures": []}
    assert [f["seq"] for f in history.api.received("a1")] == [1]
    assert history_items(history.dynamodb, "room-1")[0]["head"]["N"] == "1"
    publish(request_body("y", channels=["room-1"]), "m-2")
    assert [f["seq"] for f in history.api.received("a1")] == [1, 2]


def test_a_request_id_is_delivered_once_via_sqs_then_sns(history, capsys):
    history.subscribe("alice", "a1", "room-1")
    history.connect("bob", "b1")
    body = with_id(request_body("once", users=["bob"], channels=["room-1"]), "order-42")
    assert publish(body, "m-1") == {"batchItemFailures": []}
    capsys.readouterr()
    handler(sns_event(body), LambdaContext())  # the same request, through the topic
    assert [f["id"] for f in history.api.received("a1")] == ["order-42"]
    assert history.api.received("b1") == ["once"]
    figures = invocation_figures(capsys.readouterr().out)
    assert figures["duplicates"] == 1
    assert figures["incomplete"] == 0


def test_an_accepted_then_failed_request_is_retried_by_the_same_message(history):
    history.connect("bob", "b1")
    history.api.behave("b1", Flaky(3))
    body = with_id(request_body("late", users=["bob"]), "order-43")
    assert failed_ids(publish(body, "m-1")) == ["m-1"]
    # A different message carrying the same id is a duplicate, even while the first is unfinished.
    assert publish(body, "m-2") == {"batchItemFailures": []}
    assert history.api.received("b1") == []
    # The claiming message's retry is delivered.
    assert publish(body, "m-1") == {"batchItemFailures": []}
    assert history.api.received("b1") == ["late"]


def test_an_sns_retry_of_a_claimed_request_proceeds(history):
    history.connect("bob", "b1")
    history.api.behave("b1", Flaky(3))
    event = sns_event(with_id(request_body("x", users=["bob"]), "order-44"))
    with pytest.raises(IncompleteDelivery):
        handler(event, LambdaContext())
    handler(event, LambdaContext())  # Lambda's asynchronous retry: the same event
    assert history.api.received("b1") == ["x"]


def test_concurrent_publishers_to_one_channel_get_distinct_consecutive_seqs(history):
    history.subscribe("alice", "a1", "room-1")
    publishers, per_publisher = 4, 5
    errors: list[BaseException] = []

    def publisher(number: int) -> None:
        # Each thread is its own "container" (runtime, clients), as concurrent Lambdas are.
        try:
            for index in range(per_publisher):
                publish(request_body(index, channels=["room-1"]), f"p{number}-{index}")
        except BaseException as error:  # reported below, in the test thread
            errors.append(error)
        finally:
            close_thread_runtime()

    threads = [threading.Thread(target=publisher, args=(n,)) for n in range(publishers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    seqs = sorted(frame["seq"] for frame in history.api.received("a1"))
    assert seqs == list(range(1, publishers * per_publisher + 1))
    items = history_items(history.dynamodb, "room-1")
    assert sorted(items) == list(range(publishers * per_publisher + 1))


def test_without_a_history_table_messages_carry_no_seq(stack):
    stack.subscribe("alice", "a1", "room-1")
    publish(request_body(1, channels=["room-1"]), "m-1")
    [frame] = stack.api.received("a1")
    assert "seq" not in frame
    assert frame["id"] == "m-1"


def test_a_history_write_failure_retries_the_request_and_posts_nothing(history):
    history.subscribe("alice", "a1", "room-1")
    history.dynamodb.delete_table(TableName=HISTORY)
    assert failed_ids(publish(request_body(1, channels=["room-1"]), "m-1")) == ["m-1"]
    assert history.api.received("a1") == []
