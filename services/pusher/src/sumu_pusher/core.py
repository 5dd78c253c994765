"""One batch of records -> lookups, bounded posts, pruning and dead letters, within the time left.

The phases, all bounded by the Lambda's remaining time:

1. validate every record (rejections are kept aside, never retried);
2. look up targets: one Query per distinct selected user and one Scan shared by every broadcast
   of the batch, concurrently (when the batch names so many users that one Scan reads less than
   their Queries, that Scan serves them too: see ``store``);
3. post each request to each of its connections once, at most ``concurrency`` posts in flight,
   until ``remaining time - safety margin``;
4. in the margin: delete the connections that answered 410, and dead-letter the rejections.

A record is complete when every one of its target connections either took the post or is gone.
Anything else (lookup failed, retries exhausted, deadline reached) makes it incomplete and it is
retried as a whole by its source: connections that already got it get it again (at-least-once,
duplicates allowed, no loss).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sumu_pusher.dead_letters import dead_letter
from sumu_pusher.fanout import for_each_bounded
from sumu_pusher.history import HistoryTable, admit
from sumu_pusher.idempotency import IdempotencyTable
from sumu_pusher.management_api import PostResult, post_to_connection
from sumu_pusher.records import InboundRecord, NotificationJob, Rejection, notification_job
from sumu_pusher.segments import (
    ChannelSplit,
    FanoutSettings,
    JobRun,
    fanout_settings,
    run_jobs,
    split_broadcasts,
    split_channels,
    take_jobs,
)
from sumu_pusher.settings import Settings
from sumu_pusher.store import ConnectionsTable
from sumu_pusher.subscriptions import SubscriptionsTable
from sumu_pusher.targets import Connection, channel_posts, connections_for, lookup_plan
from sumu_pusher.telemetry import InvocationFigures, log_event

# Kept after the finishing phase for the invocation's log line and the handler's return.
FINAL_RESERVE_S = 0.2
# How much of a rejected body a log line carries (CloudWatch events stop at 256 KB).
_LOGGED_BODY_CHARS = 64 * 1024
# How many connection ids a log line lists.
_LOGGED_IDS = 50


@dataclass(frozen=True)
class Adapters:
    """The AWS clients of this container (see ``runtime``)."""

    table: ConnectionsTable
    management_api: Any
    sqs: Any
    # None when SUBSCRIPTIONS_TABLE_NAME is unset (no channels on this deployment).
    subscriptions: SubscriptionsTable | None = None
    # Issue 18: None when HISTORY_TABLE_NAME / IDEMPOTENCY_TABLE_NAME is unset.
    history: HistoryTable | None = None
    idempotency: IdempotencyTable | None = None

    def dynamodb_calls(self) -> int:
        extra = sum(
            store.calls
            for store in (self.subscriptions, self.history, self.idempotency)
            if store is not None
        )
        return self.table.calls + extra


@dataclass
class Delivery:
    """The progress of one notification request through this invocation."""

    job: NotificationJob
    targets: list[Connection] = field(default_factory=list)
    # Channel subscribers and the envelope each receives (one per channel it matched).
    channel_targets: list[tuple[Connection, bytes]] = field(default_factory=list)
    looked_up: bool = False
    lookup_failed: bool = False
    settled: int = 0  # posts that landed, or found the connection gone
    failure: str = ""
    rejection: Rejection | None = None

    @property
    def complete(self) -> bool:
        return (
            self.looked_up
            and not self.lookup_failed
            and not self.failure
            and self.settled == len(self.targets) + len(self.channel_targets)
        )


@dataclass
class BatchOutcome:
    retry: list[InboundRecord]
    figures: InvocationFigures
    # Set when the batch failed for a reason no record owns (a 403 from the management API).
    configuration_error: str = ""


# A request naming channels on a deployment without the subscriptions table cannot be served,
# and dead-lettering it would hide a deployment mistake behind a slowly filling DLQ: like a 403,
# it fails loudly and is retried (the queue's redrive policy still moves it to the DLQ after
# maxReceiveCount). Nothing of it is posted, not even to its users, so retries add no duplicates.
NO_SUBSCRIPTIONS_TABLE = (
    "the request names channels but SUBSCRIPTIONS_TABLE_NAME is not set: the pusher cannot find "
    "their subscribers; set it to the subscriptions table (and grant dynamodb:Query on it and "
    "its by_connection index)"
)

# A 403 from the management API is about the function, not a connection or a request: dead-
# lettering request after request would empty the queue into the DLQ while the cause stays.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-control-access-iam.html
FORBIDDEN_MESSAGE = (
    "management API answered 403 Forbidden: the function's role likely lacks "
    "execute-api:ManageConnections on this API and stage, or APIGW_ENDPOINT names another API "
    "or stage; the batch is returned for retry, nothing is dead-lettered for it"
)


@dataclass
class FanOut:
    """What the posts of one batch found beyond each record: connections to prune, and a
    configuration error that concerns the whole batch."""

    gone: list[Connection] = field(default_factory=list)
    forbidden: str = ""


async def process_batch(
    records: Sequence[InboundRecord], adapters: Adapters, settings: Settings, ends_at: float
) -> BatchOutcome:
    """``ends_at``: when the Lambda times out, on the ``time.monotonic()`` clock."""
    loop = asyncio.get_running_loop()
    # The loop's clock is time.monotonic() unless a custom loop says otherwise: re-anchor on it.
    end = loop.time() + (ends_at - time.monotonic())
    figures = InvocationFigures(records=len(records))
    deliveries: list[Delivery] = []
    # Issue 19 (segments.py): fanout-job records are shares of a split broadcast.
    intake = take_jobs(records)
    rejections: list[Rejection] = list(intake.rejections)
    for record in intake.others(records):
        parsed = notification_job(record)
        if isinstance(parsed, Rejection):
            rejections.append(parsed)
        else:
            deliveries.append(Delivery(parsed))
            if parsed.empty_audience:
                figures.empty_audience += 1
                # Not an error to retry or dead-letter: the request is valid and reached its
                # (empty) audience. The line lets an operator find the backend that sent it.
                log_event(
                    "WARN",
                    "empty users list: the request reaches nobody (a broadcast has no users key)",
                    **_record_fields(record),
                )

    deliveries, unadmitted = await _admit(deliveries, adapters, settings, figures, end)

    if adapters.subscriptions is None and any(d.job.channels for d in deliveries):
        figures.configuration_errors = 1
        log_event("ERROR", NO_SUBSCRIPTIONS_TABLE)
    fan_out = FanOut()
    job_run, split_retry = JobRun(), list[InboundRecord]()
    deliveries = await _fan_out(deliveries, adapters, settings, figures, fan_out, end, split_retry)
    # After a 403 every post would be refused too: the jobs are not started (retried whole).
    job_run.forbidden = fan_out.forbidden
    # Jobs watch the deadline themselves (segments.job_deadline): one stopped part-way
    # enqueues its unserved rest instead of being retried whole.
    await run_jobs(
        intake.jobs,
        table=adapters.table,
        management_api=adapters.management_api,
        sqs=adapters.sqs,
        settings=settings,
        fanout=fanout_settings(),
        figures=figures,
        outcome=job_run,
        end=end,
    )
    fan_out.forbidden = fan_out.forbidden or job_run.forbidden
    fan_out.gone.extend(job_run.gone)
    if fan_out.forbidden:
        figures.configuration_errors = 1
        log_event(
            "ERROR",
            FORBIDDEN_MESSAGE,
            apigw_endpoint=settings.apigw_endpoint,
            answer=fan_out.forbidden,
            records=len(deliveries),
        )
        for delivery in deliveries:
            if not delivery.complete:
                delivery.failure = delivery.failure or f"management API: {fan_out.forbidden}"
    figures.unfinished = figures.connections_targeted - (
        figures.delivered + figures.gone + figures.rejected + figures.failed
    )

    rejections.extend(delivery.rejection for delivery in deliveries if delivery.rejection)
    retry = [
        delivery.job.record
        for delivery in deliveries
        if delivery.rejection is None and not delivery.complete
    ]
    retry.extend(unadmitted)
    rejections.extend(job_run.rejections)
    retry.extend((*split_retry, *intake.unfinished(job_run)))
    for delivery in deliveries:
        if delivery.failure and delivery.rejection is None:
            log_event(
                "WARN",
                "delivery incomplete",
                **_record_fields(delivery.job.record),
                error=delivery.failure,
            )

    not_dead_lettered = await _finish(
        rejections,
        fan_out.gone,
        adapters=adapters,
        settings=settings,
        figures=figures,
        deadline=end - FINAL_RESERVE_S,
    )
    retry.extend(not_dead_lettered)
    figures.invalid = len(rejections)
    figures.incomplete = len(retry)
    return BatchOutcome(
        retry=sorted(retry, key=lambda record: record.position),
        figures=figures,
        configuration_error=fan_out.forbidden,
    )


async def _fan_out(  # noqa: PLR0917 - the phase's state, passed through
    deliveries: list[Delivery],
    adapters: Adapters,
    settings: Settings,
    figures: InvocationFigures,
    fan_out: FanOut,
    end: float,
    split_retry: list[InboundRecord],
) -> list[Delivery]:
    """Split, look up and post the batch's requests until the safety margin; return the
    deliveries made here (the others went out as jobs or wait for a retry)."""
    fanout = fanout_settings()
    try:
        async with asyncio.timeout_at(end - settings.safety_margin_s):
            deliveries = await _split(deliveries, adapters, fanout, split_retry)
            channels = await _split_channels(deliveries, adapters, settings, fanout)
            if channels is not None:
                split_retry.extend(channels.retry.values())
                deliveries = [d for d in deliveries if d.job.record.position not in channels.retry]
            await _look_up(deliveries, adapters, settings, channels)
            figures.connections_targeted = sum(
                len(delivery.targets) + len(delivery.channel_targets) for delivery in deliveries
            )
            await _post_all(deliveries, adapters.management_api, settings, figures, fan_out)
    except TimeoutError:
        log_event("WARN", "fan-out stopped at the deadline; unfinished records will be retried")
    return deliveries


async def _split(
    deliveries: list[Delivery],
    adapters: Adapters,
    fanout: FanoutSettings,
    retry: list[InboundRecord],
) -> list[Delivery]:
    """Issue 19: broadcasts split into K fanout jobs leave this invocation's fan-out."""
    served, refused = await split_broadcasts(
        (d.job for d in deliveries), adapters.table, adapters.sqs, fanout
    )
    retry.extend(refused)
    gone = served | {record.position for record in refused}
    return [d for d in deliveries if d.job.record.position not in gone]


async def _split_channels(
    deliveries: list[Delivery], adapters: Adapters, settings: Settings, fanout: FanoutSettings
) -> ChannelSplit | None:
    """Issue 19: with a queue to put jobs on, the channels of the batch are looked up here,
    page by page, and those with many subscribers go out as jobs (segments.split_channels);
    None: the channels are looked up by ``_look_up`` as before."""
    if fanout.queue_url is None or adapters.subscriptions is None:
        return None
    jobs = [d.job for d in deliveries if d.job.channel_payloads]
    if not jobs:
        return None
    return await split_channels(
        jobs, adapters.subscriptions, adapters.sqs, fanout, settings.concurrency
    )


async def _admit(
    deliveries: list[Delivery],
    adapters: Adapters,
    settings: Settings,
    figures: InvocationFigures,
    end: float,
) -> tuple[list[Delivery], list[InboundRecord]]:
    """Issue 18 (history.py): duplicates (request ids already claimed) are dropped, channel
    messages get their seqs and history. A request whose writes failed is retried whole, with
    nothing posted: (deliveries to make, records to retry)."""
    if adapters.history is None and adapters.idempotency is None:
        return deliveries, []
    try:
        async with asyncio.timeout_at(end - settings.safety_margin_s):
            admission = await admit(
                [d.job for d in deliveries],
                adapters.history,
                adapters.idempotency,
                settings.concurrency,
            )
    except TimeoutError:
        log_event("WARN", "history writes stopped at the deadline; the batch will be retried")
        return [], [d.job.record for d in deliveries]
    figures.duplicates = admission.duplicates
    return [Delivery(job) for job in admission.deliver], [job.record for job, _ in admission.failed]


async def _look_up(
    deliveries: Sequence[Delivery],
    adapters: Adapters,
    settings: Settings,
    channels: ChannelSplit | None = None,
) -> None:
    """``channels``: the channels already looked up (and split) by ``_split_channels``."""
    table = adapters.table
    plan = lookup_plan(delivery.job for delivery in deliveries)
    plan = plan if channels is None else replace(plan, channels=())
    subscribers: dict[str, list[Connection]] = dict(channels.subscribers) if channels else {}
    failed_channels: set[str] = set(channels.failed) if channels else set()
    by_user: dict[str, list[Connection]] = {}
    failed_users: set[str] = set()
    everyone: list[Connection] = []
    scan_failed = False
    scan_serves_selected = settings.selective_scan and await _scan_is_cheaper(table, plan.users)

    async def query(user_id: str) -> None:
        try:
            by_user[user_id] = await table.connections_of(user_id)
        except Exception as error:  # noqa: BLE001 - only the requests naming this user wait
            failed_users.add(user_id)
            log_event("ERROR", "connections query failed", user_id=user_id, error=repr(error))

    async def query_channel(channel: str) -> None:
        if adapters.subscriptions is None:
            failed_channels.add(channel)
            return
        try:
            subscribers[channel] = await adapters.subscriptions.subscribers_of(channel)
        except Exception as error:  # noqa: BLE001 - only the requests naming this channel wait
            failed_channels.add(channel)
            log_event("ERROR", "subscribers query failed", channel=channel, error=repr(error))

    async def scan() -> None:
        nonlocal scan_failed
        try:
            everyone.extend(await table.all_connections())
        except Exception as error:  # noqa: BLE001 - only the requests served by the scan wait
            scan_failed = True
            log_event("ERROR", "connections scan failed", error=repr(error))

    async with asyncio.TaskGroup() as group:
        if plan.scan or scan_serves_selected:
            group.create_task(scan())
        if not scan_serves_selected:
            group.create_task(for_each_bounded(plan.users, settings.concurrency, query))
        if plan.channels:
            group.create_task(for_each_bounded(plan.channels, settings.concurrency, query_channel))
    if scan_serves_selected:
        for connection in everyone:
            by_user.setdefault(connection.user_id, []).append(connection)

    for delivery in deliveries:
        job = delivery.job
        served_by_scan = job.broadcast or scan_serves_selected
        delivery.lookup_failed = (
            (served_by_scan and scan_failed)
            or not failed_users.isdisjoint(job.users)
            or not failed_channels.isdisjoint(job.channels)
        )
        if delivery.lookup_failed:
            # Nothing is posted for it: the retry sends it whole anyway.
            delivery.failure = (
                NO_SUBSCRIPTIONS_TABLE
                if job.channels and adapters.subscriptions is None
                else "connections lookup failed"
            )
        else:
            delivery.targets = connections_for(job, by_user, everyone)
            delivery.channel_targets = _channel_targets(job, subscribers, channels)
        delivery.looked_up = True


def _channel_targets(
    job: NotificationJob,
    subscribers: dict[str, list[Connection]],
    channels: ChannelSplit | None,
) -> list[tuple[Connection, bytes]]:
    # Channels gone out as jobs are not posted here (each pair is in exactly one job).
    split = channels.split.get(job.record.position, set()) if channels else set()
    kept = tuple(payload for payload in job.channel_payloads if payload[0] not in split)
    return channel_posts(replace(job, channel_payloads=kept), subscribers)


async def _scan_is_cheaper(table: ConnectionsTable, users: Sequence[str]) -> bool:
    try:
        return await table.scan_reads_less_than_queries(len(users))
    except Exception as error:  # noqa: BLE001 - fall back to the per-user Queries
        log_event("WARN", "table size unknown; querying user by user", error=repr(error))
        return False


async def _post_all(
    deliveries: Sequence[Delivery],
    client: Any,
    settings: Settings,
    figures: InvocationFigures,
    fan_out: FanOut,
) -> None:
    def posts() -> Iterator[tuple[Delivery, Connection, bytes]]:
        for delivery in deliveries:
            # User deliveries carry data verbatim; channel deliveries their channel's envelope.
            user_posts = ((c, delivery.job.payload) for c in delivery.targets)
            for connection, payload in (*user_posts, *delivery.channel_targets):
                # After a 403 every post would be refused: stop drawing posts (those in flight
                # finish). Once the gateway refused a request's data, its other posts would be
                # refused too.
                if fan_out.forbidden:
                    return
                if delivery.rejection is None:
                    yield delivery, connection, payload

    async def post(target: tuple[Delivery, Connection, bytes]) -> None:
        delivery, connection, payload = target
        outcome = await post_to_connection(
            client, connection.connection_id, payload, settings.retry
        )
        figures.retried += outcome.retries
        if outcome.result is PostResult.DELIVERED:
            figures.delivered += 1
            delivery.settled += 1
        elif outcome.result is PostResult.GONE:
            figures.gone += 1
            delivery.settled += 1
            fan_out.gone.append(connection)
        elif outcome.result is PostResult.FORBIDDEN:
            figures.failed += 1
            fan_out.forbidden = fan_out.forbidden or outcome.detail
        elif outcome.result is PostResult.REJECTED:
            figures.rejected += 1
            if delivery.rejection is None:
                too_large = outcome.status == 413
                delivery.rejection = Rejection(
                    delivery.job.record,
                    "payload_too_large" if too_large else "undeliverable",
                    f"the management API refused the post: {outcome.detail}",
                    "/data" if too_large else "",
                )
        else:
            figures.failed += 1
            delivery.failure = delivery.failure or outcome.detail

    await for_each_bounded(posts(), settings.concurrency, post)


async def _finish(
    rejections: Sequence[Rejection],
    gone: Sequence[Connection],
    *,
    adapters: Adapters,
    settings: Settings,
    figures: InvocationFigures,
    deadline: float,
) -> list[InboundRecord]:
    """Prune gone connections and dead-letter rejections; return records still to retry."""
    queue_url = settings.notifications_dlq_url
    to_queue = [r for r in rejections if queue_url and r.record.source != "aws:sns"]
    for rejection in rejections:
        if not (queue_url and rejection.record.source != "aws:sns"):
            # SNS has no queue to hand the record back to, so the log line is its record.
            log_event(
                "ERROR",
                "notification request rejected",
                **_rejection_fields(rejection),
                body=rejection.record.body[:_LOGGED_BODY_CHARS],
            )
    sent: set[int] = set()

    async def prune() -> None:
        if not gone:
            return
        cutoff_ms = int(time.time() * 1000) - settings.prune_grace_s * 1000
        try:
            outcome = await adapters.table.prune(gone, cutoff_ms)
        except Exception as error:  # noqa: BLE001 - TTL removes the item later anyway
            log_event("ERROR", "pruning gone connections failed", error=repr(error))
            return
        figures.pruned = outcome.deleted
        figures.prune_skipped = len(outcome.skipped)
        await prune_subscriptions(outcome.skipped)
        if outcome.skipped:
            log_event(
                "INFO",
                "prune skipped: these connections answered 410 within the grace period of "
                "their $connect, which may still be running",
                grace_seconds=settings.prune_grace_s,
                count=len(outcome.skipped),
                connection_ids=outcome.skipped[:_LOGGED_IDS],
            )
        if outcome.left:
            log_event("ERROR", "gone connections left in the table", count=outcome.left)

    async def prune_subscriptions(skipped: Sequence[str]) -> None:
        # The same grace as the records: a connection whose record was kept as possibly still
        # in its $connect keeps its subscriptions too.
        if adapters.subscriptions is None:
            return
        young = set(skipped)
        connection_ids = [c.connection_id for c in gone if c.connection_id not in young]
        if not connection_ids:
            return
        try:
            left = await adapters.subscriptions.delete_subscriptions_of(connection_ids)
        except Exception as error:  # noqa: BLE001 - TTL removes them later anyway
            log_event("ERROR", "pruning gone subscriptions failed", error=repr(error))
            return
        if left:
            log_event("ERROR", "gone subscriptions left in the table", count=left)

    async def send(rejection: Rejection) -> None:
        try:
            await dead_letter(adapters.sqs, str(queue_url), rejection)
        except Exception as error:  # noqa: BLE001 - the record falls back to a queue retry
            log_event(
                "ERROR", "dead-lettering failed", **_rejection_fields(rejection), error=repr(error)
            )
            return
        sent.add(rejection.record.position)
        log_event("WARN", "notification request dead-lettered", **_rejection_fields(rejection))

    try:
        async with asyncio.timeout_at(deadline), asyncio.TaskGroup() as group:
            group.create_task(prune())
            group.create_task(for_each_bounded(to_queue, settings.concurrency, send))
    except TimeoutError:
        log_event("ERROR", "pruning and dead-lettering stopped at the deadline")
    figures.dead_lettered = len(sent)
    return [r.record for r in to_queue if r.record.position not in sent]


def _record_fields(record: InboundRecord) -> dict[str, Any]:
    return {
        "event_source": record.source,
        "message_id": record.message_id,
        "position": record.position,
    }


def _rejection_fields(rejection: Rejection) -> dict[str, Any]:
    return {
        **_record_fields(rejection.record),
        "reason_code": rejection.code,
        "reason": rejection.reason,
        "error_pointer": rejection.pointer,
    }
