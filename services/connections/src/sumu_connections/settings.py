"""Environment -> one typed, validated settings object (read once per container)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sumu_connections.channels import parse_public_patterns

# API Gateway closes every WebSocket connection after 2 hours ("Connection duration for WebSocket
# API: 2 hours", not adjustable), so a record older than that is stale; a shorter TTL would let
# DynamoDB delete the record of a connection that is still open (it would stop receiving and be
# reported OFFLINE):
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
MAX_CONNECTION_DURATION_SECONDS = 7200
DEFAULT_CONNECTION_TTL_SECONDS = MAX_CONNECTION_DURATION_SECONDS
DEFAULT_PUBLIC_CHANNELS = "public:*"
DEFAULT_CHANNELS_PER_CONNECTION = 100
# Recovery replays at most this many messages per subscribe (the pusher keeps them for
# HISTORY_TTL_SECONDS): one route invocation posts them all before its ack, within the 29 s
# integration timeout.
DEFAULT_HISTORY_SIZE = 100
MAX_HISTORY_SIZE = 1000
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


class SettingsError(RuntimeError):
    """The environment is missing a variable or holds an unusable value (named in the message)."""


@dataclass(frozen=True)
class Settings:
    connections_table_name: str
    connection_ttl_seconds: int = DEFAULT_CONNECTION_TTL_SECONDS
    # Local emulation and tests only: lets CONNECTION_TTL_SECONDS go below the 2 h maximum.
    connection_ttl_allow_short: bool = False
    # Each is needed only by the route that uses it (send / publish); a deployment may offer
    # just one of the two, so their absence is reported per frame rather than at start.
    messages_queue_url: str | None = None
    messages_topic_arn: str | None = None
    # Channels (issue 17): subscribe / unsubscribe answer internal_error 501 while it is unset.
    subscriptions_table_name: str | None = None
    public_channel_patterns: tuple[str, ...] = (DEFAULT_PUBLIC_CHANNELS,)
    channels_per_connection: int = DEFAULT_CHANNELS_PER_CONNECTION
    # History and recovery (issue 18): unset, a subscribe's ack has no seq and since is answered
    # recovered false. The management API replays history to the subscribing connection.
    history_table_name: str | None = None
    history_size: int = DEFAULT_HISTORY_SIZE
    apigw_endpoint: str | None = None


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _allow_short_ttl(environ: Mapping[str, str]) -> bool:
    raw = environ.get("CONNECTION_TTL_ALLOW_SHORT", "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(f"CONNECTION_TTL_ALLOW_SHORT must be true or false, not {raw!r}")


def _ttl_seconds(environ: Mapping[str, str], *, allow_short: bool) -> int:
    raw = environ.get("CONNECTION_TTL_SECONDS", "").strip()
    if not raw:
        return DEFAULT_CONNECTION_TTL_SECONDS
    try:
        seconds = int(raw)
    except ValueError:
        raise SettingsError(
            f"CONNECTION_TTL_SECONDS must be a whole number of seconds, not {raw!r}"
        ) from None
    if seconds <= 0:
        raise SettingsError(f"CONNECTION_TTL_SECONDS must be positive, not {seconds}")
    if seconds < MAX_CONNECTION_DURATION_SECONDS and not allow_short:
        raise SettingsError(
            f"CONNECTION_TTL_SECONDS={seconds} is below {MAX_CONNECTION_DURATION_SECONDS}, API "
            "Gateway's maximum connection duration (2 h): DynamoDB TTL would delete the records "
            "of connections that are still open, which then receive nothing and are reported "
            f"OFFLINE. Use {MAX_CONNECTION_DURATION_SECONDS} or more. Local emulation and tests "
            "only: CONNECTION_TTL_ALLOW_SHORT=true allows it."
        )
    return seconds


def _channels_per_connection(environ: Mapping[str, str]) -> int:
    raw = environ.get("CHANNELS_PER_CONNECTION", "").strip()
    if not raw:
        return DEFAULT_CHANNELS_PER_CONNECTION
    try:
        limit = int(raw)
    except ValueError:
        raise SettingsError(
            f"CHANNELS_PER_CONNECTION must be a whole number, not {raw!r}"
        ) from None
    if limit <= 0:
        raise SettingsError(f"CHANNELS_PER_CONNECTION must be positive, not {limit}")
    return limit


def _history_size(environ: Mapping[str, str]) -> int:
    raw = environ.get("HISTORY_SIZE", "").strip()
    if not raw:
        return DEFAULT_HISTORY_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise SettingsError(f"HISTORY_SIZE must be a whole number, not {raw!r}") from None
    if not 1 <= size <= MAX_HISTORY_SIZE:
        raise SettingsError(f"HISTORY_SIZE must be between 1 and {MAX_HISTORY_SIZE}, not {size}")
    return size


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (default ``os.environ``); raise SettingsError if unusable."""
    environ = os.environ if environ is None else environ
    table_name = _optional(environ, "CONNECTIONS_TABLE_NAME")
    if table_name is None:
        raise SettingsError(
            "CONNECTIONS_TABLE_NAME is not set: it names the DynamoDB table of connection records"
        )
    allow_short = _allow_short_ttl(environ)
    return Settings(
        connections_table_name=table_name,
        connection_ttl_seconds=_ttl_seconds(environ, allow_short=allow_short),
        connection_ttl_allow_short=allow_short,
        messages_queue_url=_optional(environ, "MESSAGES_QUEUE_URL"),
        messages_topic_arn=_optional(environ, "MESSAGES_TOPIC_ARN"),
        subscriptions_table_name=_optional(environ, "SUBSCRIPTIONS_TABLE_NAME"),
        # Set but empty: no public channel at all; unset: the default public:*.
        public_channel_patterns=parse_public_patterns(
            environ.get("SUMU_PUBLIC_CHANNELS", DEFAULT_PUBLIC_CHANNELS)
        ),
        channels_per_connection=_channels_per_connection(environ),
        history_table_name=_optional(environ, "HISTORY_TABLE_NAME"),
        history_size=_history_size(environ),
        apigw_endpoint=(_optional(environ, "APIGW_ENDPOINT") or "").rstrip("/") or None,
    )
