"""Real stream records from a real table (moto server) through the handler to a real destination."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sumu_presence.handler import container_runtime, handle_batch, handler
from sumu_presence.settings import SettingsError
from sumu_presence.stream_records import parse_batch

VIEW_TYPES = ["NEW_AND_OLD_IMAGES", "KEYS_ONLY"]


def message(event: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = event["body"]["message"]
    return body


def log_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_connect_sends_online_with_the_record_time_to_the_queue(make_stream, make_queue, view_type):
    # GIVEN a connections table streaming with either view type, and the messages queue
    stream, queue = make_stream(view_type), make_queue()
    # WHEN alice connects and the stream's records reach the watchdog
    stream.connect("alice", "c1")
    records = stream.new_records()
    response = handle_batch(stream.lambda_event(records), stream.queue_runtime(queue))
    # THEN one ONLINE event, stamped with the record's ApproximateCreationDateTime and carrying
    # its SequenceNumber (0.2.0: orders events that share a second)
    assert response == {"batchItemFailures": []}
    (event,) = queue.drain()
    timestamp = records[0]["dynamodb"]["ApproximateCreationDateTime"]
    assert message(event) == {
        "user_id": "alice",
        "status": "ONLINE",
        "timestamp": timestamp,
        "sequence_number": stream.sequence_number(records[0]),
    }
    assert event["attributes"]["source"]["StringValue"] == "lambda.presence.watchdog"
    assert event["attributes"]["user_id"]["StringValue"] == "alice"
    assert float(event["attributes"]["timestamp"]["StringValue"]) == timestamp


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_last_disconnect_publishes_offline_through_the_topic(
    make_stream, make_subscribed_topic, view_type
):
    # GIVEN alice connected, and the messages topic with a queue subscribed to it
    stream = make_stream(view_type)
    topic_arn, subscriber = make_subscribed_topic()
    runtime = stream.topic_runtime(topic_arn)
    stream.connect("alice", "c1")
    handle_batch(stream.lambda_event(stream.new_records()), runtime)
    # WHEN her only connection closes
    stream.disconnect("alice", "c1")
    response = handle_batch(stream.lambda_event(stream.new_records()), runtime)
    # THEN backends heard ONLINE then OFFLINE through the topic
    assert response == {"batchItemFailures": []}
    assert subscriber.statuses(subscriber.drain()) == [("alice", "ONLINE"), ("alice", "OFFLINE")]


@pytest.mark.usefixtures("fresh_container")
@pytest.mark.parametrize("source", ["topic", "queue", "stream"])
def test_every_presence_source_through_the_lambda_entry_point(
    make_stream, make_queue, make_subscribed_topic, monkeypatch, source
):
    # GIVEN the environment of a deployed function for one PRESENCE_SOURCE
    stream = make_stream()
    topic_arn, topic_subscriber = make_subscribed_topic()
    queue = make_queue()
    monkeypatch.setenv("CONNECTIONS_TABLE_NAME", stream.table_name)
    monkeypatch.setenv("PRESENCE_SOURCE", source)
    monkeypatch.setenv("MESSAGES_TOPIC_ARN", topic_arn)
    monkeypatch.setenv("MESSAGES_QUEUE_URL", queue.queue_url)
    # WHEN alice connects and disconnects, in two invocations of the same container
    stream.connect("alice", "c1")
    first = handler(stream.lambda_event(stream.new_records()), None)
    stream.disconnect("alice", "c1")
    second = handler(stream.lambda_event(stream.new_records()), None)
    # THEN the events went to the chosen destination only, and the clients were built once
    assert first == second == {"batchItemFailures": []}
    expected = [("alice", "ONLINE"), ("alice", "OFFLINE")]
    assert queue.statuses(queue.drain()) == (expected if source == "queue" else [])
    assert topic_subscriber.statuses(topic_subscriber.drain()) == (
        expected if source == "topic" else []
    )
    assert container_runtime.cache_info().misses == 1


def test_offline_only_after_the_last_of_two_devices_goes(make_stream, make_queue):
    # GIVEN alice connected on a phone and a laptop
    stream, queue = make_stream(), make_queue()
    runtime = stream.queue_runtime(queue)
    stream.connect("alice", "phone")
    stream.connect("alice", "laptop")
    handle_batch(stream.lambda_event(stream.new_records()), runtime)
    assert queue.statuses(queue.drain()) == [("alice", "ONLINE")]  # the second ONLINE collapsed
    # WHEN the phone disconnects
    stream.disconnect("alice", "phone")
    handle_batch(stream.lambda_event(stream.new_records()), runtime)
    # THEN nothing: the laptop is still connected
    assert queue.drain() == []
    # WHEN the laptop disconnects too
    stream.disconnect("alice", "laptop")
    handle_batch(stream.lambda_event(stream.new_records()), runtime)
    # THEN OFFLINE
    assert queue.statuses(queue.drain()) == [("alice", "OFFLINE")]


def test_two_devices_closed_in_one_batch_give_one_offline_at_the_last(make_stream, make_queue):
    # GIVEN alice on two devices
    stream, queue = make_stream(), make_queue()
    runtime = stream.queue_runtime(queue)
    stream.connect("alice", "phone")
    stream.connect("alice", "laptop")
    handle_batch(stream.lambda_event(stream.new_records()), runtime)
    queue.drain()
    # WHEN both close before the watchdog runs (one batch, the table already empty)
    stream.disconnect("alice", "phone")
    stream.disconnect("alice", "laptop")
    records = stream.new_records()
    handle_batch(stream.lambda_event(records), runtime)
    # THEN exactly one OFFLINE, at the time the laptop (the last connection) went
    (event,) = queue.drain()
    assert message(event)["status"] == "OFFLINE"
    assert message(event)["timestamp"] == records[1]["dynamodb"]["ApproximateCreationDateTime"]


def test_ttl_expiry_of_the_last_connection_publishes_offline(make_stream, make_queue, capsys):
    # GIVEN alice connected once
    stream, queue = make_stream(), make_queue()
    runtime = stream.queue_runtime(queue)
    stream.connect("alice", "c1")
    handle_batch(stream.lambda_event(stream.new_records()), runtime)
    queue.drain()
    # WHEN DynamoDB's TTL deletes the item (a service delete, as AWS marks it)
    stream.disconnect("alice", "c1")
    records = [stream.as_ttl_expiry(record) for record in stream.new_records()]
    capsys.readouterr()
    response = handle_batch(stream.lambda_event(records), runtime)
    # THEN OFFLINE, and the invocation log counts the TTL removal
    assert response == {"batchItemFailures": []}
    assert queue.statuses(queue.drain()) == [("alice", "OFFLINE")]
    (summary,) = [
        line for line in log_lines(capsys.readouterr().out) if line["message"] == "presence batch"
    ]
    assert summary["ttl_removes"] == 1
    assert summary["offline"] == 1


def test_ttl_expiry_while_another_device_remains_is_silent(make_stream, make_queue):
    # GIVEN alice on two devices
    stream, queue = make_stream(), make_queue()
    runtime = stream.queue_runtime(queue)
    stream.connect("alice", "stale")
    stream.connect("alice", "live")
    handle_batch(stream.lambda_event(stream.new_records()), runtime)
    queue.drain()
    # WHEN TTL removes the stale one
    stream.disconnect("alice", "stale")
    records = [stream.as_ttl_expiry(record) for record in stream.new_records()]
    handle_batch(stream.lambda_event(records), runtime)
    # THEN no OFFLINE: the live connection remains
    assert queue.drain() == []


def test_modify_records_are_ignored(make_stream, make_queue):
    # GIVEN alice connected
    stream, queue = make_stream(), make_queue()
    runtime = stream.queue_runtime(queue)
    stream.connect("alice", "c1")
    handle_batch(stream.lambda_event(stream.new_records()), runtime)
    queue.drain()
    # WHEN her item is rewritten (a MODIFY record)
    stream.touch("alice", "c1")
    records = stream.new_records()
    assert [record["eventName"] for record in records] == ["MODIFY"]
    response = handle_batch(stream.lambda_event(records), runtime)
    # THEN nothing is published
    assert response == {"batchItemFailures": []}
    assert queue.drain() == []


def test_publish_failure_reports_the_record_and_the_retry_delivers(make_stream, make_queue):
    # GIVEN alice and bob connected and their records read, but the queue is gone
    stream, queue = make_stream(), make_queue()
    runtime = stream.queue_runtime(queue)
    stream.connect("alice", "c1")
    stream.connect("bob", "c2")
    records = stream.new_records()
    queue_name = queue.queue_url.rsplit("/", 1)[1]
    queue.sqs.delete_queue(QueueUrl=queue.queue_url)
    # WHEN the watchdog handles the batch
    response = handle_batch(stream.lambda_event(records), runtime)
    # THEN the first record is reported, so the stream retries from it
    assert response == {
        "batchItemFailures": [{"itemIdentifier": stream.sequence_number(records[0])}]
    }
    # WHEN the queue is back and the stream retries the batch from the reported record
    queue.sqs.create_queue(QueueName=queue_name)
    response = handle_batch(stream.lambda_event(records), runtime)
    # THEN both events are delivered: nothing was lost
    assert response == {"batchItemFailures": []}
    assert queue.statuses(queue.drain()) == [("alice", "ONLINE"), ("bob", "ONLINE")]


def test_publish_failure_mid_batch_names_the_failing_record(make_stream, make_subscribed_topic):
    # GIVEN alice on two devices (already announced), and a topic that has been deleted
    stream = make_stream()
    topic_arn, _ = make_subscribed_topic()
    runtime = stream.topic_runtime(topic_arn)
    stream.connect("alice", "phone")
    stream.connect("alice", "laptop")
    handle_batch(stream.lambda_event(stream.new_records()), runtime)
    boto3.client("sns").delete_topic(TopicArn=topic_arn)
    # WHEN alice's phone closes (no event: the laptop remains) and then bob connects
    stream.disconnect("alice", "phone")
    stream.connect("bob", "c3")
    records = stream.new_records()
    response = handle_batch(stream.lambda_event(records), runtime)
    # THEN bob's record, whose publish failed, is reported, not the batch's first record
    assert response == {
        "batchItemFailures": [{"itemIdentifier": stream.sequence_number(records[1])}]
    }


def test_malformed_records_are_logged_and_skipped(make_stream, make_queue, capsys):
    # GIVEN a real INSERT surrounded by records no stream could make sense of
    stream, queue = make_stream(), make_queue()
    stream.connect("alice", "c1")
    (insert,) = stream.new_records()
    no_keys = {**insert, "dynamodb": {**insert["dynamodb"], "Keys": {}}}
    unknown = {**insert, "eventName": "UPSERT"}
    records = ["garbage", no_keys, insert, unknown, {"eventName": "REMOVE", "dynamodb": 7}]
    # WHEN the watchdog handles them
    capsys.readouterr()
    response = handle_batch(stream.lambda_event(records), stream.queue_runtime(queue))
    # THEN the shard is not blocked: alice's ONLINE went out, and each bad record is logged
    assert response == {"batchItemFailures": []}
    assert queue.statuses(queue.drain()) == [("alice", "ONLINE")]
    skipped = [
        line
        for line in log_lines(capsys.readouterr().out)
        if line["message"] == "malformed stream record skipped"
    ]
    assert [line["reason"] for line in skipped] == [
        "record is str, not an object",
        "Keys.user_id is missing or not a string attribute",
        "unknown eventName 'UPSERT'",
        "dynamodb is missing or not an object",
    ]
    assert skipped[1]["sequence_number"] == stream.sequence_number(insert)


def test_fifo_queue_groups_by_user_and_drops_a_retried_duplicate(make_stream, make_queue):
    # GIVEN a FIFO messages queue
    stream, queue = make_stream(), make_queue(fifo=True)
    runtime = stream.queue_runtime(queue)
    stream.connect("alice", "c1")
    records = stream.new_records()
    # WHEN the same batch is delivered twice (a stream retry)
    handle_batch(stream.lambda_event(records), runtime)
    handle_batch(stream.lambda_event(records), runtime)
    # THEN the queue holds the event once
    assert queue.statuses(queue.drain()) == [("alice", "ONLINE")]


def test_fifo_queue_takes_a_user_id_that_is_no_valid_group_id(make_stream, make_queue):
    # GIVEN a FIFO messages queue and a user id with a space, non-ASCII and 200 characters
    stream, queue = make_stream(), make_queue(fifo=True)
    user_id = "émilie " + "x" * 193
    stream.connect(user_id, "c1")
    # WHEN the watchdog publishes its ONLINE
    response = handle_batch(stream.lambda_event(stream.new_records()), stream.queue_runtime(queue))
    # THEN the queue takes it (the group id is the user's hash) and the event names the user
    assert response == {"batchItemFailures": []}
    assert queue.statuses(queue.drain()) == [(user_id, "ONLINE")]


def test_missing_settings_fail_the_invocation_with_the_variable_name(
    aws_env, fresh_container, monkeypatch, capsys
):
    # GIVEN PRESENCE_SOURCE=topic without a topic
    monkeypatch.setenv("CONNECTIONS_TABLE_NAME", "connections")
    monkeypatch.setenv("PRESENCE_SOURCE", "topic")
    monkeypatch.delenv("MESSAGES_TOPIC_ARN", raising=False)
    # WHEN the function is invoked, THEN it fails whole (the batch is retried, nothing skipped)
    with pytest.raises(SettingsError, match="MESSAGES_TOPIC_ARN is not set"):
        handler({"Records": []}, None)
    (line,) = log_lines(capsys.readouterr().out)
    assert line["level"] == "ERROR"
    assert "MESSAGES_TOPIC_ARN is not set" in line["reason"]


def fuzzed_record(kind: str, user_id: str, sequence_number: int) -> dict[str, Any]:
    return {
        "eventName": kind,
        "dynamodb": {
            "ApproximateCreationDateTime": 1700000000 + sequence_number,
            "Keys": {"user_id": {"S": user_id}, "connection_id": {"S": "c"}},
            "SequenceNumber": str(sequence_number),
        },
    }


def test_the_lambda_entry_point_survives_any_user_id_against_real_services(
    make_stream, make_queue, monkeypatch, fresh_container
):
    # GIVEN the deployed function's environment, one warm container for every example
    stream, queue = make_stream(), make_queue()
    monkeypatch.setenv("CONNECTIONS_TABLE_NAME", stream.table_name)
    monkeypatch.setenv("MESSAGES_QUEUE_URL", queue.queue_url)

    @settings(max_examples=25)
    @given(
        specs=st.lists(
            st.tuples(
                st.sampled_from(["INSERT", "REMOVE", "MODIFY"]), st.text(min_size=1, max_size=12)
            ),
            max_size=6,
        )
    )
    def check(specs: list[tuple[str, str]]) -> None:
        # WHEN records with arbitrary user ids arrive
        records = [fuzzed_record(kind, user, index) for index, (kind, user) in enumerate(specs)]
        response = handler({"Records": records}, None)
        # THEN nothing fails, and every readable connect is announced (validated when read back)
        assert response == {"batchItemFailures": []}
        changes = parse_batch({"Records": records}).changes
        connected = {change.user_id for change in changes if change.kind == "INSERT"}
        online = {user for user, status in queue.statuses(queue.drain()) if status == "ONLINE"}
        assert online == connected

    check()
