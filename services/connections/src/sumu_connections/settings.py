"""Environment -> one typed, validated settings object (read once per container)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# API Gateway closes every WebSocket connection after 2 hours, so a record older than that is
# stale: https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
DEFAULT_CONNECTION_TTL_SECONDS = 7200


class SettingsError(RuntimeError):
    """The environment is missing a variable or holds an unusable value (named in the message)."""


@dataclass(frozen=True)
class Settings:
    connections_table_name: str
    connection_ttl_seconds: int = DEFAULT_CONNECTION_TTL_SECONDS
    # Each is needed only by the route that uses it (send / publish); a deployment may offer
    # just one of the two, so their absence is reported per frame rather than at start.
    messages_queue_url: str | None = None
    messages_topic_arn: str | None = None


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _ttl_seconds(environ: Mapping[str, str]) -> int:
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
    return seconds


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (default ``os.environ``); raise SettingsError if unusable."""
    environ = os.environ if environ is None else environ
    table_name = _optional(environ, "CONNECTIONS_TABLE_NAME")
    if table_name is None:
        raise SettingsError(
            "CONNECTIONS_TABLE_NAME is not set: it names the DynamoDB table of connection records"
        )
    return Settings(
        connections_table_name=table_name,
        connection_ttl_seconds=_ttl_seconds(environ),
        messages_queue_url=_optional(environ, "MESSAGES_QUEUE_URL"),
        messages_topic_arn=_optional(environ, "MESSAGES_TOPIC_ARN"),
    )
