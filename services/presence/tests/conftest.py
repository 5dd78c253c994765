"""Real parts for the presence tests: a connections table with a stream on moto server, its
stream read the way Lambda's event source mapping reads it, and the destinations read back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from sumu_contracts import validate
from sumu_presence.aws import DynamoConnectionsTable, QueuePublisher, TopicPublisher
from sumu_presence.handler import Runtime, container_clients, container_runtime
from sumu_presence.settings import Settings
from sumu_testkit.tables import create_connections_table

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
MAX_READS = 50  # every read loop is bounded


@dataclass
class ConnectionsStream:
    """The connections table and a cursor on its stream's only shard."""

    table_name: str
    stream_arn: str
    dynamodb: Any
    streams: Any
    iterator: str | None = None

    @classmethod
    def create(cls, view_type: str = "NEW_AND_OLD_IMAGES") -> ConnectionsStream:
        dynamodb = boto3.client("dynamodb")
        table_name = f"connections-{uuid.uuid4().hex[:8]}"
        description = create_connections_table(dynamodb, table_name, stream_view_type=view_type)
        stream = cls(
            table_name=table_name,
            stream_arn=description["LatestStreamArn"],
            dynamodb=dynamodb,
            streams=boto3.client("dynamodbstreams"),
        )
        shard = stream.streams.describe_stream(StreamArn=stream.stream_arn)["StreamDescription"][
            "Shards"
        ][0]
        stream.iterator = stream.streams.get_shard_iterator(
            StreamArn=stream.stream_arn,
            ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        return stream

    def connect(self, user_id: str, connection_id: str) -> None:
        self.dynamodb.put_item(
            TableName=self.table_name,
            Item={
                "user_id": {"S": user_id},
                "connection_id": {"S": connection_id},
                "connected_at": {"N": "1700000000000"},
                "delete_at": {"N": "1700007200"},
            },
        )

    def touch(self, user_id: str, connection_id: str) -> None:
        """A MODIFY: the item is rewritten, the connection stays."""
        self.dynamodb.update_item(
            TableName=self.table_name,
            Key={"user_id": {"S": user_id}, "connection_id": {"S": connection_id}},
            UpdateExpression="SET delete_at = :later",
            ExpressionAttributeValues={":later": {"N": "1700009999"}},
        )

    def disconnect(self, user_id: str, connection_id: str) -> None:
        self.dynamodb.delete_item(
            TableName=self.table_name,
            Key={"user_id": {"S": user_id}, "connection_id": {"S": connection_id}},
        )

    def new_records(self) -> list[dict[str, Any]]:
        """Every record written since the last call, as Lambda delivers them (JSON, epoch times)."""
        records: list[dict[str, Any]] = []
        for _ in range(MAX_READS):
            page = self.streams.get_records(ShardIterator=self.iterator)
            self.iterator = page["NextShardIterator"]
            if not page["Records"]:
                break
            records.extend(self._as_lambda_record(record) for record in page["Records"])
        return records

    @staticmethod
    def lambda_event(records: list[dict[str, Any]]) -> dict[str, Any]:
        return {"Records": records}

    @staticmethod
    def as_ttl_expiry(record: dict[str, Any]) -> dict[str, Any]:
        """A REMOVE as DynamoDB reports a TTL deletion (moto's records carry no userIdentity)."""
        assert record["eventName"] == "REMOVE"
        return {**record, "userIdentity": dict(TTL_IDENTITY)}

    @staticmethod
    def sequence_number(record: dict[str, Any]) -> str:
        value: str = record["dynamodb"]["SequenceNumber"]
        return value

    def queue_runtime(self, destination: Destination) -> Runtime:
        return Runtime(
            settings=Settings(self.table_name, "queue", destination.queue_url),
            table=DynamoConnectionsTable(self.dynamodb, self.table_name),
            publisher=QueuePublisher(destination.sqs, destination.queue_url),
        )

    def topic_runtime(self, topic_arn: str) -> Runtime:
        return Runtime(
            settings=Settings(self.table_name, "topic", topic_arn),
            table=DynamoConnectionsTable(self.dynamodb, self.table_name),
            publisher=TopicPublisher(boto3.client("sns"), topic_arn),
        )

    def _as_lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        dynamodb = dict(record["dynamodb"])
        # boto3 parses the epoch number into a datetime; Lambda's event carries the number.
        dynamodb["ApproximateCreationDateTime"] = dynamodb[
            "ApproximateCreationDateTime"
        ].timestamp()
        lambda_record = {**record, "dynamodb": dynamodb, "eventSourceARN": self.stream_arn}
        return json.loads(json.dumps(lambda_record))


@dataclass
class Destination:
    """An SQS queue that receives presence events, directly or through an SNS subscription."""

    sqs: Any
    queue_url: str
    received: list[dict[str, Any]] = field(default_factory=list)

    def drain(self) -> list[dict[str, Any]]:
        """Presence events that arrived since the last call, each validated against its contract."""
        events: list[dict[str, Any]] = []
        for _ in range(MAX_READS):
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                event = {
                    "body": json.loads(message["Body"]),
                    "attributes": {
                        name: {"DataType": value["DataType"], "StringValue": value["StringValue"]}
                        for name, value in message.get("MessageAttributes", {}).items()
                    },
                }
                validate("presence-event", event)
                events.append(event)
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        self.received.extend(events)
        return events

    @staticmethod
    def statuses(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return [(e["body"]["message"]["user_id"], e["body"]["message"]["status"]) for e in events]


def _create_queue(fifo: bool = False) -> Destination:
    sqs = boto3.client("sqs")
    name = f"presence-{uuid.uuid4().hex[:8]}"
    attributes = {}
    if fifo:
        name += ".fifo"
        attributes = {"FifoQueue": "true"}
    queue_url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return Destination(sqs=sqs, queue_url=queue_url)


def _create_subscribed_topic() -> tuple[str, Destination]:
    """A topic whose messages land, raw (attributes kept), in a queue the test reads."""
    sns = boto3.client("sns")
    topic_arn = sns.create_topic(Name=f"messages-{uuid.uuid4().hex[:8]}")["TopicArn"]
    destination = _create_queue()
    queue_arn = destination.sqs.get_queue_attributes(
        QueueUrl=destination.queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return topic_arn, destination


@pytest.fixture
def fresh_container() -> Iterator[None]:
    """A cold start: the handler builds its settings and clients again from the environment."""
    container_runtime.cache_clear()
    container_clients.cache_clear()
    yield
    container_runtime.cache_clear()
    container_clients.cache_clear()


@pytest.fixture
def make_stream(aws_env: object) -> Callable[..., ConnectionsStream]:
    """``make_stream(view_type)``: a fresh connections table with a stream, and a cursor on it."""
    return ConnectionsStream.create


@pytest.fixture
def make_queue(aws_env: object) -> Callable[..., Destination]:
    """``make_queue(fifo=False)``: a queue the test reads presence events from."""
    return _create_queue


@pytest.fixture
def make_subscribed_topic(aws_env: object) -> Callable[[], tuple[str, Destination]]:
    """``make_subscribed_topic()``: a topic ARN and the queue that receives its messages."""
    return _create_subscribed_topic
