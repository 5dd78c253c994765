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
- **Deadlines.** A job stops starting posts before its Lambda deadline (``job_deadline``), lets
  the posts in flight finish, and enqueues a continuation naming exactly what it has not served
  (its current page's unreached connections, and its segment resumed after the page's
  LastEvaluatedKey); its record completes only after that. A continuation keeps ``attempt``.
- **Channels.** A channel with more subscribers than ``PUSHER_CHANNEL_SPLIT_SUBSCRIBERS`` goes
  out as jobs naming its subscribers page by page, each carrying the envelope (with its seq)
  built once by the invocation that took the request (``split_channels``).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError

from sumu_pusher.fanout import for_each_bounded
from sumu_pusher.jobs import (
    MAX_NARROWED_CONNECTIONS,
    FanoutJob,
    enqueue,
    list_bodies,
    narrowed_bodies,
    parse_job,
    segment_body,
)
from sumu_pusher.management_api import PostOutcome, PostResult, post_to_connection
from sumu_pusher.records import MAX_POST_BYTES, InboundRecord, NotificationJob, Rejection
from sumu_pusher.settings import Settings, SettingsError
from sumu_pusher.store import ConnectionsTable
from sumu_pusher.targets import Connection
from sumu_pusher.telemetry import InvocationFigures, log_event

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
MAX_CHANNEL_SPLIT = 10_000_000
# A job stops starting posts this long before it must have enqueued its continuation (on top of
# one post's timeout, which the posts in flight get to finish): a SendMessageBatch of a few
# continuation messages takes tens of milliseconds; a second covers a slow one and its resend.
JOB_ENQUEUE_RESERVE_S = 1.0
# Channels of a batch whose subscribers are paged at once (each holds up to the threshold).
CHANNEL_QUERY_CONCURRENCY = 8
# run_jobs without a Lambda deadline (a caller outside Lambda, the benchmark): about a day.
NO_DEADLINE_S = 86_400.0


@dataclass(frozen=True)
class FanoutSettings:
    """``NOTIFICATIONS_QUEUE_URL`` unset: no splitting (jobs that arrive still run)."""

    queue_url: str | None = None
    segments: int | None = None  # None = auto
    job_max_attempts: int = DEFAULT_JOB_MAX_ATTEMPTS
    # A channel with more subscribers than this goes out as jobs (None = auto: ITEMS_PER_JOB).
    channel_split_subscribers: int | None = None
    page_items: int = JOB_PAGE_ITEMS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> FanoutSettings:
        return _parse(
            environ.get("NOTIFICATIONS_QUEUE_URL", "").strip(),
            environ.get("PUSHER_BROADCAST_SEGMENTS", "").strip() or "auto",
            environ.get("PUSHER_JOB_MAX_ATTEMPTS", "").strip(),
            environ.get("PUSHER_CHANNEL_SPLIT_SUBSCRIBERS", "").strip() or "auto",
            environ.get("PUSHER_JOB_PAGE_ITEMS", "").strip(),
        )

    @property
    def channel_threshold(self) -> int:
        if self.channel_split_subscribers is None:
            return ITEMS_PER_JOB
        return self.channel_split_subscribers


@lru_cache(maxsize=4)
def _parse(
    queue_url: str, segments: str, attempts: str, channel_split: str, page_items: str
) -> FanoutSettings:
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
        channel_split_subscribers=None
        if channel_split == "auto"
        else integer("PUSHER_CHANNEL_SPLIT_SUBSCRIBERS", channel_split, 0, MAX_CHANNEL_SPLIT),
        page_items=integer("PUSHER_JOB_PAGE_ITEMS", page_items, 1, JOB_PAGE_ITEMS)
        if page_items
        else JOB_PAGE_ITEMS,
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
class ChannelSplit:
    """What ``split_channels`` made of the channels of a batch."""

    # Channels posted in this invocation (at most the threshold of subscribers): who they are.
    subscribers: dict[str, list[Connection]] = field(default_factory=dict)
    # Channels whose subscribers Query failed before any job went out (nothing of them posted).
    failed: set[str] = field(default_factory=set)
    # Per record position, the channels of that request now served by jobs.
    split: dict[int, set[str]] = field(default_factory=dict)
    # Records whose jobs could not all be enqueued: retried whole.
    retry: dict[int, InboundRecord] = field(default_factory=dict)


async def split_channels(
    jobs: Sequence[NotificationJob],
    subscriptions: Any,
    sqs: Any,
    fanout: FanoutSettings,
    concurrency: int,
) -> ChannelSplit:
    """Look up the subscribers of every channel the batch names, one Query page at a time.

    A channel with at most ``fanout.channel_threshold`` subscribers is handed back to be posted
    here, as before (no extra hop). Past the threshold, the channel goes out as jobs for every
    request naming it: each job names at most one page of subscribers (the request's excluded
    users left out) and carries that request's envelope for that channel, built once with its
    seq by the history step, so every job posts the same bytes. A (channel, connection) pair
    is in exactly one page of one Query, so it is in exactly one job: a connection in several
    of a request's channels gets one envelope per channel, as in one invocation."""
    result = ChannelSplit()
    naming: dict[str, list[NotificationJob]] = {}
    for job in jobs:
        for channel in job.channels:
            naming.setdefault(channel, []).append(job)

    async def one(channel: str) -> None:
        buffered: list[Connection] = []
        split = False
        try:
            async for page in subscriptions.subscriber_pages(channel, fanout.page_items):
                buffered.extend(page)
                del page
                if not split and len(buffered) > fanout.channel_threshold:
                    split = True
                if split:
                    await _enqueue_channel_share(
                        channel,
                        naming[channel],
                        connections=buffered,
                        sqs=sqs,
                        fanout=fanout,
                        result=result,
                    )
                    buffered = []
        except Exception as error:  # noqa: BLE001 - only the requests naming this channel wait
            log_event("ERROR", "subscribers query failed", channel=channel, error=repr(error))
            if not split:
                result.failed.add(channel)
                return
            # Some jobs went out: the requests are retried whole (those jobs run again).
            for job in naming[channel]:
                result.retry[job.record.position] = job.record
            return
        if split:
            for job in naming[channel]:
                result.split.setdefault(job.record.position, set()).add(channel)
            log_event("INFO", "channel delivery split into jobs", channel=channel)
        else:
            result.subscribers[channel] = buffered

    await for_each_bounded(naming, min(concurrency, CHANNEL_QUERY_CONCURRENCY), one)
    return result


async def _enqueue_channel_share(
    channel: str,
    jobs: Sequence[NotificationJob],
    *,
    connections: Sequence[Connection],
    sqs: Any,
    fanout: FanoutSettings,
    result: ChannelSplit,
) -> None:
    queue_url = fanout.queue_url or ""  # split_channels runs only with a queue
    for job in jobs:
        if job.record.position in result.retry:
            continue
        targets = [c for c in connections if c.user_id not in job.excluded]
        if not targets:
            continue
        envelope = dict(job.channel_payloads)[channel]
        origin_id = job.record.message_id or f"record-{job.record.position}"
        try:
            # The envelope as JSON data: the job posts it re-encoded compactly, the same bytes.
            bodies = list_bodies(
                origin_id,
                json.loads(envelope),
                targets,
                attempt=0,
                max_connections=min(fanout.page_items, MAX_NARROWED_CONNECTIONS),
            )
            refused = await enqueue(sqs, queue_url, bodies)
        except Exception as error:  # noqa: BLE001 - this request is retried whole
            refused, reason = 1, repr(error)
        else:
            reason = f"SQS refused {refused} of {len(bodies)} jobs"
        if refused:
            log_event(
                "ERROR", "channel split failed", origin_id=origin_id, channel=channel, error=reason
            )
            result.retry[job.record.position] = job.record


@dataclass
class JobRun:
    """What running the jobs of a batch came to."""

    done: set[int] = field(default_factory=set)  # record positions complete
    rejections: list[Rejection] = field(default_factory=list)
    gone: list[Connection] = field(default_factory=list)
    forbidden: str = ""


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


@dataclass(frozen=True)
class JobDeadline:
    """A job's times on the event loop's clock (see ``job_deadline``)."""

    stop_posts_at: float
    cut_at: float
    enqueue_by: float


def job_deadline(end: float, settings: Settings) -> JobDeadline:
    """``end``: when the Lambda times out (context.get_remaining_time_in_millis(), on the loop
    clock). The continuation must be enqueued before the safety margin (kept for pruning and
    dead-lettering); posts still in flight get one post timeout before that, less the enqueue
    reserve; no post starts after that. Posts still running at ``cut_at`` (a post in its
    retries) are cancelled and go into the continuation: their outcome is unknown, which is
    where a duplicate can still come from (README, "Deadlines")."""
    enqueue_by = end - settings.safety_margin_s
    cut_at = enqueue_by - JOB_ENQUEUE_RESERVE_S
    return JobDeadline(cut_at - settings.post_timeout_s, cut_at, enqueue_by)


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
    end: float | None = None,
) -> None:
    """Run each job in turn (a batch of jobs shares the posting pool's size, one at a time).
    ``end`` (loop clock): the Lambda's timeout; None: no deadline (a caller outside Lambda)."""
    loop = asyncio.get_running_loop()
    deadline = job_deadline(loop.time() + NO_DEADLINE_S if end is None else end, settings)
    context = _JobContext(table, management_api, sqs, settings, fanout, figures, outcome, deadline)
    for job in jobs:
        # A job not started is returned whole to its source: nothing of it was posted.
        if outcome.forbidden or loop.time() >= deadline.stop_posts_at:
            return
        await _run_job(job, context)


@dataclass(frozen=True)
class _JobContext:
    table: ConnectionsTable
    management_api: Any
    sqs: Any
    settings: Settings
    fanout: FanoutSettings
    figures: InvocationFigures
    outcome: JobRun
    deadline: JobDeadline


@dataclass
class _Progress:
    """Where one job stands: what is drawn and not yet served, where its scan resumes."""

    position: tuple[str, str] | None  # the scan resumes after this key (None: at its start)
    # Connections drawn from the pages read (the current one, and posts in flight from the one
    # before) that are neither served nor failed yet: a continuation names them.
    pending: dict[str, Connection] = field(default_factory=dict)
    failed: list[Connection] = field(default_factory=list)
    settled: int = 0
    pages: int = 0
    exhausted: bool = False  # no page left to read
    stop: str = ""  # a rejection (413/4xx) or a 403: draw no more posts

    def settle(self, connection: Connection) -> None:
        self.pending.pop(connection.connection_id, None)
        self.settled += 1


async def _run_job(job: FanoutJob, context: _JobContext) -> None:
    outcome, figures = context.outcome, context.figures
    payload = json.dumps(job.data, ensure_ascii=False, separators=(",", ":")).encode()
    if len(payload) > MAX_POST_BYTES:
        outcome.rejections.append(
            Rejection(job.record, "payload_too_large", "data over 128 KB", "/data")
        )
        return
    loop = asyncio.get_running_loop()
    progress = _Progress(position=job.start_key)
    semaphore = asyncio.Semaphore(context.settings.concurrency)
    in_flight: set[asyncio.Task[None]] = set()

    async def post(connection: Connection) -> None:
        try:
            result = await post_to_connection(
                context.management_api, connection.connection_id, payload, context.settings.retry
            )
        finally:
            semaphore.release()
        _record(result, connection, progress, figures, outcome)

    async def draw(connections: Iterable[Connection]) -> None:
        targets = {c.connection_id: c for c in connections if c.user_id not in job.excluded}
        figures.connections_targeted += len(targets)
        # Listed before any post starts: whatever the deadline leaves unstarted is in pending.
        progress.pending.update(targets)
        for connection in targets.values():
            if progress.stop:
                return
            await semaphore.acquire()
            task = loop.create_task(post(connection))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)

    async def dispatch() -> None:
        if job.connections is not None:
            await draw(job.connections)
            progress.exhausted = True
            return
        for _ in range(10_000_000):  # bounded: a page holds at least one item or ends the scan
            page, last_key = await context.table.scan_page(
                job.segment, job.total_segments, context.fanout.page_items, progress.position
            )
            # From here the page is read: its connections are pending until served.
            progress.pages += 1
            progress.position, progress.exhausted = last_key, last_key is None
            await draw(page)
            del page
            if progress.exhausted or progress.stop:
                return

    scan_error: Exception | None = None
    try:
        async with asyncio.timeout_at(context.deadline.stop_posts_at) as timer:
            await dispatch()
    except TimeoutError as error:
        if not timer.expired():
            scan_error = error
    except Exception as error:  # noqa: BLE001 - the scan failed: what was served stays served
        scan_error = error
    await _let_finish(in_flight, context.deadline.cut_at - loop.time())
    await _conclude(job, progress, scan_error, context)


def _record(
    result: PostOutcome,
    connection: Connection,
    progress: _Progress,
    figures: InvocationFigures,
    outcome: JobRun,
) -> None:
    figures.retried += result.retries
    if result.result is PostResult.DELIVERED:
        figures.delivered += 1
        progress.settle(connection)
    elif result.result is PostResult.GONE:
        figures.gone += 1
        progress.settle(connection)
        outcome.gone.append(connection)
    elif result.result is PostResult.FORBIDDEN:
        figures.failed += 1
        outcome.forbidden = outcome.forbidden or result.detail
        progress.stop = progress.stop or "forbidden"
    elif result.result is PostResult.REJECTED:
        figures.rejected += 1
        progress.stop = progress.stop or f"the management API refused the post: {result.detail}"
    else:
        figures.failed += 1
        progress.pending.pop(connection.connection_id, None)
        progress.failed.append(connection)


async def _let_finish(tasks: set[asyncio.Task[None]], seconds: float) -> None:
    """Posts in flight get ``seconds`` to finish; the rest are cancelled (their connections stay
    pending, so the continuation names them)."""
    if not tasks:
        return
    _, late = await asyncio.wait(set(tasks), timeout=max(0.0, seconds))
    for task in late:
        task.cancel()
    if late:
        await asyncio.gather(*late, return_exceptions=True)


async def _conclude(
    job: FanoutJob, progress: _Progress, scan_error: Exception | None, context: _JobContext
) -> None:
    """Complete the job's record, dead-letter it, or leave it to its source (retried whole)."""
    outcome, fanout = context.outcome, context.fanout
    if outcome.forbidden:
        return
    if progress.stop:
        outcome.rejections.append(Rejection(job.record, "undeliverable", progress.stop, "/data"))
        return
    if scan_error is not None:
        if progress.pages == 0 and _is_validation(scan_error):
            # DynamoDB refuses the Scan itself: a start key that is not one of the table's, or a
            # segment not below total_segments (which the contract cannot say). No retry can fix
            # it: the job goes to the DLQ with DynamoDB's reason.
            where = "/exclusive_start_key" if job.start_key is not None else "/segment"
            outcome.rejections.append(
                Rejection(
                    job.record,
                    "undeliverable",
                    f"DynamoDB refused the job's scan ({where[1:]}): {scan_error}",
                    where,
                )
            )
            return
        log_event("ERROR", "fan-out job's scan failed", **_fields(job), error=repr(scan_error))
    continuation = _continuation_bodies(job, progress)
    served_nobody = progress.settled == 0 and not progress.failed
    if continuation and served_nobody and (job.connections is not None or progress.pages == 0):
        # The continuation would be this job again: its source retries it whole instead, which
        # repeats nobody's post (and ends after maxReceiveCount if no run ever gets anywhere).
        # A segment that read a page did move: its page goes on as a list, the scan after it.
        log_event("WARN", "fan-out job stopped before serving anyone", **_fields(job))
        return
    narrowed = narrowed_bodies(job, progress.failed) if progress.failed else []
    give_up = bool(narrowed) and (
        job.attempt + 1 >= fanout.job_max_attempts or fanout.queue_url is None
    )
    bodies = continuation + ([] if give_up else narrowed)
    if bodies and not await _enqueue(job, bodies, context):
        return
    if give_up:
        _dead_letter_narrowed(job, narrowed, len(progress.failed), fanout, outcome)
    if continuation:
        log_event(
            "INFO",
            "fan-out job stopped at its deadline; continuation enqueued",
            **_fields(job),
            served=progress.settled,
            unserved=len(progress.pending),
            resumes_scan=not progress.exhausted and job.connections is None,
        )
    elif narrowed and not give_up:
        log_event(
            "INFO",
            "narrowed job enqueued for the failed connections",
            **_fields(job),
            connections=len(progress.failed),
            next_attempt=job.attempt + 1,
        )
    outcome.done.add(job.record.position)


def _continuation_bodies(job: FanoutJob, progress: _Progress) -> list[str]:
    """The job's unserved rest: the pending connections (explicit list, same attempt: a
    continuation is not a failure) and, for a segment not read to its end, the segment resumed
    after the last page read."""
    bodies = (
        list_bodies(job.origin_id, job.data, list(progress.pending.values()), attempt=job.attempt)
        if progress.pending
        else []
    )
    if job.connections is None and not progress.exhausted:
        bodies.append(
            segment_body(
                job.origin_id,
                job.data,
                job.excluded,
                job.segment,
                job.total_segments,
                attempt=job.attempt,
                start_key=progress.position,
            )
        )
    return bodies


async def _enqueue(job: FanoutJob, bodies: list[str], context: _JobContext) -> bool:
    """Only once these are on the queue may the job's record complete."""
    queue_url = context.fanout.queue_url
    if queue_url is None:
        log_event(
            "ERROR",
            "NOTIFICATIONS_QUEUE_URL is not set: the job's rest cannot be enqueued; "
            "the job is retried whole",
            **_fields(job),
        )
        return False
    try:
        async with asyncio.timeout_at(context.deadline.enqueue_by):
            refused = await enqueue(context.sqs, queue_url, bodies)
    except Exception as error:  # noqa: BLE001 - the job is retried whole by its source
        log_event("ERROR", "job continuation not enqueued", **_fields(job), error=repr(error))
        return False
    if refused:
        log_event("ERROR", "job continuation not enqueued", **_fields(job), refused=refused)
        return False
    return True


def _dead_letter_narrowed(
    job: FanoutJob, bodies: list[str], failed: int, fanout: FanoutSettings, outcome: JobRun
) -> None:
    # Past the limit (or nowhere to re-enqueue): each narrowed job goes to the DLQ with the
    # reason, so a redrive after the cause is fixed reaches exactly these connections.
    why = (
        f"{failed} connections still failing after {job.attempt + 1} attempts"
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
    log_event("WARN", "narrowed job dead-lettered", **_fields(job), connections=failed)


def _is_validation(error: BaseException) -> bool:
    return (
        isinstance(error, ClientError)
        and error.response.get("Error", {}).get("Code") == "ValidationException"
    )


def _fields(job: FanoutJob) -> dict[str, Any]:
    return {
        "origin_id": job.origin_id,
        "message_id": job.record.message_id,
        "segment": job.segment,
        "total_segments": job.total_segments,
        "narrowed": job.connections is not None,
        "attempt": job.attempt,
    }
