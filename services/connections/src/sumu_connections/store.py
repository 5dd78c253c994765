"""The connections table: one connection-record per live WebSocket connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sumu_contracts import validate


@dataclass(frozen=True)
class ConnectionRecord:
    user_id: str
    connection_id: str
    connected_at_ms: int
    delete_at: int
    source_ip: str | None = None
    user_agent: str | None = None

    def as_contract(self) -> dict[str, Any]:
        """The record as the connection-record contract shows it (plain JSON)."""
        record: dict[str, Any] = {
            "user_id": self.user_id,
            "connection_id": self.connection_id,
            "connected_at": self.connected_at_ms,
            "delete_at": self.delete_at,
        }
        if self.source_ip is not None:
            record["source_ip"] = self.source_ip
        if self.user_agent is not None:
            record["user_agent"] = self.user_agent
        return record

    def as_item(self) -> dict[str, dict[str, str]]:
        """The DynamoDB item. Numbers are N so that ``delete_at`` works as the table's TTL:
        https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html
        """
        return {
            name: {"N": str(value)} if isinstance(value, int) else {"S": value}
            for name, value in self.as_contract().items()
        }


def new_connection_record(
    *,
    user_id: str,
    connection_id: str,
    connected_at_ms: int,
    ttl_seconds: int,
    source_ip: str | None,
    user_agent: str | None,
) -> ConnectionRecord:
    """A record that expires ``ttl_seconds`` after the connection opened; raises ContractError
    when the values break the connection-record contract (a principalId over 1024 characters)."""
    record = ConnectionRecord(
        user_id=user_id,
        connection_id=connection_id,
        connected_at_ms=connected_at_ms,
        delete_at=connected_at_ms // 1000 + ttl_seconds,
        source_ip=source_ip,
        user_agent=user_agent,
    )
    validate("connection-record", record.as_contract())
    return record


@dataclass(frozen=True)
class ConnectionStore:
    dynamodb: Any
    table_name: str

    def put(self, record: ConnectionRecord) -> None:
        self.dynamodb.put_item(TableName=self.table_name, Item=record.as_item())

    def delete(self, *, user_id: str, connection_id: str) -> None:
        # No condition: deleting a record that is already gone (a second $disconnect, a TTL
        # expiry, a 410 prune by the pusher) succeeds, which makes $disconnect idempotent.
        self.dynamodb.delete_item(
            TableName=self.table_name,
            Key={"user_id": {"S": user_id}, "connection_id": {"S": connection_id}},
        )
