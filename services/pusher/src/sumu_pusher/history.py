"""Channel history and positions (issue 18): every channel message gets the next ``seq`` of its
channel and is kept in the history table for the connections function to replay on a subscribe
with ``since``.

The history table (``HISTORY_TABLE_NAME``): ``channel`` (hash, S) / ``seq`` (range, N).

- The head item, ``seq = 0``: ``head`` (N) is the channel's last given seq. It has no
  ``delete_at``: it lives as long as the table (one small item per channel ever published to),
  so a channel's seq never restarts, even once its whole history expired.
- A message item, ``seq >= 1``: ``frame`` (S, the envelope exactly as posted) and ``delete_at``
  (epoch seconds, ``HISTORY_TTL_SECONDS`` after publishing: the table's TTL attribute). Readers
  also compare ``delete_at`` themselves (TTL deletes lazily) and keep only the last
  ``HISTORY_SIZE`` seqs.

A seq comes from one UpdateItem ``ADD head :1`` on the head item (an atomic counter): concurrent
publishers to one channel get distinct, consecutive seqs with no conflict to retry.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.AtomicCounters
The seqs an input message was given are stored in its idempotency item before any post, so a
redelivery of the same message reuses them instead of taking new ones (subscribers would see
the same message twice under two seqs). The order per channel message is: claim (idempotency),
take the seq, then remember it and write the history item, then look up subscribers (strongly
consistent: see subscriptions.py) and post. That order is what makes recovery gapless: see the
connections README.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sumu_pusher.fanout import for_each_bounded
from sumu_pusher.idempotency import Claim, IdempotencyTable
from sumu_pusher.records import NotificationJob, channel_envelope, envelope_id, message_id_of
from sumu_pusher.telemetry import log_event

HEAD_SEQ = 0


class HistoryTable:
    def __init__(self, client: Any, table_name: str, *, ttl_seconds: int) -> None:
        self._client = client
        self._table_name = table_name
        self._ttl_seconds = ttl_seconds
        self.calls = 0

    async def next_seq(self, channel: str) -> int:
        self.calls += 1
        answer = await self._client.update_item(
            TableName=self._table_name,
            Key={"channel": {"S": channel}, "seq": {"N": str(HEAD_SEQ)}},
            UpdateExpression="ADD #h :one",
            ExpressionAttributeNames={"#h": "head"},
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["head"]["N"])

    async def record(self, channel: str, seq: int, frame: bytes) -> None:
        # Unconditional: a retry writes the same frame under the same seq again.
        self.calls += 1
        await self._client.put_item(
            TableName=self._table_name,
            Item={
                "channel": {"S": channel},
                "seq": {"N": str(seq)},
                "frame": {"S": frame.decode("utf-8")},
                "delete_at": {"N": str(int(time.time()) + self._ttl_seconds)},
            },
        )


@dataclass
class Admission:
    """What the history and idempotency steps made of a batch's jobs."""

    deliver: list[NotificationJob] = field(default_factory=list)
    # Jobs whose claim, seq or history write failed: retried whole by their source.
    failed: list[tuple[NotificationJob, str]] = field(default_factory=list)
    duplicates: int = 0


def claim_key(job: NotificationJob, *, history: bool) -> str | None:
    """The idempotency key of a job: its request id, else (channel requests with history) its
    input message, so that its redeliveries find their seqs; else none (no claim)."""
    if job.request_id is not None:
        return "id:" + job.request_id
    if history and job.channel_payloads:
        return "message:" + message_id_of(job.record)
    return None


async def admit(
    jobs: Sequence[NotificationJob],
    history: HistoryTable | None,
    idempotency: IdempotencyTable | None,
    concurrency: int,
) -> Admission:
    """Drop duplicate requests, give channel messages their seqs and write their history."""
    admission = Admission()
    kept: dict[int, NotificationJob] = {}

    async def one(job: NotificationJob) -> None:
        try:
            outcome = await _admit_one(job, history, idempotency)
        except Exception as error:  # noqa: BLE001 - this request is retried, not the batch
            log_event(
                "ERROR",
                "history or idempotency write failed; the request will be retried",
                message_id=job.record.message_id,
                error=repr(error),
            )
            admission.failed.append((job, f"history or idempotency write failed: {error!r}"))
            return
        if outcome is None:
            admission.duplicates += 1
            log_event(
                "INFO",
                "duplicate request dropped: its id was already accepted from another message",
                request_id=job.request_id,
                message_id=job.record.message_id,
                event_source=job.record.source,
            )
        else:
            kept[job.record.position] = outcome

    if history is None and idempotency is None:
        admission.deliver = list(jobs)
        return admission
    await for_each_bounded(jobs, concurrency, one)
    admission.deliver = [job for job in jobs if job.record.position in kept]
    admission.deliver = [kept[job.record.position] for job in admission.deliver]
    return admission


async def _admit_one(
    job: NotificationJob, history: HistoryTable | None, idempotency: IdempotencyTable | None
) -> NotificationJob | None:
    key = claim_key(job, history=history is not None)
    claim: Claim | None = Claim(key) if key is not None else None
    if key is not None and idempotency is not None:
        claim = await idempotency.claim(key, message_id_of(job.record))
        if claim is None:
            return None
    if history is None or not job.channel_payloads:
        return job
    seqs = dict(claim.seqs) if claim is not None else {}
    missing = [channel for channel in job.channels if channel not in seqs]
    if missing:
        taken = await asyncio.gather(*(history.next_seq(channel) for channel in missing))
        seqs.update(zip(missing, taken, strict=True))
    identifier = envelope_id(job)
    payloads = tuple(
        (channel, channel_envelope(channel, identifier, job.payload, seqs[channel]))
        for channel in job.channels
    )
    writes = [history.record(channel, seqs[channel], frame) for channel, frame in payloads]
    if missing and claim is not None and idempotency is not None:
        writes.append(idempotency.remember_seqs(claim.key, seqs))
    await asyncio.gather(*writes)
    return replace(job, channel_payloads=payloads)
