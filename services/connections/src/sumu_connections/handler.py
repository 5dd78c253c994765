"""Lambda entry point for every WebSocket route: $connect, $disconnect, ping, send, publish,
subscribe, unsubscribe, $default (API Gateway AWS_PROXY events; the local gateway sends the same)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sumu_contracts import preload

from sumu_connections.aws import AwsClients, build_clients
from sumu_connections.events import read_event
from sumu_connections.history import HistoryReader
from sumu_connections.outlets import QueueOutlet, TopicOutlet
from sumu_connections.routes import RouteResponse, Service, respond
from sumu_connections.settings import load_settings
from sumu_connections.store import ConnectionStore
from sumu_connections.subscriptions import SubscriptionStore

# Init phase (module scope, run once per container, before the first event; provisioned
# concurrency and SnapStart absorb it): compile the validators of every contract this service
# reads or writes, so no event pays for it.
preload("client-frame", "server-frame", "user-message", "connection-record", "subscription-record")


@cache
def container_clients() -> AwsClients:
    return build_clients()


@cache
def service() -> Service:
    """Settings and clients, once per container. Read on the first invocation rather than at
    import so that importing the handler needs no environment; a missing variable fails that
    invocation with a SettingsError naming it. Each client is built on its first use (aws.py)."""
    settings = load_settings()
    clients = container_clients()
    return Service(
        settings=settings,
        store=ConnectionStore(clients.dynamodb, settings.connections_table_name),
        queue=QueueOutlet(clients.sqs, settings.messages_queue_url)
        if settings.messages_queue_url
        else None,
        topic=TopicOutlet(clients.sns, settings.messages_topic_arn)
        if settings.messages_topic_arn
        else None,
        subscriptions=SubscriptionStore(clients.dynamodb, settings.subscriptions_table_name)
        if settings.subscriptions_table_name
        else None,
        history=HistoryReader(
            clients.dynamodb, settings.history_table_name, size=settings.history_size
        )
        if settings.history_table_name
        else None,
        management_api=clients.management_api(settings.apigw_endpoint)
        if settings.apigw_endpoint
        else None,
    )


def handler(event: Any, context: Any) -> RouteResponse:
    return respond(read_event(event), service())
