"""Fixtures: API Gateway WebSocket event factories and a moto-backed stack for the handler.

Event shapes follow the AWS documentation of WebSocket Lambda proxy events:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from sumu_connections import handler
from sumu_contracts import validate
from sumu_testkit import MotoServer
from sumu_testkit.tables import create_connections_table, create_subscriptions_table

SUBSCRIPTIONS_TABLE = "sumu-subscriptions"
REQUEST_TIME_MS = 1_795_000_000_123
CONNECTED_AT_MS = 1_795_000_000_000


class WebSocketEvents:
    """Small factories for the three event types API Gateway sends a WebSocket Lambda."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def _request_context(
        self,
        *,
        route_key: str,
        event_type: str,
        connection_id: str | None,
        principal_id: str | None,
        request_time_ms: int | None,
        connected_at_ms: int | None,
        source_ip: str,
        user_agent: str,
        channels: str | None = None,
    ) -> dict[str, Any]:
        number = next(self._ids)
        context: dict[str, Any] = {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": f"ext-{number}",
            "requestTime": "27/Nov/2026:18:00:00 +0000",
            "messageDirection": "IN",
            "stage": "mvp",
            "requestId": f"req-{number}",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "apiId": "abc123",
            "identity": {"sourceIp": source_ip, "userAgent": user_agent},
        }
        if connection_id is not None:
            context["connectionId"] = connection_id
        if request_time_ms is not None:
            context["requestTimeEpoch"] = request_time_ms
        if connected_at_ms is not None:
            context["connectedAt"] = connected_at_ms
        if principal_id is not None:
            # API Gateway flattens the authorizer's context next to principalId, and replays it
            # on every route of the connection.
            context["authorizer"] = {
                "principalId": principal_id,
                "integrationLatency": 12,
                "email": f"{principal_id}@example.com",
            }
            if channels is not None:
                # The authorizer's JSON-encoded channel patterns (context values are scalars).
                context["authorizer"]["channels"] = channels
        return context

    def connect(
        self,
        *,
        connection_id: str | None = "conn-1",
        principal_id: str | None = "alice",
        connected_at_ms: int | None = CONNECTED_AT_MS,
        request_time_ms: int | None = CONNECTED_AT_MS,
        source_ip: str = "203.0.113.7",
        user_agent: str = "sumu-tests/1.0",
    ) -> dict[str, Any]:
        return {
            "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com"},
            "multiValueHeaders": {"Host": ["abc123.execute-api.us-east-1.amazonaws.com"]},
            "queryStringParameters": {"authorization": "a.jwt.token"},
            "requestContext": self._request_context(
                route_key="$connect",
                event_type="CONNECT",
                connection_id=connection_id,
                principal_id=principal_id,
                request_time_ms=request_time_ms,
                connected_at_ms=connected_at_ms,
                source_ip=source_ip,
                user_agent=user_agent,
            ),
            "isBase64Encoded": False,
        }

    def disconnect(
        self, *, connection_id: str | None = "conn-1", principal_id: str | None = "alice"
    ) -> dict[str, Any]:
        return {
            "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com"},
            "requestContext": {
                **self._request_context(
                    route_key="$disconnect",
                    event_type="DISCONNECT",
                    connection_id=connection_id,
                    principal_id=principal_id,
                    request_time_ms=CONNECTED_AT_MS + 60_000,
                    connected_at_ms=CONNECTED_AT_MS,
                    source_ip="203.0.113.7",
                    user_agent="sumu-tests/1.0",
                ),
                "disconnectStatusCode": 1000,
                "disconnectReason": "",
            },
            "isBase64Encoded": False,
        }

    def message(
        self,
        route_key: str,
        body: str | bytes | dict[str, Any] | None,
        *,
        connection_id: str | None = "conn-1",
        principal_id: str | None = "alice",
        request_time_ms: int | None = REQUEST_TIME_MS,
        channels: str | None = None,
    ) -> dict[str, Any]:
        """A MESSAGE event; a dict body is sent as JSON text, bytes as a binary frame.
        ``channels`` is the authorizer context's JSON-encoded list of channel patterns."""
        number = next(self._ids)
        event: dict[str, Any] = {
            "requestContext": {
                **self._request_context(
                    route_key=route_key,
                    event_type="MESSAGE",
                    connection_id=connection_id,
                    principal_id=principal_id,
                    request_time_ms=request_time_ms,
                    connected_at_ms=CONNECTED_AT_MS,
                    source_ip="203.0.113.7",
                    user_agent="sumu-tests/1.0",
                    channels=channels,
                ),
                "messageId": f"msg-{number}",
            },
            "isBase64Encoded": False,
        }
        if isinstance(body, dict):
            event["body"] = json.dumps(body)
        elif isinstance(body, bytes):
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
        elif body is not None:
            event["body"] = body
        return event


@pytest.fixture
def events() -> WebSocketEvents:
    return WebSocketEvents()


@dataclass
class Stack:
    """The AWS resources the handler talks to, in moto server."""

    table_name: str
    queue_url: str
    topic_arn: str
    # Subscribers of the topic: SNS envelope in the body (raw off) and the bare message (raw on).
    envelope_queue_url: str
    raw_queue_url: str
    dynamodb: Any
    sqs: Any
    sns: Any

    def receive(self, queue_url: str, *, expected: int = 1) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        for _ in range(5):  # bounded: moto returns what is there at once
            response = self.sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            messages.extend(response.get("Messages", []))
            if len(messages) >= expected:
                break
        return messages

    def depth(self, queue_url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=self.table_name)["Items"])

    def subscriptions(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=SUBSCRIPTIONS_TABLE)["Items"])


def create_stack(moto: MotoServer) -> Stack:
    dynamodb = boto3.client("dynamodb", region_name=moto.region)
    sqs = boto3.client("sqs", region_name=moto.region)
    sns = boto3.client("sns", region_name=moto.region)
    table_name = "sumu-connections"
    create_connections_table(dynamodb, table_name, ttl=True)
    create_subscriptions_table(dynamodb, SUBSCRIPTIONS_TABLE)
    queue_url = sqs.create_queue(QueueName="sumu-messages")["QueueUrl"]
    topic_arn = sns.create_topic(Name="sumu-messages")["TopicArn"]
    subscribers = {}
    for name, raw in (("envelope", "false"), ("raw", "true")):
        url = sqs.create_queue(QueueName=f"sumu-messages-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": raw},
        )
        subscribers[name] = url
    return Stack(
        table_name=table_name,
        queue_url=queue_url,
        topic_arn=topic_arn,
        envelope_queue_url=subscribers["envelope"],
        raw_queue_url=subscribers["raw"],
        dynamodb=dynamodb,
        sqs=sqs,
        sns=sns,
    )


@pytest.fixture
def fresh_container() -> Iterator[None]:
    """A cold start: settings and clients are built again from the environment of the test.

    Tests that change the environment ask for it; the others share one warm container, as
    successive invocations of one Lambda do (moto's reset keeps the same queue URL and topic ARN).
    """
    handler.service.cache_clear()
    handler.container_clients.cache_clear()
    yield
    handler.service.cache_clear()
    handler.container_clients.cache_clear()


@pytest.fixture
def stack(aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Stack:
    created = create_stack(aws_env)
    monkeypatch.setenv("CONNECTIONS_TABLE_NAME", created.table_name)
    monkeypatch.setenv("MESSAGES_QUEUE_URL", created.queue_url)
    monkeypatch.setenv("MESSAGES_TOPIC_ARN", created.topic_arn)
    monkeypatch.setenv("SUBSCRIPTIONS_TABLE_NAME", SUBSCRIPTIONS_TABLE)
    monkeypatch.delenv("SUMU_PUBLIC_CHANNELS", raising=False)
    monkeypatch.delenv("CHANNELS_PER_CONNECTION", raising=False)
    monkeypatch.delenv("CONNECTION_TTL_SECONDS", raising=False)
    monkeypatch.delenv("CONNECTION_TTL_ALLOW_SHORT", raising=False)
    return created


def server_frame(response: dict[str, Any]) -> dict[str, Any]:
    """The frame a two-way route sends to the client, checked against the server-frame contract."""
    assert response["statusCode"] == 200
    frame = json.loads(response["body"])
    validate("server-frame", frame)
    assert isinstance(frame, dict)
    return frame


@pytest.fixture
def frame_of() -> Any:
    return server_frame


@pytest.fixture
def service_logs(caplog: pytest.LogCaptureFixture) -> Any:
    """The service's structured log lines so far, parsed (other loggers, e.g. moto's, ignored)."""
    caplog.set_level(logging.INFO, logger="sumu_connections")

    def lines() -> list[dict[str, Any]]:
        return [
            json.loads(record.getMessage())
            for record in caplog.records
            if record.name == "sumu_connections"
        ]

    return lines
