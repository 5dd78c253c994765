"""The presence rules: which connection changes become ONLINE / OFFLINE events, and in what order.

Pure apart from the two ports it is given (the connections table and the publisher), so the rules
are tested without AWS and the adapters are tested against moto.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sumu_presence.presence_event import PresenceEvent, PresenceStatus
from sumu_presence.stream_records import ConnectionChange

# Without a margin from the adapters, one second (tests of the rules alone).
DEFAULT_CALL_MARGIN_MS = 1_000


class ConnectionsTable(Protocol):
    def has_connection(self, user_id: str) -> bool: ...


class PresencePublisher(Protocol):
    def publish(self, event: PresenceEvent, *, deduplication_id: str) -> None: ...


@dataclass(frozen=True)
class FailedChange:
    change: ConnectionChange
    reason: str


@dataclass
class BatchOutcome:
    published: list[PresenceEvent] = field(default_factory=list)
    collapsed: int = 0
    failed: FailedChange | None = None


def process_changes(
    changes: Sequence[ConnectionChange],
    table: ConnectionsTable,
    publisher: PresencePublisher,
    remaining_ms: Callable[[], int] | None = None,
    call_margin_ms: int = DEFAULT_CALL_MARGIN_MS,
) -> BatchOutcome:
    """Publish the events of ``changes`` in stream order; stop at the first failure.

    No AWS call (a table query, a publish) starts with less than ``call_margin_ms`` left: the
    worst case of one call with all its retries (aws.CALL_MARGIN_MS). The record is reported
    instead and the stream retries from it, rather than the whole batch after a timeout. The
    first record of a batch is always attempted, so a short function timeout still progresses
    (a timeout there replays from that record, which is the batch's start anyway).

    Lambda retries a stream batch from the lowest sequence number reported in
    ``batchItemFailures`` (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html),
    so every record after a failed one is retried anyway: processing it now would only publish
    it twice, and publishing a later event of the same user before the failed one would reorder.
    """
    outcome = BatchOutcome()
    alive = connection_remains_in_batch(changes)
    # The last status this batch told consumers per user: a repeat of it is collapsed.
    last_status: dict[str, PresenceStatus] = {}
    for index, change in enumerate(changes):

        def no_time_for_a_call(first: bool = index == 0) -> bool:
            return not first and remaining_ms is not None and remaining_ms() < call_margin_ms

        if no_time_for_a_call():
            outcome.failed = FailedChange(change, "function deadline near; left for the retry")
            return outcome
        try:
            status = presence_status(change, alive[index], table)
            if status is None:
                continue
            if last_status.get(change.user_id) == status:
                outcome.collapsed += 1
                continue
            event = PresenceEvent.build(
                user_id=change.user_id,
                status=status,
                timestamp=change.timestamp,
                sequence_number=change.sequence_number,
            )
            if no_time_for_a_call():  # the query above may have used the time the publish needs
                outcome.failed = FailedChange(change, "function deadline near; left for the retry")
                return outcome
            publisher.publish(event, deduplication_id=change.sequence_number)
        except Exception as error:  # noqa: BLE001 - any failure is reported, and the stream retries
            outcome.failed = FailedChange(change, f"{type(error).__name__}: {error}")
            return outcome
        last_status[change.user_id] = status
        outcome.published.append(event)
    return outcome


def presence_status(
    change: ConnectionChange, connection_remains: bool, table: ConnectionsTable
) -> PresenceStatus | None:
    """ONLINE for every connect; OFFLINE only when the user has no connection left."""
    if change.kind == "INSERT":
        return "ONLINE"
    if connection_remains or table.has_connection(change.user_id):
        return None
    return "OFFLINE"


def connection_remains_in_batch(changes: Sequence[ConnectionChange]) -> list[bool]:
    """For each REMOVE, whether a later record of the batch proves another connection was open.

    The table read runs after the whole batch happened, so it cannot tell that when connection A
    was removed, connection B (removed later in the same batch) was still open. B's REMOVE proves
    it, unless B was (re)inserted between the two records. Without this, closing two devices at
    once would emit OFFLINE twice, the first while a connection remained.
    """
    remains = [False] * len(changes)
    removed_later: dict[str, set[str]] = {}
    for index in range(len(changes) - 1, -1, -1):
        change = changes[index]
        later = removed_later.setdefault(change.user_id, set())
        if change.kind == "INSERT":
            later.discard(change.connection_id)
        else:
            remains[index] = bool(later - {change.connection_id})
            later.add(change.connection_id)
    return remains
