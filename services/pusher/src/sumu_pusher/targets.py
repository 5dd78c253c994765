"""Which connections each notification request reaches. Pure: lookups happen in ``store``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sumu_pusher.records import NotificationJob


@dataclass(frozen=True)
class Connection:
    """The key of a connection-record, enough to post to it and to delete it when gone, and
    when it connected (epoch ms; None when the item lacks it), to decide whether a 410 may
    still mean "its $connect has not finished"."""

    user_id: str
    connection_id: str
    connected_at_ms: int | None = None


@dataclass(frozen=True)
class LookupPlan:
    """The DynamoDB reads a batch needs: a Query per distinct selected user, one shared Scan."""

    users: tuple[str, ...]
    scan: bool
    # One Query per distinct channel of the batch, on the subscriptions table.
    channels: tuple[str, ...] = ()


def lookup_plan(jobs: Iterable[NotificationJob]) -> LookupPlan:
    users: dict[str, None] = {}
    channels: dict[str, None] = {}
    scan = False
    for job in jobs:
        if job.broadcast:
            scan = True
        else:
            users.update(dict.fromkeys(job.users))
            channels.update(dict.fromkeys(job.channels))
    return LookupPlan(users=tuple(users), scan=scan, channels=tuple(channels))


def channel_posts(
    job: NotificationJob, subscribers_by_channel: Mapping[str, Sequence[Connection]]
) -> list[tuple[Connection, bytes]]:
    """(connection, envelope) for every subscriber of every channel the job names, excluded
    users filtered: a connection in several of the channels gets one post per channel, each
    naming its channel; one subscribed twice to a channel (one item) gets one."""
    posts: list[tuple[Connection, bytes]] = []
    for channel, envelope in job.channel_payloads:
        seen: set[str] = set()
        for connection in subscribers_by_channel.get(channel, ()):
            if connection.user_id in job.excluded or connection.connection_id in seen:
                continue
            seen.add(connection.connection_id)
            posts.append((connection, envelope))
    return posts


def connections_for(
    job: NotificationJob,
    connections_by_user: Mapping[str, Sequence[Connection]],
    everyone: Sequence[Connection],
) -> list[Connection]:
    """The job's connections, each once, excluded users filtered in memory.

    DynamoDB caps a ``NOT IN`` filter at 100 operands; a set lookup here has no limit.
    """
    if job.broadcast:
        candidates: Iterable[Connection] = everyone
    else:
        candidates = (
            connection for user in job.users for connection in connections_by_user.get(user, ())
        )
    unique: dict[str, Connection] = {}
    for connection in candidates:
        if connection.user_id not in job.excluded:
            unique.setdefault(connection.connection_id, connection)
    return list(unique.values())
