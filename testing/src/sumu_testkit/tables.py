"""The connections table, as infra/terraform and the local stack create it.

Keys from the connection-record contract: ``user_id`` (hash) and ``connection_id`` (range),
both strings; TTL on the numeric ``delete_at``. Tests and benchmarks of every service build the
same table, so it is defined once here.
"""

from __future__ import annotations

from typing import Any

KEY_SCHEMA = [
    {"AttributeName": "user_id", "KeyType": "HASH"},
    {"AttributeName": "connection_id", "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": "user_id", "AttributeType": "S"},
    {"AttributeName": "connection_id", "AttributeType": "S"},
]


def create_connections_table(
    dynamodb: Any,
    table_name: str,
    *,
    stream_view_type: str | None = None,
    ttl: bool = False,
) -> dict[str, Any]:
    """Create the table with a boto3 DynamoDB client; return its TableDescription.

    ``stream_view_type`` (KEYS_ONLY, NEW_AND_OLD_IMAGES, ...) turns the stream on; ``ttl`` turns
    TTL on for ``delete_at``.
    """
    stream = (
        {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": stream_view_type}}
        if stream_view_type
        else {}
    )
    description: dict[str, Any] = dynamodb.create_table(
        TableName=table_name,
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=ATTRIBUTE_DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
        **stream,
    )["TableDescription"]
    if ttl:
        dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "delete_at"},
        )
    return description


def create_subscriptions_table(dynamodb: Any, table_name: str) -> None:
    """The subscriptions table of issue 17 (subscription-record contract): one Query for a
    channel's subscribers, the ``by_connection`` index for a connection's subscriptions."""
    dynamodb.create_table(
        TableName=table_name,
        KeySchema=[
            {"AttributeName": "channel", "KeyType": "HASH"},
            {"AttributeName": "connection_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "channel", "AttributeType": "S"},
            {"AttributeName": "connection_id", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_connection",
                "KeySchema": [
                    {"AttributeName": "connection_id", "KeyType": "HASH"},
                    {"AttributeName": "channel", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
