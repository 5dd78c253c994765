"""Environment -> typed settings, read once per container with an error that names the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

PresenceSource = Literal["topic", "queue", "stream"]
PRESENCE_SOURCES: tuple[PresenceSource, ...] = get_args(PresenceSource)
DEFAULT_PRESENCE_SOURCE: PresenceSource = "queue"


class SettingsError(RuntimeError):
    """The environment cannot run the watchdog; raised before any record is touched."""


@dataclass(frozen=True)
class Settings:
    connections_table_name: str
    presence_source: PresenceSource
    # The one target the chosen source publishes to; None for ``stream`` (backends read the
    # table's stream themselves, so there is nothing to send).
    target: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        table = _required(env, "CONNECTIONS_TABLE_NAME", "the connections table to query")
        source = _presence_source(env)
        target: str | None = None
        if source == "topic":
            target = _required(env, "MESSAGES_TOPIC_ARN", "PRESENCE_SOURCE=topic publishes to it")
        elif source == "queue":
            target = _required(env, "MESSAGES_QUEUE_URL", "PRESENCE_SOURCE=queue sends to it")
        return cls(connections_table_name=table, presence_source=source, target=target)


def _required(env: Mapping[str, str], name: str, why: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set ({why})")
    return value


def _presence_source(env: Mapping[str, str]) -> PresenceSource:
    value = env.get("PRESENCE_SOURCE", "").strip().lower() or DEFAULT_PRESENCE_SOURCE
    for source in PRESENCE_SOURCES:
        if value == source:
            return source
    allowed = " | ".join(PRESENCE_SOURCES)
    raise SettingsError(f"PRESENCE_SOURCE={value!r} is not one of {allowed}")
