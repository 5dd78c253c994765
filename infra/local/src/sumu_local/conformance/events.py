"""The events AWS hands each function, built the way API Gateway, SQS, SNS and DynamoDB
Streams deliver them (the same shapes the local stack's gateway and event sources produce)."""

from __future__ import annotations

import hashlib
import itertools
import time
import uuid
from typing import Any

from sumu_local.gateway.events import new_aws_id, request_time

REGION = "us-east-1"
ACCOUNT = "123456789012"
API_ID = "conformance"
STAGE = "conformance"
METHOD_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/$connect"
DOMAIN = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

_sequence = itertools.count(1)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


# --- API Gateway ------------------------------------------------------------------------------


def authorizer_event(token: str | None, *, where: str = "query") -> dict[str, Any]:
    """A WebSocket REQUEST authorizer event; the token in the query, the header, or nowhere."""
    headers = {
        "Host": DOMAIN,
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "x3JJHMbDL1EzLkh9GBhXDw==",
    }
    query: dict[str, str] = {}
    if token is not None and where == "query":
        query["authorization"] = token
    if token is not None and where == "header":
        headers["Authorization"] = f"Bearer {token}"
    connection_id = new_aws_id()
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {key: [value] for key, value in query.items()},
        "stageVariables": {},
        "requestContext": _request_context("$connect", "CONNECT", connection_id, None),
    }


def _request_context(
    route_key: str,
    event_type: str,
    connection_id: str,
    principal_id: str | None,
    *,
    now_ms: int | None = None,
) -> dict[str, Any]:
    now = _now_ms() if now_ms is None else now_ms
    request_id = new_aws_id()
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(now),
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": now - 1000,
        "requestTimeEpoch": now,
        "identity": {"sourceIp": "192.0.2.10", "userAgent": "sumu-conformance"},
        "requestId": request_id,
        "domainName": DOMAIN,
        "connectionId": connection_id,
        "apiId": API_ID,
    }
    if principal_id is not None:
        context["authorizer"] = {"principalId": principal_id, "integrationLatency": 5}
    return context


def connect_event(connection_id: str, principal_id: str | None) -> dict[str, Any]:
    headers = {"Host": DOMAIN, "User-Agent": "sumu-conformance"}
    context = _request_context("$connect", "CONNECT", connection_id, principal_id)
    return {
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def disconnect_event(connection_id: str, principal_id: str | None) -> dict[str, Any]:
    context = _request_context("$disconnect", "DISCONNECT", connection_id, principal_id)
    context["disconnectStatusCode"] = 1000
    context["disconnectReason"] = "Connection closed"
    headers = {"Host": DOMAIN, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    return {
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def message_event(
    route_key: str, connection_id: str, principal_id: str | None, body: str
) -> dict[str, Any]:
    context = _request_context(route_key, "MESSAGE", connection_id, principal_id)
    context["messageId"] = new_aws_id()
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


# --- SQS and SNS ------------------------------------------------------------------------------


def sqs_event(bodies: list[str], queue_arn: str) -> tuple[dict[str, Any], list[str]]:
    """Lambda's SQS event for these bodies, and the records' messageIds in order."""
    now = str(_now_ms())
    records: list[dict[str, Any]] = []
    for body in bodies:
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": uuid.uuid4().hex,
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now,
                    "SenderId": "AIDACONFORMANCE",
                    "ApproximateFirstReceiveTimestamp": now,
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own digest
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}, [record["messageId"] for record in records]


def sns_event(message: str, topic_arn: str) -> dict[str, Any]:
    message_id = str(uuid.uuid4())
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": message,
                    "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    "SignatureVersion": "1",
                    "Signature": "conformance",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/conformance.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


# --- DynamoDB Streams -------------------------------------------------------------------------

# Each record gets its own whole second, so an event's timestamp names the record it came from.
_clock_base = int(time.time()) - 100_000


def stream_record(
    event_name: str, item: dict[str, Any], stream_arn: str, *, ttl: bool = False
) -> dict[str, Any]:
    """One DynamoDB stream record as Lambda delivers it (NEW_AND_OLD_IMAGES)."""
    number = next(_sequence)
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": float(_clock_base + number),
        "Keys": {"user_id": item["user_id"], "connection_id": item["connection_id"]},
        "SequenceNumber": f"{number:021d}",
        "SizeBytes": 120,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if event_name in ("INSERT", "MODIFY"):
        change["NewImage"] = item
    if event_name in ("REMOVE", "MODIFY"):
        change["OldImage"] = item
    record: dict[str, Any] = {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }
    if ttl:
        record["userIdentity"] = dict(TTL_IDENTITY)
    return record


def created_at(record: dict[str, Any]) -> float:
    return float(record["dynamodb"]["ApproximateCreationDateTime"])


def sequence_number(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])
