"""subscribe and unsubscribe (issue 17): the permission check, the per-connection limit, and the
subscriptions table. What the route answers is an ack or a Refusal; routes.py turns either
into the frame."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from sumu_contracts import ContractError

from sumu_connections.channels import allowed
from sumu_connections.client_frame import ChannelRequest
from sumu_connections.events import WebSocketRequest
from sumu_connections.history import Recovery
from sumu_connections.logs import log_request
from sumu_connections.refusal import ErrorCode, Refusal
from sumu_connections.subscriptions import new_subscription

if TYPE_CHECKING:
    from sumu_connections.routes import Service


def _refusal(frame: ChannelRequest, code: ErrorCode, message: str, status: int) -> Refusal:
    return Refusal(
        code,
        message,
        status,
        retryable=code == "upstream_unavailable",
        action=frame.action,
        channel=frame.channel,
    )


def change_subscription(
    frame: ChannelRequest,
    request: WebSocketRequest,
    service: Service,
    now_ms: Callable[[], int],
) -> Refusal | Recovery | None:
    """Subscribe or unsubscribe; None (an unsubscribe) or the Recovery (a subscribe) when it
    took effect (the ack), else why not."""
    store = service.subscriptions
    if store is None:
        log_request(
            logging.ERROR,
            "route_not_configured",
            request,
            action=frame.action,
            reason="SUBSCRIPTIONS_TABLE_NAME is not set",
        )
        return _refusal(frame, "internal_error", "channels are not available on this API", 501)
    if request.connection_id is None or request.principal_id is None:
        # A subscription names its user (exclude_users applies to channel deliveries).
        return _refusal(frame, "unauthorized", "the connection has no authorized user", 401)
    try:
        if frame.action == "unsubscribe":
            store.delete(channel=frame.channel, connection_id=request.connection_id)
            return None
        return _subscribe(
            frame,
            request,
            connection_id=request.connection_id,
            user_id=request.principal_id,
            service=service,
            now_ms=now_ms,
        )
    except (ClientError, BotoCoreError, RuntimeError) as error:
        log_request(
            logging.ERROR,
            "subscription_failed",
            request,
            action=frame.action,
            channel=frame.channel,
            error=str(error),
        )
        return _refusal(
            frame, "upstream_unavailable", f"the {frame.action} failed; send it again later", 503
        )


def _subscribe(
    frame: ChannelRequest,
    request: WebSocketRequest,
    *,
    connection_id: str,
    user_id: str,
    service: Service,
    now_ms: Callable[[], int],
) -> Refusal | Recovery:
    settings = service.settings
    store = service.subscriptions
    assert store is not None  # checked by the caller
    if not allowed(frame.channel, request.channel_patterns) and not allowed(
        frame.channel, settings.public_channel_patterns
    ):
        return _refusal(
            frame,
            "forbidden",
            "neither the token's channels nor the public channels allow this channel",
            403,
        )
    # The limit counts through the by_connection GSI, which is eventually consistent (a GSI
    # cannot be read with ConsistentRead): subscribes sent in a quick burst may each see the
    # count from before the others, so a connection can end up a few over the limit. Resubscribing
    # to a channel already held is always allowed (PutItem overwrites it: still one item).
    held = store.channels_of(connection_id)
    if len(held) >= settings.channels_per_connection and not (
        frame.channel in held or store.exists(channel=frame.channel, connection_id=connection_id)
    ):
        return _refusal(
            frame,
            "limit",
            f"a connection may hold at most {settings.channels_per_connection} subscriptions; "
            "unsubscribe from one first",
            400,
        )
    time_ms = request.request_time_ms or now_ms()
    try:
        subscription = new_subscription(
            channel=frame.channel,
            connection_id=connection_id,
            user_id=user_id,
            subscribed_at_ms=time_ms,
            # The connection record's delete_at: both expire together.
            connected_at_ms=request.connected_at_ms or time_ms,
            ttl_seconds=settings.connection_ttl_seconds,
        )
    except ContractError as error:
        return _refusal(frame, "invalid", f"the subscription cannot be stored: {error.reason}", 400)
    # The subscription first, then history: the order that leaves no gap (history.py).
    store.put(subscription)
    return _recover(frame, request, connection_id, service)


def _recover(
    frame: ChannelRequest, request: WebSocketRequest, connection_id: str, service: Service
) -> Refusal | Recovery:
    """Replay the history after ``since`` to the connection, in order, before the ack."""
    if service.history is None:
        # No history on this deployment: nothing to replay, so nothing is recovered.
        return Recovery(None, None if frame.since is None else False)
    recovery = service.history.recover(frame.channel, frame.since)
    if recovery.frames:
        replayed = _replay(recovery.frames, connection_id, service)
        log_request(
            logging.INFO,
            "history_replayed",
            request,
            channel=frame.channel,
            since=frame.since,
            seq=recovery.seq,
            frames=replayed,
        )
        if replayed < len(recovery.frames):
            return _refusal(
                frame,
                "upstream_unavailable",
                "the history could not be replayed; subscribe again with the same since",
                503,
            )
    return recovery


def _replay(frames: tuple[str, ...], connection_id: str, service: Service) -> int:
    """Post the frames one after the other (their order is the channel's); how many landed."""
    if service.management_api is None:
        raise RuntimeError("APIGW_ENDPOINT is not set: history cannot be replayed")
    for count, text in enumerate(frames):
        try:
            service.management_api.post_to_connection(
                ConnectionId=connection_id, Data=text.encode("utf-8")
            )
        except (ClientError, BotoCoreError):
            return count
    return len(frames)
