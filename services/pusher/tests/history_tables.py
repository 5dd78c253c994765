"""The history and idempotency tables of issue 18, as infra/local and the Terraform create them."""

from __future__ import annotations

from typing import Any

HISTORY = "sumu-history"
IDEMPOTENCY = "sumu-idempotency"


def create_history_tables(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=HISTORY,
        KeySchema=[
            {"AttributeName": "channel", "KeyType": "HASH"},
            {"AttributeName": "seq", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "channel", "AttributeType": "S"},
            {"AttributeName": "seq", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.create_table(
        TableName=IDEMPOTENCY,
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def history_items(dynamodb: Any, channel: str) -> dict[int, dict[str, Any]]:
    """seq -> item of the channel (0: the head item)."""
    pages = dynamodb.get_paginator("query").paginate(
        TableName=HISTORY,
        KeyConditionExpression="channel = :c",
        ExpressionAttributeValues={":c": {"S": channel}},
        ConsistentRead=True,
    )
    return {int(item["seq"]["N"]): item for page in pages for item in page["Items"]}
