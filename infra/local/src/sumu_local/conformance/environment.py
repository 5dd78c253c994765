"""The kit's own isolated environment: moto on a free port (DynamoDB behind the consistency
proxy), the resources a deployment has, a management API stand-in and a key server.

Nothing here is shared with a running ``sumu up``: ports are chosen by the OS, resource names
carry a random run id.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sumu_local.conformance.dynamodb_proxy import DynamoDbProxy
from sumu_local.conformance.keys import KeyServer
from sumu_local.conformance.management_api import ManagementApi
from sumu_local.stack.aws import LOCAL_CREDENTIALS, aws_client
from sumu_local.stack.moto_server import MotoProcess, start_moto
from sumu_local.stack.resources import create_connections_table, create_subscriptions_table

REGION = "us-east-1"
AUDIENCES = ("conformance-api", "conformance-other")
CONNECTION_TTL_SECONDS = 7200  # API Gateway's 2 h limit; the services refuse less
DRAIN_ROUNDS = 20  # receive calls per drain at most: every loop of the kit is bounded


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Environment:
    moto: MotoProcess
    proxy: DynamoDbProxy
    management: ManagementApi
    keys: KeyServer
    run_id: str
    table: str = ""
    subscriptions_table: str = ""
    messages_queue_url: str = ""
    messages_topic_arn: str = ""
    topic_capture_queue_url: str = ""  # raw subscription of the messages topic: what backends get
    dlq_url: str = ""
    notifications_queue_arn: str = ""
    clients: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls) -> Environment:
        moto = start_moto("127.0.0.1", _free_port())
        host, _, port = moto.endpoint_url.removeprefix("http://").partition(":")
        environment = cls(
            moto=moto,
            proxy=DynamoDbProxy(host, int(port)),
            management=ManagementApi(),
            keys=KeyServer(),
            run_id=uuid.uuid4().hex[:8],
        )
        try:
            environment.proxy.start()
            environment.management.start()
            environment.keys.start()
            environment._create_resources()
        except BaseException:
            environment.stop()
            raise
        return environment

    def stop(self) -> None:
        for stop in (self.keys.stop, self.management.stop, self.proxy.stop, self.moto.stop):
            try:
                stop()
            except Exception:  # noqa: BLE001, S112 - stopping the rest matters more
                continue

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = aws_client(service, self.moto.endpoint_url, REGION)
        return self.clients[service]

    def _create_resources(self) -> None:
        prefix = f"conformance-{self.run_id}"
        dynamodb, sqs, sns = self.client("dynamodb"), self.client("sqs"), self.client("sns")
        self.table = f"{prefix}-connections"
        create_connections_table(dynamodb, self.table)
        self.proxy.ghost_table = self.table
        self.subscriptions_table = f"{prefix}-subscriptions"
        # The design's shapes, from the stack's own definitions (infra/terraform modules/database).
        create_subscriptions_table(dynamodb, self.subscriptions_table)
        self.messages_queue_url = sqs.create_queue(QueueName=f"{prefix}-messages")["QueueUrl"]
        self.dlq_url = sqs.create_queue(QueueName=f"{prefix}-notifications-dlq")["QueueUrl"]
        notifications = sqs.create_queue(QueueName=f"{prefix}-notifications")["QueueUrl"]
        self.notifications_queue_arn = sqs.get_queue_attributes(
            QueueUrl=notifications, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.messages_topic_arn = sns.create_topic(Name=f"{prefix}-messages")["TopicArn"]
        self.topic_capture_queue_url = sqs.create_queue(QueueName=f"{prefix}-topic-capture")[
            "QueueUrl"
        ]
        capture_arn = sqs.get_queue_attributes(
            QueueUrl=self.topic_capture_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=self.messages_topic_arn,
            Protocol="sqs",
            Endpoint=capture_arn,
            Attributes={"RawMessageDelivery": "true"},
        )

    def function_environment(self) -> dict[str, str]:
        """Every service's variables (DESIGN.md section 3), pointing at this environment."""
        return {
            **LOCAL_CREDENTIALS,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.moto.endpoint_url,
            # Reads go through the proxy, which answers like DynamoDB's eventual consistency.
            "AWS_ENDPOINT_URL_DYNAMODB": self.proxy.url,
            "CONNECTIONS_TABLE_NAME": self.table,
            "SUBSCRIPTIONS_TABLE_NAME": self.subscriptions_table,
            "MESSAGES_QUEUE_URL": self.messages_queue_url,
            "MESSAGES_TOPIC_ARN": self.messages_topic_arn,
            "CONNECTION_TTL_SECONDS": str(CONNECTION_TTL_SECONDS),
            "APIGW_ENDPOINT": self.management.endpoint,
            "NOTIFICATIONS_DLQ_URL": self.dlq_url,
            "PRESENCE_SOURCE": "queue",
            "JWT_ISSUER_JWKS_URI": self.keys.jwks_uri,
            "JWT_ISSUER": self.keys.issuer,
            "JWT_AUTHORIZED_AUDIENCES": ",".join(AUDIENCES),
            # Small, so the channel cases reach the limit in a few frames (DESIGN.md 6 names it).
            "CHANNELS_PER_CONNECTION": "3",
            # The built-in pusher's knobs, shortened so retries and hangs cost seconds, not
            # minutes; other implementations ignore them.
            "PUSHER_BACKOFF_BASE_MS": "20",
            "PUSHER_BACKOFF_MAX_MS": "200",
            "PUSHER_POST_TIMEOUT_MS": "1000",
        }

    # --- the table, the queues -------------------------------------------------------------

    def put_connection(
        self, user_id: str, connection_id: str, *, age_seconds: float = 3600.0, live: bool = True
    ) -> dict[str, Any]:
        """A connection-record item (connected ``age_seconds`` ago), marked live on the API."""
        connected_at = int((time.time() - age_seconds) * 1000)
        item = {
            "user_id": {"S": user_id},
            "connection_id": {"S": connection_id},
            "connected_at": {"N": str(connected_at)},
            "delete_at": {"N": str(connected_at // 1000 + CONNECTION_TTL_SECONDS * 2)},
        }
        self.client("dynamodb").put_item(TableName=self.table, Item=item)
        if live:
            self.management.live(connection_id)
        return item

    def delete_connection(self, user_id: str, connection_id: str) -> None:
        self.client("dynamodb").delete_item(
            TableName=self.table,
            Key={"user_id": {"S": user_id}, "connection_id": {"S": connection_id}},
        )

    def get_connection(self, user_id: str, connection_id: str) -> dict[str, Any] | None:
        item = (
            self.client("dynamodb")
            .get_item(
                TableName=self.table,
                Key={"user_id": {"S": user_id}, "connection_id": {"S": connection_id}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        return dict(item) if item else None

    def user_connections(self, user_id: str) -> list[dict[str, Any]]:
        return list(
            self.client("dynamodb")
            .query(
                TableName=self.table,
                KeyConditionExpression="user_id = :u",
                ExpressionAttributeValues={":u": {"S": user_id}},
                ConsistentRead=True,
            )
            .get("Items", [])
        )

    def clear_table(self) -> None:
        dynamodb = self.client("dynamodb")
        for _ in range(100):
            items = dynamodb.scan(TableName=self.table, ConsistentRead=True).get("Items", [])
            if not items:
                return
            for item in items:
                self.delete_connection(item["user_id"]["S"], item["connection_id"]["S"])

    def put_subscription(self, channel: str, user_id: str, connection_id: str) -> None:
        """A subscription-record item, as the connections service writes one."""
        now = time.time()
        item = {
            "channel": {"S": channel},
            "connection_id": {"S": connection_id},
            "user_id": {"S": user_id},
            "subscribed_at": {"N": str(int(now * 1000))},
            "delete_at": {"N": str(int(now) + CONNECTION_TTL_SECONDS * 2)},
        }
        self.client("dynamodb").put_item(TableName=self.subscriptions_table, Item=item)

    def connection_channels(self, connection_id: str) -> list[str]:
        """The connection's channels, read from the table itself (a Scan: the index is the
        implementation's path, the table is the truth)."""
        items = (
            self.client("dynamodb")
            .scan(
                TableName=self.subscriptions_table,
                FilterExpression="connection_id = :c",
                ExpressionAttributeValues={":c": {"S": connection_id}},
                ConsistentRead=True,
            )
            .get("Items", [])
        )
        return sorted(item["channel"]["S"] for item in items)

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message on the queue now, deleted as read."""
        sqs = self.client("sqs")
        messages: list[dict[str, Any]] = []
        empty = 0
        for _ in range(DRAIN_ROUNDS):
            batch = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                VisibilityTimeout=60,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not batch:
                empty += 1
                if empty >= 2:
                    break
                continue
            messages.extend(batch)
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(batch)
                ],
            )
        return messages


def as_contract_message(message: dict[str, Any]) -> dict[str, Any]:
    """An SQS message as the contracts show it: ``{body, attributes}`` (body parsed as JSON)."""
    try:
        body: Any = json.loads(message["Body"])
    except ValueError:
        body = message["Body"]
    attributes = {
        name: {key: value for key, value in attribute.items() if key in ("DataType", "StringValue")}
        for name, attribute in message.get("MessageAttributes", {}).items()
    }
    return {"body": body, "attributes": attributes}


def attribute(message: dict[str, Any], name: str) -> str | None:
    value = message.get("MessageAttributes", {}).get(name, {}).get("StringValue")
    return str(value) if value is not None else None
