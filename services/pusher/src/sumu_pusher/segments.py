"""Broadcasts across invocations (issue 19): split into K scan-segment jobs, run one job.

- **Split.** A broadcast or all-but request (no ``users``, no ``channels``) becomes K fanout-job
  messages on the notifications queue, one per DynamoDB parallel-scan segment
  (``Segment``/``TotalSegments``), each run by its own pusher invocation, so K invocations post
  side by side. K = ``PUSHER_BROADCAST_SEGMENTS``: a number, or ``auto`` (one job per
  ``ITEMS_PER_JOB`` items of DescribeTable's ItemCount, cached like the scan segments), so a
  small table stays in one invocation with no extra hop. The request completes once its K jobs
  are enqueued.
- **Run.** A job streams its segment's scan pages into the bounded posting pool as it reads them
  (memory O(page + pool), never the segment).
- **Retry only what failed.** Connections that failed with retryable errors (retries exhausted)
  go on as a narrowed job naming them alone, ``attempt`` + 1; the job's own record then
  completes. Past ``PUSHER_JOB_MAX_ATTEMPTS`` the narrowed job is dead-lettered with its reason.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from sumu_pusher.jobs import FanoutJob, enqueue, narrowed_bodies, parse_job, segment_body
from sumu_pusher.management_api import PostResult, post_to_connection
from sumu_pusher.records import MAX_POST_BYTES, InboundRecord, NotificationJob, Rejection
from sumu_pusher.settings import Settings, SettingsError
from sumu_pusher.store import ConnectionsTable
from sumu_pusher.targets import Connection
from sumu_pusher.telemetry import InvocationFigures, log_event

Item = TypeVar("Item")

# auto: one job per this many connections. At the ~2,000 posts/s one invocation reaches on AWS
# (issue 19) a job posts for about 10 s: far inside a Lambda timeout, small enough to retry.
ITEMS_PER_JOB = 20_000
MAX_BROADCAST_SEGMENTS = 1000
# A job reads its segment in pages of at most this many items (Scan's Limit): memory then stays
# one small page whatever the segment's size (a 1 MB page is ~4,000-7,000 items, tens of MB as
# Python objects). The read units are the same (they count bytes, not calls); at ~2,000 posts/s
# a page is half a second of posting, so its read hides behind the posts still in flight.
JOB_PAGE_ITEMS = 1000
DEFAULT_JOB_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class FanoutSettings:
    """``NOTIFICATIONS_QUEUE_URL`` unset: no splitting (jobs that arrive still run)."""

    queue_url: str | None = None
    segments: int | None = None  # None = auto
    job_max_attempts: int = DEFAULT_JOB_MAX_ATTEMPTS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> FanoutSettings:
        return _parse(
            environ.get("NOTIFICATIONS_QUEUE_URL", "").strip(),
            environ.get("PUSHER_BROADCAST_SEGMENTS", "").strip() or "auto",
            environ.get("PUSHER_JOB_MAX_ATTEMPTS", "").strip(),
        )


@lru_cache(maxsize=4)
def _parse(queue_url: str, segments: str, attempts: str) -> FanoutSettings:
    def integer(name: str, text: str, low: int, high: int) -> int:
        try:
            value = int(text)
        except ValueError:
            raise SettingsError(f"{name} must be an integer, got {text!r}") from None
        if not low <= value <= high:
            raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
        return value

    return FanoutSettings(
        queue_url=queue_url or None,
        segments=None
        if segments == "auto"
        else integer("PUSHER_BROADCAST_SEGMENTS", segments, 1, MAX_BROADCAST_SEGMENTS),
        job_max_attempts=integer("PUSHER_JOB_MAX_ATTEMPTS", attempts, 1, 100)
        if attempts
        else DEFAULT_JOB_MAX_ATTEMPTS,
    )


def fanout_settings() -> FanoutSettings:
    return FanoutSettings.from_env(os.environ)


def broadcast_segments_for(item_count: int) -> int:
    return max(1, min(MAX_BROADCAST_SEGMENTS, math.ceil(item_count / ITEMS_PER_JOB)))


async def split_broadcasts(
    jobs: Iterable[NotificationJob], table: ConnectionsTable, sqs: Any, fanout: FanoutSettings
) -> tuple[set[int], list[InboundRecord]]:
    """Enqueue K segment jobs for each broadcast when K > 1.

    Returns (positions of the records now served by their jobs, records to retry because SQS
    refused some of their jobs). A retried record re-enqueues all K: the jobs that did go out
    run twice (at-least-once; see the README)."""
    broadcasts = [job for job in jobs if job.broadcast and not job.empty_audience]
    if fanout.queue_url is None or not broadcasts:
        return set(), []
    total = fanout.segments or await _auto_segments(table)
    if total == 1:
        return set(), []
    served: set[int] = set()
    retry: list[InboundRecord] = []
    for job in broadcasts:
        origin_id = job.record.message_id or f"record-{job.record.position}"
        data = json.loads(job.payload)
        bodies = [
            segment_body(origin_id, data, job.excluded, segment, total) for segment in range(total)
        ]
        try:
            refused = await enqueue(sqs, fanout.queue_url, bodies)
        except Exception as error:  # noqa: BLE001 - this request is retried whole
            refused, reason = len(bodies), repr(error)
        else:
            reason = f"SQS refused {refused} of {total} jobs"
        if refused:
            log_event("ERROR", "broadcast split failed", origin_id=origin_id, error=reason)
            retry.append(job.record)
        else:
            served.add(job.record.position)
            log_event("INFO", "broadcast split into jobs", origin_id=origin_id, jobs=total)
    return served, retry


async def _auto_segments(table: ConnectionsTable) -> int:
    try:
        return broadcast_segments_for(await table.item_count())
    except Exception as error:  # noqa: BLE001 - unsplit still delivers: fall back to one
        log_event("WARN", "table size unknown; the broadcast is not split", error=repr(error))
        return 1


@dataclass
class JobRun:
    """What running the jobs of a batch came to."""

    done: set[int] = field(default_factory=set)  # record positions complete
    rejections: list[Rejection] = field(default_factory=list)
    gone: list[Connection] = field(default_factory=list)
    forbidden: str = ""


async def for_each_bounded_stream(
    pages: AsyncIterator[list[Item]], limit: int, action: Callable[[Item], Awaitable[None]]
) -> None:
    """``fanout.for_each_bounded`` over pages read lazily: the next page is read only once
    every item of this one holds a slot, so memory is one page plus ``limit`` tasks."""
    semaphore = asyncio.Semaphore(limit)

    async def run(item: Item) -> None:
        try:
            await action(item)
        finally:
            semaphore.release()

    async with asyncio.TaskGroup() as group:
        iterator = aiter(pages)
        for _ in range(10_000_000):  # bounded: ends when the pages do
            page = await anext(iterator, None)
            if page is None:
                return
            for item in page:
                await semaphore.acquire()
                group.create_task(run(item))
            # Not alive while the next page is read: one page in memory, not two.
            del page


@dataclass
class JobIntake:
    """The records of a batch that are fanout jobs (valid, or claiming to be and invalid)."""

    jobs: list[FanoutJob] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def others(self, records: Iterable[InboundRecord]) -> list[InboundRecord]:
        """The records that are no job: notification requests (or garbage) for ``records``."""
        taken = self.positions
        return [record for record in records if record.position not in taken]

    @property
    def positions(self) -> set[int]:
        return {j.record.position for j in self.jobs} | {r.record.position for r in self.rejections}

    def unfinished(self, run: JobRun) -> list[InboundRecord]:
        """Jobs neither complete nor dead-lettered: their source runs them again, whole."""
        rejected = {rejection.record.position for rejection in run.rejections}
        return [
            job.record
            for job in self.jobs
            if job.record.position not in run.done and job.record.position not in rejected
        ]


def take_jobs(records: Iterable[InboundRecord]) -> JobIntake:
    intake = JobIntake()
    for record in records:
        parsed = parse_job(record)
        if isinstance(parsed, FanoutJob):
            intake.jobs.append(parsed)
        elif isinstance(parsed, Rejection):
            intake.rejections.append(parsed)
    return intake


async def run_jobs(
    jobs: Iterable[FanoutJob],
    *,
    table: ConnectionsTable,
    management_api: Any,
    sqs: Any,
    settings: Settings,
    fanout: FanoutSettings,
    figures: InvocationFigures,
    outcome: JobRun,
) -> None:
    """Run each job in turn (a batch of jobs shares the posting pool's size, one at a time)."""
    for job in jobs:
        if outcome.forbidden:
            return
        await _run_job(job, table, management_api, sqs, settings, fanout, figures, outcome)


async def _run_job(  # noqa: PLR0917 - the adapters of one job, passed through
    job: FanoutJob,
    table: ConnectionsTable,
    management_api: Any,
    sqs: Any,
    settings: Settings,
    fanout: FanoutSettings,
    figures: InvocationFigures,
    outcome: JobRun,
) -> None:
    payload = json.dumps(job.data, ensure_ascii=False, separators=(",", ":")).encode()
    if len(payload) > MAX_POST_BYTES:
        outcome.rejections.append(
            Rejection(job.record, "payload_too_large", "data over 128 KB", "/data")
        )
        return
    failed: list[Connection] = []
    stop: list[str] = []  # a rejection or 403: stop drawing posts

    async def pages() -> AsyncIterator[list[Connection]]:
        source: AsyncIterator[list[Connection]]
        if job.connections is not None:
            source = _one_page(list(job.connections))
        else:
            source = table.scan_pages(job.segment, job.total_segments, JOB_PAGE_ITEMS)
        async for page in source:
            if stop:
                return
            targets = [c for c in page if c.user_id not in job.excluded]
            del page
            figures.connections_targeted += len(targets)
            yield targets
            del targets

    async def post(connection: Connection) -> None:
        if stop:
            return
        result = await post_to_connection(
            management_api, connection.connection_id, payload, settings.retry
        )
        figures.retried += result.retries
        if result.result is PostResult.DELIVERED:
            figures.delivered += 1
        elif result.result is PostResult.GONE:
            figures.gone += 1
            outcome.gone.append(connection)
        elif result.result is PostResult.FORBIDDEN:
            figures.failed += 1
            outcome.forbidden = outcome.forbidden or result.detail
            stop.append("forbidden")
        elif result.result is PostResult.REJECTED:
            figures.rejected += 1
            if not stop:
                stop.append(f"the management API refused the post: {result.detail}")
        else:
            figures.failed += 1
            failed.append(connection)

    try:
        await for_each_bounded_stream(pages(), settings.concurrency, post)
    except Exception as error:  # noqa: BLE001 - the scan failed: the job is retried whole
        log_event("ERROR", "fan-out job failed", **_fields(job), error=repr(error))
        return
    if outcome.forbidden:
        return
    if stop:
        outcome.rejections.append(Rejection(job.record, "undeliverable", stop[0], "/data"))
        return
    if failed:
        await _narrow(job, failed, sqs, fanout, outcome)
        return
    outcome.done.add(job.record.position)


async def _narrow(
    job: FanoutJob,
    failed: list[Connection],
    sqs: Any,
    fanout: FanoutSettings,
    outcome: JobRun,
) -> None:
    bodies = narrowed_bodies(job, failed)
    if job.attempt + 1 >= fanout.job_max_attempts or fanout.queue_url is None:
        # Past the limit (or nowhere to re-enqueue): each narrowed job goes to the DLQ with the
        # reason, so a redrive after the cause is fixed reaches exactly these connections.
        why = (
            f"{len(failed)} connections still failing after {job.attempt + 1} attempts"
            if fanout.queue_url
            else "NOTIFICATIONS_QUEUE_URL is not set: the narrowed job cannot be re-enqueued"
        )
        outcome.rejections.extend(
            Rejection(
                InboundRecord(job.record.position, "aws:sqs", job.record.message_id, body),
                "retries_exhausted",
                why,
            )
            for body in bodies
        )
        log_event("WARN", "narrowed job dead-lettered", **_fields(job), connections=len(failed))
        return
    try:
        refused = await enqueue(sqs, fanout.queue_url, bodies)
    except Exception as error:  # noqa: BLE001 - the job is retried whole by its source
        log_event("ERROR", "narrowed job not enqueued", **_fields(job), error=repr(error))
        return
    if refused:
        log_event("ERROR", "narrowed job not enqueued", **_fields(job), refused=refused)
        return
    log_event(
        "INFO",
        "narrowed job enqueued for the failed connections",
        **_fields(job),
        connections=len(failed),
        next_attempt=job.attempt + 1,
    )
    outcome.done.add(job.record.position)


async def _one_page(connections: list[Connection]) -> AsyncIterator[list[Connection]]:
    yield connections


def _fields(job: FanoutJob) -> dict[str, Any]:
    return {
        "origin_id": job.origin_id,
        "message_id": job.record.message_id,
        "segment": job.segment,
        "total_segments": job.total_segments,
        "narrowed": job.connections is not None,
        "attempt": job.attempt,
    }
