"""The AWS resources of a SUMU deployment, created in moto the way the Terraform creates them.

One connections table (hash ``user_id``, range ``connection_id``, TTL on ``delete_at``, a
NEW_AND_OLD_IMAGES stream for presence), the subscriptions table (hash ``channel``, range
``connection_id``, GSI ``by_connection`` for a connection's channels, TTL on ``delete_at``), the
history table (hash ``channel``, range ``seq`` N, TTL on ``delete_at``) and the idempotency table
(hash ``key``, TTL on ``delete_at``) of issue 18, the
notifications topic and queue (backends -> pusher),
the messages topic and queue (connections and presence -> backends), each queue with a DLQ and a
redrive policy. Plus one internal queue the local stack needs because moto runs no Lambda: it is
subscribed to the notifications topic and stands in for SNS's push to the pusher function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sumu_local.stack.config import Timeouts

# A DLQ keeps messages for the longest SQS allows, so nothing expires before someone looks.
DLQ_RETENTION_SECONDS = 1_209_600


@dataclass(frozen=True)
class StackResources:
    connections_table: str
    connections_stream_arn: str
    subscriptions_table: str
    notifications_topic_arn: str
    notifications_queue_url: str
    notifications_queue_arn: str
    notifications_dlq_url: str
    messages_topic_arn: str
    messages_queue_url: str
    messages_dlq_url: str
    sns_delivery_queue_url: str  # internal: notifications topic -> pusher as SNS events
    sns_delivery_subscription_arn: str
    # Issue 18: channel history (pusher writes, connections reads) and idempotent requests.
    history_table: str = ""
    idempotency_table: str = ""


def create_resources(
    *, stage: str, timeouts: Timeouts, dynamodb: Any, sqs: Any, sns: Any
) -> StackResources:
    prefix = f"sumu-{stage}"
    table_name, stream_arn = create_connections_table(dynamodb, f"{prefix}-connections")
    subscriptions_table = create_subscriptions_table(dynamodb, f"{prefix}-subscriptions")
    history_table = create_history_table(dynamodb, f"{prefix}-history")
    idempotency_table = create_idempotency_table(dynamodb, f"{prefix}-idempotency")
    notifications_queue = _create_queue_with_dlq(sqs, f"{prefix}-notifications", timeouts)
    messages_queue = _create_queue_with_dlq(sqs, f"{prefix}-messages", timeouts)
    notifications_topic = sns.create_topic(Name=f"{prefix}-notifications")["TopicArn"]
    messages_topic = sns.create_topic(Name=f"{prefix}-messages")["TopicArn"]
    # Lambda retries a failed asynchronous (SNS) invocation twice, then hands the event to its
    # on-failure destination: the internal queue's redrive to its own DLQ plays both parts.
    # https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    delivery_queue = _create_queue_with_dlq(
        sqs, f"{prefix}-local-notifications-sns-delivery", timeouts
    )
    subscription = sns.subscribe(
        TopicArn=notifications_topic,
        Protocol="sqs",
        Endpoint=delivery_queue.arn,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return StackResources(
        connections_table=table_name,
        connections_stream_arn=stream_arn,
        subscriptions_table=subscriptions_table,
        notifications_topic_arn=notifications_topic,
        notifications_queue_url=notifications_queue.url,
        notifications_queue_arn=notifications_queue.arn,
        notifications_dlq_url=notifications_queue.dlq_url,
        messages_topic_arn=messages_topic,
        messages_queue_url=messages_queue.url,
        messages_dlq_url=messages_queue.dlq_url,
        sns_delivery_queue_url=delivery_queue.url,
        sns_delivery_subscription_arn=subscription,
        history_table=history_table,
        idempotency_table=idempotency_table,
    )


def create_connections_table(dynamodb: Any, name: str) -> tuple[str, str]:
    """The connections table of the design (infra/terraform modules/database): its name and stream
    ARN. The stack and the conformance kit both build it here, so they cannot drift apart."""
    table = dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "connection_id", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "connection_id", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "delete_at"},
    )
    return name, table["LatestStreamArn"]


# The index a connection's subscriptions are found by on $disconnect and on a 410 prune; the
# name is part of the fixed design (infra/terraform creates the same).
SUBSCRIPTIONS_BY_CONNECTION_INDEX = "by_connection"


def create_subscriptions_table(dynamodb: Any, name: str) -> str:
    """A channel's subscribers are one Query on the table; a connection's channels one Query on
    the GSI. No stream: nothing listens to subscription changes."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "channel", "AttributeType": "S"},
            {"AttributeName": "connection_id", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "channel", "KeyType": "HASH"},
            {"AttributeName": "connection_id", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": SUBSCRIPTIONS_BY_CONNECTION_INDEX,
                "KeySchema": [
                    {"AttributeName": "connection_id", "KeyType": "HASH"},
                    {"AttributeName": "channel", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "delete_at"},
    )
    return name


def create_history_table(dynamodb: Any, name: str) -> str:
    """Issue 18: per channel, a head item (``seq`` 0, ``head``: the last seq given, no TTL) and
    one item per message (``seq`` >= 1, ``frame``, ``delete_at``). A channel's history after a
    seq is one Query on the key; the head one GetItem."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "channel", "AttributeType": "S"},
            {"AttributeName": "seq", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "channel", "KeyType": "HASH"},
            {"AttributeName": "seq", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "delete_at"},
    )
    return name


def create_idempotency_table(dynamodb: Any, name: str) -> str:
    """Issue 18: one item per claimed request (``key``: ``id:<request id>`` or
    ``message:<input message id>``), with the input message that claimed it and its seqs."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "delete_at"},
    )
    return name


@dataclass(frozen=True)
class _Queue:
    url: str
    arn: str
    dlq_url: str


def _create_queue_with_dlq(sqs: Any, name: str, timeouts: Timeouts) -> _Queue:
    dlq_url = sqs.create_queue(
        QueueName=f"{name}-dlq",
        Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)},
    )["QueueUrl"]
    dlq_arn = _queue_arn(sqs, dlq_url)
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": timeouts.max_receive_count}
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(timeouts.visibility_timeout_seconds),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    return _Queue(url=url, arn=_queue_arn(sqs, url), dlq_url=dlq_url)


def _queue_arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])
