"""DynamoDB stream records of the connections table -> connection changes, or the reason why not.

The Lambda event shape is documented at
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (``Records[].dynamodb``). Only the
keys are read, so KEYS_ONLY and NEW_AND_OLD_IMAGES streams are handled the same way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

ChangeKind = Literal["INSERT", "REMOVE"]

# How DynamoDB marks a delete done by TTL expiry rather than by a caller:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html
TTL_PRINCIPAL = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

# The user_id travels as a message attribute, and SQS / SNS refuse characters outside this set
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
# A record whose user_id has one could never be sent: retrying it would block the shard.
_UNSENDABLE = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class ConnectionChange:
    sequence_number: str
    kind: ChangeKind
    user_id: str
    connection_id: str
    # ApproximateCreationDateTime, epoch seconds: the event's timestamp, so consumers can order.
    timestamp: int | float
    expired_by_ttl: bool = False


@dataclass(frozen=True)
class MalformedRecord:
    reason: str
    sequence_number: str | None = None
    event_id: str | None = None


@dataclass
class ParsedBatch:
    changes: list[ConnectionChange] = field(default_factory=list)
    malformed: list[MalformedRecord] = field(default_factory=list)
    ignored_modifies: int = 0


class _Malformed(ValueError):
    pass


def parse_batch(event: object) -> ParsedBatch:
    """Every record of ``event`` in stream order: a change, an ignored MODIFY, or malformed."""
    batch = ParsedBatch()
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        batch.malformed.append(MalformedRecord(reason="event has no Records list"))
        return batch
    for raw in records:
        try:
            change = parse_record(raw)
        except _Malformed as error:
            batch.malformed.append(_malformed(raw, str(error)))
            continue
        if change is None:
            batch.ignored_modifies += 1
        else:
            batch.changes.append(change)
    return batch


def parse_record(raw: object) -> ConnectionChange | None:
    """The change one record describes; None for MODIFY (it changes no connection's existence)."""
    if not isinstance(raw, dict):
        raise _Malformed(f"record is {type(raw).__name__}, not an object")
    event_name = raw.get("eventName")
    if event_name == "MODIFY":
        return None
    if event_name not in ("INSERT", "REMOVE"):
        raise _Malformed(f"unknown eventName {event_name!r}")
    dynamodb = _object(raw, "dynamodb")
    keys = _object(dynamodb, "Keys")
    user_id = _string_key(keys, "user_id")
    if _UNSENDABLE.search(user_id):
        raise _Malformed("Keys.user_id has characters SNS / SQS message attributes cannot carry")
    return ConnectionChange(
        sequence_number=_text(dynamodb, "SequenceNumber"),
        kind=event_name,
        user_id=user_id,
        connection_id=_string_key(keys, "connection_id"),
        timestamp=_epoch_seconds(dynamodb, "ApproximateCreationDateTime"),
        expired_by_ttl=event_name == "REMOVE" and raw.get("userIdentity") == TTL_PRINCIPAL,
    )


def _object(parent: dict[str, Any], name: str) -> dict[str, Any]:
    value = parent.get(name)
    if not isinstance(value, dict):
        raise _Malformed(f"{name} is missing or not an object")
    return value


def _text(parent: dict[str, Any], name: str) -> str:
    value = parent.get(name)
    if not isinstance(value, str) or not value:
        raise _Malformed(f"{name} is missing or not a non-empty string")
    return value


def _string_key(keys: dict[str, Any], name: str) -> str:
    attribute = keys.get(name)
    if not isinstance(attribute, dict) or set(attribute) != {"S"}:
        raise _Malformed(f"Keys.{name} is missing or not a string attribute")
    return _text(attribute, "S")


def _epoch_seconds(parent: dict[str, Any], name: str) -> int | float:
    value = parent.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Malformed(f"{name} is missing or not a number")
    # math.isfinite raises OverflowError on integers beyond a float (10**400): malformed too.
    if value < 0 or (isinstance(value, float) and not math.isfinite(value)) or value > 1e12:
        raise _Malformed(f"{name} is not a finite epoch time")
    return value


def _malformed(raw: object, reason: str) -> MalformedRecord:
    if not isinstance(raw, dict):
        return MalformedRecord(reason=reason)
    dynamodb = raw.get("dynamodb")
    sequence_number = dynamodb.get("SequenceNumber") if isinstance(dynamodb, dict) else None
    event_id = raw.get("eventID")
    return MalformedRecord(
        reason=reason,
        sequence_number=sequence_number if isinstance(sequence_number, str) else None,
        event_id=event_id if isinstance(event_id, str) else None,
    )
