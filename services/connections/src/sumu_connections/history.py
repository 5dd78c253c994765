"""Recovery on subscribe (issue 18): replay a channel's history after ``since``, then ack.

The history table is written by sumu-pusher (see its ``history.py``): the head item
(``seq = 0``, ``head`` = the channel's last seq, never expires) and one item per message
(``seq``, ``frame`` = the envelope as posted, ``delete_at``).

The seam: the subscription is written FIRST, then the head and the history are read with
ConsistentRead. The pusher writes a message's history item before it looks up the channel's
subscribers (with ConsistentRead too). So for any message, either its history item was
written before this read (it is replayed) or after it, and then the pusher's lookup, later
still, finds the subscription (it arrives live): no gap. A message can be both (its history
write before the read, its lookup after the subscription write): a duplicate, same seq, at the
seam only. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

HEAD_SEQ = 0
# Items per Query page: a page is at most 1 MB anyway; frames are at most 128 KB.
PAGE_LIMIT = 100


@dataclass(frozen=True)
class Recovery:
    """What a subscribe's ack reports: the channel's head seq, and whether every message after
    ``since`` was replayed (None: no since asked)."""

    seq: int | None
    recovered: bool | None
    frames: tuple[str, ...] = ()


class HistoryReader:
    def __init__(self, client: Any, table_name: str, *, size: int) -> None:
        self._client = client
        self._table_name = table_name
        self._size = size

    def head(self, channel: str) -> int:
        item = self._client.get_item(
            TableName=self._table_name,
            Key={"channel": {"S": channel}, "seq": {"N": str(HEAD_SEQ)}},
            ConsistentRead=True,
            ProjectionExpression="#h",
            ExpressionAttributeNames={"#h": "head"},
        ).get("Item")
        return int(item["head"]["N"]) if item and "N" in item.get("head", {}) else 0

    def recover(self, channel: str, since: int | None) -> Recovery:
        head = self.head(channel)
        if since is None:
            return Recovery(head, None)
        if since == head:
            return Recovery(head, True)
        # since beyond head: the client saw seqs this table never gave (another deployment, a
        # recreated table): it cannot trust its state. Past HISTORY_SIZE: no longer kept.
        if since > head or head - since > self._size:
            return Recovery(head, False)
        frames = self._frames(channel, since, head)
        # Recovered when history still starts right after since; seqs missing further on were
        # taken but not yet written by their publisher: their posts find the subscription.
        if not frames or frames[0][0] != since + 1:
            return Recovery(head, False)
        return Recovery(head, True, tuple(frame for _, frame in frames))

    def _frames(self, channel: str, since: int, head: int) -> list[tuple[int, str]]:
        now = int(time.time())
        arguments: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "#c = :c AND #s BETWEEN :low AND :high",
            "ExpressionAttributeNames": {"#c": "channel", "#s": "seq"},
            "ExpressionAttributeValues": {
                ":c": {"S": channel},
                ":low": {"N": str(since + 1)},
                ":high": {"N": str(head)},
            },
            "ConsistentRead": True,
            "Limit": PAGE_LIMIT,
        }
        frames: list[tuple[int, str]] = []
        # Bounded: head - since <= HISTORY_SIZE items, at least one per page.
        for _ in range(self._size + 1):
            page = self._client.query(**arguments)
            for item in page.get("Items", ()):
                # TTL deletes lazily (within days): an expired item still read is not replayed.
                # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html
                expires = int(item.get("delete_at", {}).get("N", "0"))
                if expires > now and "S" in item.get("frame", {}):
                    frames.append((int(item["seq"]["N"]), item["frame"]["S"]))
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                break
            arguments["ExclusiveStartKey"] = last_key
        return frames
