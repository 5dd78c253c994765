"""fanout-job v1 messages (issue 19): tell them from notification requests, parse, build, enqueue.

A broadcast split into K shares travels as K jobs on the notifications queue; a share that
could not reach some connections travels on as a narrowed job naming just those. Both are
``fanout-job`` messages (sumu-contracts): ``"kind": "fanout-job"`` tells a job from a
notification-request, which is a closed object and can never carry ``kind``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sumu_contracts import ContractError, validate

from sumu_pusher.records import InboundRecord, Rejection
from sumu_pusher.targets import Connection

CONTRACT = "fanout-job"
KIND = "fanout-job"
# A narrowed job names at most this many connections (the contract's maxItems): ~80 bytes
# each, so a job stays far below SQS's message size even with 128 KB of data.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
MAX_NARROWED_CONNECTIONS = 1000
# SendMessageBatch takes at most 10 entries.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
SEND_BATCH_LIMIT = 10


@dataclass(frozen=True)
class FanoutJob:
    """One share of a broadcast: a scan segment, or (``connections`` set) a narrowed job."""

    record: InboundRecord
    origin_id: str
    data: Any
    excluded: frozenset[str]
    attempt: int
    segment: int = 0
    total_segments: int = 1
    connections: tuple[Connection, ...] | None = None


def parse_job(record: InboundRecord) -> FanoutJob | Rejection | None:
    """The job in ``record``, a Rejection when it claims to be one and breaks the contract, or
    None when it is no job (the notification-request path takes it)."""
    # Cheap first test: most records are notification requests and never mention the kind.
    if KIND not in record.body or record.source == "unknown":
        return None
    try:
        message = json.loads(record.body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or "kind" not in message:
        return None
    try:
        validate(CONTRACT, message)
    except ContractError as error:
        return Rejection(record, "contract_violation", str(error), error.pointer)
    connections = message.get("connections")
    return FanoutJob(
        record=record,
        origin_id=message["origin_id"],
        data=message["data"],
        excluded=frozenset(message.get("exclude_users") or ()),
        attempt=message["attempt"],
        segment=message.get("segment", 0),
        total_segments=message.get("total_segments", 1),
        connections=None
        if connections is None
        else tuple(
            Connection(c["user_id"], c["connection_id"], c.get("connected_at")) for c in connections
        ),
    )


def segment_body(
    origin_id: str, data: Any, excluded: frozenset[str], segment: int, total: int
) -> str:
    message: dict[str, Any] = {
        "kind": KIND,
        "origin_id": origin_id,
        "data": data,
        "segment": segment,
        "total_segments": total,
        "attempt": 0,
    }
    if excluded:
        message["exclude_users"] = sorted(excluded)
    return _encode(message)


def narrowed_bodies(job: FanoutJob, failed: Sequence[Connection]) -> list[str]:
    """The next attempt of ``job`` for the ``failed`` connections alone, in chunks."""
    bodies = []
    for start in range(0, len(failed), MAX_NARROWED_CONNECTIONS):
        connections = []
        for connection in failed[start : start + MAX_NARROWED_CONNECTIONS]:
            item: dict[str, Any] = {
                "user_id": connection.user_id,
                "connection_id": connection.connection_id,
            }
            if connection.connected_at_ms is not None and connection.connected_at_ms >= 0:
                item["connected_at"] = connection.connected_at_ms
            connections.append(item)
        bodies.append(
            _encode(
                {
                    "kind": KIND,
                    "origin_id": job.origin_id,
                    "data": job.data,
                    "connections": connections,
                    "attempt": job.attempt + 1,
                }
            )
        )
    return bodies


def _encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


async def enqueue(sqs: Any, queue_url: str, bodies: Sequence[str]) -> int:
    """Send ``bodies`` to the queue, 10 per SendMessageBatch; return how many SQS refused
    (after one resend of the refused entries: a batch can fail per entry)."""
    refused = 0
    for start in range(0, len(bodies), SEND_BATCH_LIMIT):
        chunk = list(bodies[start : start + SEND_BATCH_LIMIT])
        for _ in range(2):
            entries = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(chunk)]
            response = await sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            failed = {entry["Id"] for entry in response.get("Failed", ())}
            chunk = [body for index, body in enumerate(chunk) if str(index) in failed]
            if not chunk:
                break
        refused += len(chunk)
    return refused
