"""What each route does with a WebSocket request. No AWS clients are created here: the Service
holds the adapters the handler built once per container."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from botocore.exceptions import BotoCoreError, ClientError
from sumu_contracts import ContractError

from sumu_connections import server_frames
from sumu_connections.channel_routes import change_subscription
from sumu_connections.client_frame import ChannelRequest, Forward, Ping, read_client_frame
from sumu_connections.events import WebSocketRequest
from sumu_connections.history import HistoryReader
from sumu_connections.logs import log_request
from sumu_connections.outlets import DeliveryError, Outlet
from sumu_connections.refusal import Refusal
from sumu_connections.settings import Settings
from sumu_connections.store import ConnectionStore, new_connection_record
from sumu_connections.subscriptions import SubscriptionStore
from sumu_connections.user_message import UserMessage, build_user_message


class RouteResponse(TypedDict):
    """An AWS_PROXY integration response. On a two-way route API Gateway sends ``body`` to the
    client as one frame:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response.html
    """

    statusCode: int
    body: NotRequired[str]


@dataclass(frozen=True)
class Service:
    settings: Settings
    store: ConnectionStore
    # None when the deployment does not offer the route (its variable is unset).
    queue: Outlet | None
    topic: Outlet | None
    # None when SUBSCRIPTIONS_TABLE_NAME is unset: no channels on this API.
    subscriptions: SubscriptionStore | None = None
    # Issue 18: None when HISTORY_TABLE_NAME / APIGW_ENDPOINT is unset.
    history: HistoryReader | None = None
    management_api: Any = None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def connect(
    request: WebSocketRequest, service: Service, now_ms: Callable[[], int]
) -> RouteResponse:
    """Store the connection-record. Any non-2xx answer makes API Gateway refuse the upgrade."""
    if request.principal_id is None:
        # Only reachable when $connect has no authorizer or a gateway skipped it: never store a
        # connection that no user owns, since no notification could ever reach it.
        log_request(logging.WARNING, "connect_refused", request, reason="no authorizer principalId")
        return {"statusCode": 401}
    if request.connection_id is None:
        log_request(logging.WARNING, "connect_refused", request, reason="no connectionId")
        return {"statusCode": 400}
    try:
        record = new_connection_record(
            user_id=request.principal_id,
            connection_id=request.connection_id,
            connected_at_ms=request.connected_at_ms or request.request_time_ms or now_ms(),
            ttl_seconds=service.settings.connection_ttl_seconds,
            source_ip=request.source_ip,
            user_agent=request.user_agent,
        )
    except ContractError as error:
        log_request(logging.WARNING, "connect_refused", request, reason=str(error))
        return {"statusCode": 403}
    try:
        service.store.put(record)
    except (ClientError, BotoCoreError) as error:
        # Refuse rather than accept a connection that no notification could find; the client
        # reconnects.
        log_request(logging.ERROR, "connect_failed", request, error=str(error))
        return {"statusCode": 500}
    return {"statusCode": 200}


def disconnect(request: WebSocketRequest, service: Service) -> RouteResponse:
    if request.principal_id is None or request.connection_id is None:
        log_request(
            logging.WARNING, "disconnect_unkeyed", request, reason="no principalId or connectionId"
        )
        return {"statusCode": 200}
    try:
        service.store.delete(user_id=request.principal_id, connection_id=request.connection_id)
    except (ClientError, BotoCoreError) as error:
        # The connection is closed whatever we answer; the record expires by TTL or is pruned
        # by the pusher on its first 410.
        log_request(logging.ERROR, "disconnect_failed", request, error=str(error))
        return {"statusCode": 500}
    if service.subscriptions is not None:
        try:
            service.subscriptions.delete_all(request.connection_id)
        except (ClientError, BotoCoreError, RuntimeError) as error:
            # What is left expires by TTL (the connection's delete_at); until then the pusher's
            # posts to it answer 410, which prunes them too.
            log_request(
                logging.ERROR, "disconnect_failed", request, error=str(error), what="subscriptions"
            )
            return {"statusCode": 500}
    return {"statusCode": 200}


def _deliver(
    outlet: Outlet, user_message: UserMessage, request: WebSocketRequest, action: str
) -> str | Refusal:
    try:
        return outlet.deliver(user_message)
    except DeliveryError as error:
        log_request(
            logging.ERROR,
            "forward_failed",
            request,
            action=action,
            destination=outlet.destination,
            error_code=error.error_code,
            retryable=error.retryable,
            error=error.detail,
        )
        if error.retryable:
            return Refusal(
                "upstream_unavailable",
                f"the {action} could not be delivered now; send the frame again later",
                503,
                retryable=True,
                action=action,
            )
        return Refusal("internal_error", f"the {action} could not be delivered", 500, action=action)


def forward(
    frame: Forward, request: WebSocketRequest, service: Service, now_ms: Callable[[], int]
) -> str | Refusal:
    """Hand the frame's message to the queue (send) or topic (publish); the message id or why not."""
    outlet = service.queue if frame.action == "send" else service.topic
    if outlet is None:
        variable = "MESSAGES_QUEUE_URL" if frame.action == "send" else "MESSAGES_TOPIC_ARN"
        log_request(
            logging.ERROR,
            "route_not_configured",
            request,
            action=frame.action,
            reason=f"{variable} is not set",
        )
        return Refusal(
            "internal_error",
            f"{frame.action} is not available on this API",
            501,
            action=frame.action,
        )
    if request.principal_id is None:
        return Refusal(
            "unauthorized", "the connection has no authorized user", 401, action=frame.action
        )
    user_message = build_user_message(
        message=frame.message,
        user_id=request.principal_id,
        timestamp_ms=request.request_time_ms or now_ms(),
        action=frame.action,
    )
    if isinstance(user_message, Refusal):
        return user_message
    return _deliver(outlet, user_message, request, frame.action)


def answer_frame(request: WebSocketRequest, service: Service, now_ms: Callable[[], int]) -> str:
    """The server frame that answers a client frame, whatever route it arrived on.

    The frame's own action decides, not the route key: API Gateway derives the route from that
    action anyway, and a gateway without the custom routes (all on $default) still works.
    """
    frame = read_client_frame(request.frame, frame_is_text=request.frame_is_text)
    if isinstance(frame, Ping):
        if request.connection_id is None:
            frame = Refusal("internal_error", "the event has no connectionId", 500, action="ping")
        else:
            return server_frames.pong(request.connection_id)
    elif isinstance(frame, ChannelRequest):
        changed = change_subscription(frame, request, service, now_ms)
        if not isinstance(changed, Refusal):
            return server_frames.channel_ack(
                frame.action, frame.channel, request.request_id, changed
            )
        frame = changed
    elif isinstance(frame, Forward):
        outcome = forward(frame, request, service, now_ms)
        if isinstance(outcome, str):
            return server_frames.ack(frame.action, outcome, request.request_id)
        frame = outcome
    log_request(
        logging.INFO,
        "frame_refused",
        request,
        code=frame.code,
        reason=frame.message,
        pointer=frame.pointer,
    )
    return server_frames.error(frame, request.request_id)


def respond(
    request: WebSocketRequest, service: Service, now_ms: Callable[[], int] = _now_ms
) -> RouteResponse:
    if request.route_key == "$connect":
        return connect(request, service, now_ms)
    if request.route_key == "$disconnect":
        return disconnect(request, service)
    try:
        body = answer_frame(request, service, now_ms)
    except Exception as error:  # noqa: BLE001 - the client must get a frame, never a dropped reply
        log_request(logging.ERROR, "frame_failed", request, error=repr(error))
        body = server_frames.error(
            Refusal("internal_error", "the frame could not be handled", 500, retryable=True),
            request.request_id,
        )
    # 200 even for an error frame: the error's status travels inside the frame, and a 200 keeps
    # API Gateway and the local gateway on their ordinary path of sending the body to the client
    # over the open connection (the connection stays open either way).
    return {"statusCode": 200, "body": body}
