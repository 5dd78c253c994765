"""The idempotency table (issue 18): which input message claimed each request, and the seqs it
was given.

One item per key (``key`` hash, string): ``id:<request id>`` for a request carrying ``id``,
``message:<input message id>`` for a channel request without one (so that an SQS redelivery or a
Lambda asynchronous retry of the same message finds the seqs it was already given). Attributes:
``claimed_by`` (the input message id), ``seqs`` (map channel -> seq), ``delete_at`` (epoch
seconds, the table's TTL attribute, ``IDEMPOTENCY_TTL_SECONDS`` after the last claim).

Claiming is one conditional UpdateItem: it succeeds when the key is new, expired (TTL deletes
lazily, so ``delete_at`` is compared too), or claimed by this same input message (its retries
proceed: an accepted request that failed half-way is never lost). Anything else is a duplicate.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class Claim:
    """A claim that succeeded, and the seqs this input message was already given (a retry)."""

    key: str
    seqs: dict[str, int] = field(default_factory=dict)


class IdempotencyTable:
    def __init__(self, client: Any, table_name: str, *, ttl_seconds: int) -> None:
        self._client = client
        self._table_name = table_name
        self._ttl_seconds = ttl_seconds
        self.calls = 0

    async def claim(self, key: str, message_id: str) -> Claim | None:
        """Claim ``key`` for ``message_id``; None when another input message holds it."""
        now = int(time.time())
        self.calls += 1
        try:
            answer = await self._client.update_item(
                TableName=self._table_name,
                Key={"key": {"S": key}},
                UpdateExpression="SET #c = :c, #d = :d",
                ConditionExpression="attribute_not_exists(#k) OR #c = :c OR #d < :now",
                ExpressionAttributeNames={"#k": "key", "#c": "claimed_by", "#d": "delete_at"},
                ExpressionAttributeValues={
                    ":c": {"S": message_id},
                    ":d": {"N": str(now + self._ttl_seconds)},
                    ":now": {"N": str(now)},
                },
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        old = answer.get("Attributes") or {}
        if old.get("claimed_by", {}).get("S") != message_id:
            # New, or an expired claim of another message: its seqs are not ours.
            return Claim(key)
        seqs = {
            channel: int(value["N"])
            for channel, value in old.get("seqs", {}).get("M", {}).items()
            if "N" in value
        }
        return Claim(key, seqs)

    async def remember_seqs(self, key: str, seqs: dict[str, int]) -> None:
        """Store the seqs given to the claiming message, before anything is posted."""
        self.calls += 1
        await self._client.update_item(
            TableName=self._table_name,
            Key={"key": {"S": key}},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "seqs"},
            ExpressionAttributeValues={
                ":s": {"M": {channel: {"N": str(seq)} for channel, seq in seqs.items()}}
            },
        )
