"""fanout-job v1 messages (issue 19): tell them from notification requests, parse, build, enqueue.

A broadcast split into K shares travels as K jobs on the notifications queue; a large channel
delivery as jobs naming its subscribers; a share that could not reach some connections travels
on as a narrowed job naming just those; a job stopped at its deadline as a continuation (its
unserved connections, and its scan segment resumed after ``exclusive_start_key``). All are
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
# A job names at most this many connections (the contract's maxItems).
MAX_NARROWED_CONNECTIONS = 1000
# ... and its body stays under this many bytes (UTF-8, measured): SNS and, until 2025, SQS took
# at most 256 KiB per message; 64 KiB of headroom is left for what the queue adds (attributes, an
# SNS envelope on a topic subscription) and for the counted JSON itself. Measured: with 128 KiB
# of data a job names ~535 connections of ~120 bytes (a 41-character user id, a connection id,
# connected_at), instead of 1,000 (~120 KiB) on top of it; with data under 64 KiB, 1,000.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
MAX_JOB_BODY_BYTES = 192 * 1024
# SendMessageBatch takes at most 10 entries.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
SEND_BATCH_LIMIT = 10
# ... and the sum of its messages' lengths is bounded too: 256 KiB until 2025 (262,144 bytes), the
# figure every queue still accepts (moto and, since the 2025 raise, AWS take up to 1 MiB). Jobs
# of 192 KiB therefore go one per call; small jobs still ten per call.
SEND_BATCH_BYTES = 256 * 1024


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
    # A continued segment: the scan resumes after this key (``exclusive_start_key``).
    start_key: tuple[str, str] | None = None

    def dynamodb_start_key(self) -> dict[str, Any] | None:
        """``start_key`` as Scan's ExclusiveStartKey (the connections table's key)."""
        if self.start_key is None:
            return None
        user_id, connection_id = self.start_key
        return {"user_id": {"S": user_id}, "connection_id": {"S": connection_id}}


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
    start = message.get("exclusive_start_key")
    if start is not None and connections is not None:
        # The schema cannot say it without touching its oneOf (check-compat would refuse it).
        return Rejection(
            record,
            "contract_violation",
            "fanout-job: exclusive_start_key continues a scan segment; a job naming connections "
            "has no scan to continue",
            "/exclusive_start_key",
        )
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
        start_key=None if start is None else (start["user_id"], start["connection_id"]),
    )


def segment_body(
    origin_id: str,
    data: Any,
    excluded: frozenset[str],
    segment: int,
    total: int,
    *,
    attempt: int = 0,
    start_key: tuple[str, str] | None = None,
) -> str:
    message: dict[str, Any] = {
        "kind": KIND,
        "origin_id": origin_id,
        "data": data,
        "segment": segment,
        "total_segments": total,
        "attempt": attempt,
    }
    if start_key is not None:
        message["exclusive_start_key"] = {"user_id": start_key[0], "connection_id": start_key[1]}
    if excluded:
        message["exclude_users"] = sorted(excluded)
    return _encode(message)


def narrowed_bodies(job: FanoutJob, failed: Sequence[Connection]) -> list[str]:
    """The next attempt of ``job`` for the ``failed`` connections alone, in chunks."""
    return list_bodies(job.origin_id, job.data, failed, attempt=job.attempt + 1)


def list_bodies(
    origin_id: str,
    data: Any,
    connections: Sequence[Connection],
    *,
    attempt: int,
    max_bytes: int = MAX_JOB_BODY_BYTES,
    max_connections: int = MAX_NARROWED_CONNECTIONS,
) -> list[str]:
    """Jobs naming ``connections``, each at most ``max_connections`` of them and at most
    ``max_bytes`` long (measured as UTF-8, so wide user ids or data cannot push a job past the
    queue's limit). Raises ValueError when ``data`` alone leaves no room for one connection."""
    base = {"kind": KIND, "origin_id": origin_id, "data": data, "connections": [], "attempt": 0}
    # The attempt's digits may grow from 1 to 3; the rest of the envelope is counted exactly.
    base_bytes = len(_encode(base).encode()) + 2
    bodies: list[str] = []
    chunk: list[dict[str, Any]] = []
    size = base_bytes
    for connection in connections:
        item = _connection_item(connection)
        item_bytes = len(_encode(item).encode()) + 1  # and its comma
        if base_bytes + item_bytes > max_bytes:
            raise ValueError(
                f"a job with this data and connection {connection.connection_id!r} would be "
                f"{base_bytes + item_bytes} bytes, over {max_bytes}"
            )
        if len(chunk) >= max_connections or size + item_bytes > max_bytes:
            bodies.append(_encode({**base, "connections": chunk, "attempt": attempt}))
            chunk, size = [], base_bytes
        chunk.append(item)
        size += item_bytes
    if chunk:
        bodies.append(_encode({**base, "connections": chunk, "attempt": attempt}))
    return bodies


def _connection_item(connection: Connection) -> dict[str, Any]:
    item: dict[str, Any] = {
        "user_id": connection.user_id,
        "connection_id": connection.connection_id,
    }
    if connection.connected_at_ms is not None and connection.connected_at_ms >= 0:
        item["connected_at"] = connection.connected_at_ms
    return item


def _encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


async def enqueue(sqs: Any, queue_url: str, bodies: Sequence[str]) -> int:
    """Send ``bodies`` to the queue, at most 10 and SEND_BATCH_BYTES per SendMessageBatch;
    return how many SQS refused (after one resend of the refused entries: a batch can fail per
    entry)."""
    refused = 0
    for batch in send_batches(bodies):
        chunk = batch
        for _ in range(2):
            entries = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(chunk)]
            response = await sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            failed = {entry["Id"] for entry in response.get("Failed", ())}
            chunk = [body for index, body in enumerate(chunk) if str(index) in failed]
            if not chunk:
                break
        refused += len(chunk)
    return refused


def send_batches(bodies: Sequence[str]) -> list[list[str]]:
    """``bodies`` in order, grouped for SendMessageBatch: at most SEND_BATCH_LIMIT entries whose
    UTF-8 lengths add up to at most SEND_BATCH_BYTES (a body over it goes alone)."""
    batches: list[list[str]] = []
    size = 0
    for body in bodies:
        length = len(body.encode())
        if not batches or len(batches[-1]) >= SEND_BATCH_LIMIT or size + length > SEND_BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(body)
        size += length
    return batches
