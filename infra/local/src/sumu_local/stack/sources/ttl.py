"""DynamoDB's Time to Live, which moto never runs: delete the connections whose ``delete_at``
(epoch seconds) has passed, so the stream reports the REMOVE and presence hears of it.

DynamoDB marks such deletes as done by the service (``userIdentity`` of type Service); the
sweeper remembers the keys it deleted so the stream source can do the same.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("sumu_local.sources.ttl")

MAX_SCAN_PAGES = 1000  # bounds one sweep; a local table never comes close


@dataclass
class ServiceDeletions:
    """Keys of items deleted by the TTL sweeper, until the stream source has seen their REMOVE."""

    _keys: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, key: str) -> None:
        with self._lock:
            self._keys.add(key)

    def discard(self, key: str) -> None:
        with self._lock:
            self._keys.discard(key)

    def take(self, key: str) -> bool:
        with self._lock:
            if key in self._keys:
                self._keys.remove(key)
                return True
            return False


def item_key(keys: dict[str, Any]) -> str:
    """One string for a DynamoDB key map (attribute-value form), order independent."""
    return repr(sorted((name, repr(value)) for name, value in keys.items()))


@dataclass
class TtlSweeper:
    dynamodb: Any
    table_name: str
    deletions: ServiceDeletions
    interval_seconds: float = 5.0
    ttl_attribute: str = "delete_at"
    key_names: tuple[str, ...] = ("user_id", "connection_id")
    clock: Callable[[], float] = time.time

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval_seconds):
            try:
                self.sweep_once()
            except Exception:
                logger.exception("TTL sweep of %s failed", self.table_name)

    def sweep_once(self) -> int:
        """Delete every expired item; returns how many were deleted."""
        now = int(self.clock())
        deleted = 0
        for item in self._expired(now):
            if self._delete(item):
                deleted += 1
        return deleted

    def _expired(self, now: int) -> list[dict[str, Any]]:
        expired: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "#ttl <= :now",
            "ExpressionAttributeNames": {"#ttl": self.ttl_attribute},
            "ExpressionAttributeValues": {":now": {"N": str(now)}},
            "ConsistentRead": True,
        }
        for _ in range(MAX_SCAN_PAGES):
            page = self.dynamodb.scan(**request)
            expired.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return expired

    def _delete(self, item: dict[str, Any]) -> bool:
        keys: dict[str, Any] = {name: item[name] for name in self.key_names if name in item}
        marker = item_key(keys)
        self.deletions.add(marker)
        try:
            # Only if the item still carries the expiry we read: a refreshed item is kept.
            self.dynamodb.delete_item(
                TableName=self.table_name,
                Key=keys,
                ConditionExpression="#ttl = :seen",
                ExpressionAttributeNames={"#ttl": self.ttl_attribute},
                ExpressionAttributeValues={":seen": item[self.ttl_attribute]},
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            self.deletions.discard(marker)
            return False
        except Exception:
            self.deletions.discard(marker)
            raise
        logger.info("TTL expired %s", marker)
        return True
