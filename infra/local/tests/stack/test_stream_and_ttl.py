"""The connections stream -> function poller, and the TTL sweeper that feeds it REMOVEs."""

from __future__ import annotations

import threading
import time
from typing import Any

from sumu_local.stack.sources.stream import StreamEventSource, first_failed_index
from sumu_local.stack.sources.ttl import ServiceDeletions, TtlSweeper

from .factories import Recorder, clients, connection_item, resources


def stream_source(
    aws: dict[str, Any], recorder: Recorder, stack: Any, deletions: ServiceDeletions
) -> StreamEventSource:
    return StreamEventSource(
        function=recorder.function("presence"),
        streams=aws["dynamodbstreams"],
        stream_arn=stack.connections_stream_arn,
        region="us-east-1",
        deletions=deletions,
        max_retries=3,
    )


def test_inserts_and_removes_arrive_in_order_as_lambda_records(aws_env: Any) -> None:
    # GIVEN a connection stored then deleted
    aws = clients()
    stack = resources(aws)
    recorder = Recorder()
    poller = stream_source(aws, recorder, stack, ServiceDeletions())
    table = stack.connections_table
    aws["dynamodb"].put_item(TableName=table, Item=connection_item("alice", "c1", 2_000_000_000))
    aws["dynamodb"].delete_item(
        TableName=table, Key={"user_id": {"S": "alice"}, "connection_id": {"S": "c1"}}
    )
    # WHEN the source polls
    assert poller.poll_once() == 2
    # THEN presence saw INSERT then REMOVE with images, the ARN and epoch-second timestamps
    insert, remove = recorder.records
    assert (insert["eventName"], remove["eventName"]) == ("INSERT", "REMOVE")
    assert insert["eventSourceARN"] == stack.connections_stream_arn
    assert insert["dynamodb"]["NewImage"]["user_id"] == {"S": "alice"}
    assert remove["dynamodb"]["OldImage"]["connection_id"] == {"S": "c1"}
    assert isinstance(insert["dynamodb"]["ApproximateCreationDateTime"], float)
    assert "userIdentity" not in remove
    # AND nothing is read twice
    assert poller.poll_once() == 0


def test_after_a_read_error_the_shard_resumes_after_the_last_delivered_record(
    aws_env: Any,
) -> None:
    # GIVEN a connection whose INSERT was already delivered
    aws = clients()
    stack = resources(aws)
    recorder = Recorder()
    poller = stream_source(aws, recorder, stack, ServiceDeletions())
    table = stack.connections_table
    aws["dynamodb"].put_item(TableName=table, Item=connection_item("alice", "c1", 2_000_000_000))
    assert poller.poll_once() == 1
    # WHEN reading fails (the shard iterators are dropped, as run() does) and a REMOVE follows
    poller._iterators.clear()
    aws["dynamodb"].delete_item(
        TableName=table, Key={"user_id": {"S": "alice"}, "connection_id": {"S": "c1"}}
    )
    # THEN only the REMOVE is read again: nothing from before the error is replayed
    assert poller.poll_once() == 1
    assert [record["eventName"] for record in recorder.records] == ["INSERT", "REMOVE"]


def test_a_failed_record_is_retried_with_everything_after_it(aws_env: Any) -> None:
    # GIVEN a function that reports the second record of its first batch as failed
    aws = clients()
    stack = resources(aws)

    def respond(event: dict[str, Any]) -> dict[str, Any] | None:
        if len(event["Records"]) == 3:
            failed = event["Records"][1]["dynamodb"]["SequenceNumber"]
            return {"batchItemFailures": [{"itemIdentifier": failed}]}
        return None

    recorder = Recorder(respond)
    poller = stream_source(aws, recorder, stack, ServiceDeletions())
    for connection_id in ("c1", "c2", "c3"):
        aws["dynamodb"].put_item(
            TableName=stack.connections_table, Item=connection_item("bob", connection_id, 1)
        )
    # WHEN it polls
    poller.poll_once(threading.Event())
    # THEN the second invocation starts at c2 (c1 is not redelivered)
    first, second = recorder.events
    ids = [
        [r["dynamodb"]["Keys"]["connection_id"]["S"] for r in e["Records"]] for e in (first, second)
    ]
    assert ids == [["c1", "c2", "c3"], ["c2", "c3"]]


def test_a_function_that_keeps_failing_is_skipped_after_max_retries(aws_env: Any) -> None:
    aws = clients()
    stack = resources(aws)

    def fail(event: dict[str, Any]) -> None:
        raise RuntimeError("down")

    recorder = Recorder(fail)
    poller = stream_source(aws, recorder, stack, ServiceDeletions())
    aws["dynamodb"].put_item(TableName=stack.connections_table, Item=connection_item("u", "c", 1))
    poller.poll_once(threading.Event())
    assert len(recorder.events) == 4  # the first try and max_retries=3 retries
    aws["dynamodb"].put_item(TableName=stack.connections_table, Item=connection_item("u", "d", 1))
    assert poller.poll_once(threading.Event()) == 1  # the shard moved on


def test_ttl_deletes_expired_connections_as_the_service(aws_env: Any) -> None:
    # GIVEN one expired connection, one live one, and the stream source
    aws = clients()
    stack = resources(aws)
    deletions = ServiceDeletions()
    now = int(time.time())
    table = stack.connections_table
    aws["dynamodb"].put_item(TableName=table, Item=connection_item("old", "c1", now - 1))
    aws["dynamodb"].put_item(TableName=table, Item=connection_item("new", "c2", now + 3600))
    sweeper = TtlSweeper(dynamodb=aws["dynamodb"], table_name=table, deletions=deletions)
    recorder = Recorder()
    poller = stream_source(aws, recorder, stack, deletions)
    # WHEN the sweeper runs and the stream is read
    assert sweeper.sweep_once() == 1
    poller.poll_once()
    # THEN only the expired one is gone, and its REMOVE says DynamoDB deleted it
    remaining = aws["dynamodb"].scan(TableName=table)["Items"]
    assert [item["user_id"]["S"] for item in remaining] == ["new"]
    [remove] = [r for r in recorder.records if r["eventName"] == "REMOVE"]
    assert remove["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def test_ttl_keeps_an_item_refreshed_since_it_was_read(aws_env: Any) -> None:
    # GIVEN an expired item whose expiry changes between the scan and the delete
    aws = clients()
    stack = resources(aws)
    table = stack.connections_table
    aws["dynamodb"].put_item(TableName=table, Item=connection_item("u", "c", 1))
    sweeper = TtlSweeper(dynamodb=aws["dynamodb"], table_name=table, deletions=ServiceDeletions())
    expired = sweeper._expired(int(time.time()))
    aws["dynamodb"].put_item(TableName=table, Item=connection_item("u", "c", 2_000_000_000))
    # WHEN the sweeper deletes what it read
    # THEN the refreshed item survives
    assert sweeper._delete(expired[0]) is False
    assert len(aws["dynamodb"].scan(TableName=table)["Items"]) == 1


def test_stream_retry_index_follows_lambdas_rules() -> None:
    records = [{"dynamodb": {"SequenceNumber": str(n)}} for n in (10, 11, 12)]
    assert first_failed_index(None, records) is None
    assert first_failed_index({"batchItemFailures": []}, records) is None
    failures = [{"itemIdentifier": "12"}, {"itemIdentifier": "11"}]
    assert first_failed_index({"batchItemFailures": failures}, records) == 1
    assert first_failed_index({"batchItemFailures": [{"itemIdentifier": "9"}]}, records) == 0


def test_the_subscriptions_table_is_keyed_by_channel_with_a_by_connection_index(
    aws_env: Any,
) -> None:
    # GIVEN the stack's resources
    aws = clients()
    stack = resources(aws)
    # WHEN the subscriptions table is described
    table = aws["dynamodb"].describe_table(TableName=stack.subscriptions_table)["Table"]
    ttl = aws["dynamodb"].describe_time_to_live(TableName=stack.subscriptions_table)
    # THEN a channel's subscribers are one Query, a connection's channels one Query on the GSI
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("channel", "HASH"),
        ("connection_id", "RANGE"),
    ]
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_connection"
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        ("connection_id", "HASH"),
        ("channel", "RANGE"),
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "delete_at"


def test_ttl_deletes_expired_subscriptions_by_their_channel_key(aws_env: Any) -> None:
    # GIVEN an expired and a live subscription
    aws = clients()
    stack = resources(aws)
    table = stack.subscriptions_table
    now = int(time.time())
    for channel, delete_at in (("room-1", now - 1), ("room-2", now + 3600)):
        item = {
            "channel": {"S": channel},
            "connection_id": {"S": "c1"},
            "user_id": {"S": "u"},
            "subscribed_at": {"N": str(now * 1000)},
            "delete_at": {"N": str(delete_at)},
        }
        aws["dynamodb"].put_item(TableName=table, Item=item)
    sweeper = TtlSweeper(
        dynamodb=aws["dynamodb"],
        table_name=table,
        deletions=ServiceDeletions(),
        key_names=("channel", "connection_id"),
    )
    # WHEN the sweeper runs
    # THEN only the expired one is gone
    assert sweeper.sweep_once() == 1
    remaining = aws["dynamodb"].scan(TableName=table)["Items"]
    assert [item["channel"]["S"] for item in remaining] == ["room-2"]
