"""Lambda entry point: the connections table's DynamoDB stream -> presence-event messages.

Configure the event source mapping with ``FunctionResponseTypes: ["ReportBatchItemFailures"]``:
the response names the first record that failed, and the stream retries from it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from sumu_contracts import preload

from sumu_presence.aws import (
    CALL_MARGIN_MS,
    AwsClients,
    ClientOnFirstUse,
    DynamoConnectionsTable,
    build_publisher,
)
from sumu_presence.logs import log
from sumu_presence.settings import Settings, SettingsError
from sumu_presence.stream_records import ParsedBatch, parse_batch
from sumu_presence.watchdog import (
    BatchOutcome,
    ConnectionsTable,
    PresencePublisher,
    process_changes,
)

# Init phase (module scope, once per container; provisioned concurrency absorbs it): the
# presence-event validator is ready before the first record.
preload("presence-event")


class BatchItemFailure(TypedDict):
    itemIdentifier: str


class BatchResponse(TypedDict):
    batchItemFailures: list[BatchItemFailure]


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    table: ConnectionsTable
    publisher: PresencePublisher


@functools.cache
def container_runtime() -> Runtime:
    """Settings and clients, built on the first invocation and kept for the container's life.

    Lazily rather than at import, so importing the handler needs no environment and a missing
    variable fails the invocation (the batch is retried whole, nothing skipped) with a log line.
    """
    settings = Settings.from_env()
    clients = container_clients()
    table = DynamoConnectionsTable(
        ClientOnFirstUse(clients, "dynamodb"), settings.connections_table_name
    )
    return Runtime(settings=settings, table=table, publisher=build_publisher(settings, clients))


@functools.cache
def container_clients() -> AwsClients:
    return AwsClients()


def handler(event: object, context: object) -> BatchResponse:
    return handle_batch(event, _runtime_or_log(), _remaining_ms(context))


def _runtime_or_log() -> Runtime:
    try:
        return container_runtime()
    except SettingsError as error:
        log(
            "ERROR", "presence watchdog misconfigured; the batch will be retried", reason=str(error)
        )
        raise


def handle_batch(
    event: object, runtime: Runtime, remaining_ms: Callable[[], int] | None = None
) -> BatchResponse:
    started = time.monotonic()
    batch = parse_batch(event)
    for malformed in batch.malformed:
        # Skipped, not retried: a record that cannot be read now never will be, and retrying it
        # would block every later record of the shard until it expires.
        log(
            "WARNING",
            "malformed stream record skipped",
            reason=malformed.reason,
            sequence_number=malformed.sequence_number,
            event_id=malformed.event_id,
        )
    outcome = process_changes(
        batch.changes, runtime.table, runtime.publisher, remaining_ms, CALL_MARGIN_MS
    )
    if outcome.failed is not None:
        failed = outcome.failed.change
        log(
            "ERROR",
            "presence record failed; the stream retries from it",
            sequence_number=failed.sequence_number,
            user_id=failed.user_id,
            kind=failed.kind,
            reason=outcome.failed.reason,
        )
    _log_invocation(runtime, batch, outcome, started)
    return _response(outcome)


def _response(outcome: BatchOutcome) -> BatchResponse:
    if outcome.failed is None:
        return {"batchItemFailures": []}
    return {"batchItemFailures": [{"itemIdentifier": outcome.failed.change.sequence_number}]}


def _log_invocation(
    runtime: Runtime, batch: ParsedBatch, outcome: BatchOutcome, started: float
) -> None:
    changes = batch.changes
    statuses = [event.message.status for event in outcome.published]
    log(
        "INFO",
        "presence batch",
        presence_source=runtime.settings.presence_source,
        records=len(changes) + len(batch.malformed) + batch.ignored_modifies,
        inserts=sum(change.kind == "INSERT" for change in changes),
        removes=sum(change.kind == "REMOVE" for change in changes),
        ttl_removes=sum(change.expired_by_ttl for change in changes),
        ignored_modifies=batch.ignored_modifies,
        malformed=len(batch.malformed),
        online=statuses.count("ONLINE"),
        offline=statuses.count("OFFLINE"),
        collapsed=outcome.collapsed,
        failed_sequence_number=outcome.failed.change.sequence_number if outcome.failed else None,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )


def _remaining_ms(context: object) -> Callable[[], int] | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining if callable(remaining) else None
