"""A broken presence watchdog: the built-in one, but "does the user still have a connection?" is
an eventually consistent read (the original stack's bug)."""

from __future__ import annotations

from sumu_presence import aws
from sumu_presence.handler import handler


def _has_connection_eventually(self: aws.DynamoConnectionsTable, user_id: str) -> bool:
    response = self._client.query(
        TableName=self._table_name,
        KeyConditionExpression="user_id = :user_id",
        ExpressionAttributeValues={":user_id": {"S": user_id}},
        ProjectionExpression="connection_id",
        Limit=1,
    )
    return bool(response.get("Items"))


aws.DynamoConnectionsTable.has_connection = _has_connection_eventually  # type: ignore[method-assign]

__all__ = ["handler"]
