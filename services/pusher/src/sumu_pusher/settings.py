"""The pusher's configuration: environment variables read and validated once per container."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

# The HTTP pool of the management API client. PUSHER_CONCURRENCY defaults to it, and the pool is
# always sized to the concurrency: a post that takes a semaphore slot must find a free socket,
# or it just queues inside aiohttp while holding the slot.
DEFAULT_HTTP_POOL_SIZE = 64

# A connection answers 410 until its $connect has returned, but its record is written inside
# $connect, and ``connected_at`` is API Gateway's ``connectedAt``, taken before the REQUEST
# authorizer runs. The authorizer and the $connect integration are each bounded by API Gateway's
# 29 s integration timeout, so a $connect still running is at most ~58 s past ``connected_at``;
# 60 s covers both plus a little clock skew. A younger record answering 410 is not pruned: if
# its connection did die, $disconnect or the TTL removes it, or the next 410 after the grace.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
DEFAULT_PRUNE_GRACE_SECONDS = 60


class SettingsError(RuntimeError):
    """The environment is missing a variable or holds an unusable value."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter for retryable posts.

    Full jitter (sleep a random time in [0, min(cap, base * 2**attempt)]) spreads the retries of
    thousands of concurrent posts instead of synchronising them:
    https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
    """

    max_attempts: int = 4
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0

    def delay(self, retry_number: int, random_fraction: float) -> float:
        """Sleep before retry ``retry_number`` (1 for the first retry); fraction in [0, 1)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** (retry_number - 1))
        return ceiling * random_fraction


@dataclass(frozen=True)
class Settings:
    connections_table_name: str
    apigw_endpoint: str
    concurrency: int = DEFAULT_HTTP_POOL_SIZE
    notifications_dlq_url: str | None = None
    retry: RetryPolicy = RetryPolicy()
    post_timeout_s: float = 3.0
    safety_margin_s: float = 2.0
    # None = choose from the table's item count (see store.scan_segments_for).
    scan_segments: int | None = None
    # Serve a batch naming many users from one Scan when it reads less than their Queries.
    selective_scan: bool = False
    # Records younger than this are not deleted on a 410 (see DEFAULT_PRUNE_GRACE_SECONDS).
    prune_grace_s: int = DEFAULT_PRUNE_GRACE_SECONDS
    # Channels (issue 17); None: a request naming channels fails loudly (see core).
    subscriptions_table_name: str | None = None
    # History and recovery (issue 18); None: channel messages carry no seq (see history.py).
    history_table_name: str | None = None
    history_ttl_s: int = 300
    # Idempotent requests (issue 18); None: request ids are not deduplicated.
    idempotency_table_name: str | None = None
    idempotency_ttl_s: int = 3600

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        table = _required(environ, "CONNECTIONS_TABLE_NAME")
        endpoint = _required(environ, "APIGW_ENDPOINT").rstrip("/")
        if not endpoint.startswith(("http://", "https://")):
            raise SettingsError(
                f"APIGW_ENDPOINT must be the management API URL including the stage "
                f"(https://<api-id>.execute-api.<region>.amazonaws.com/<stage>), got {endpoint!r}"
            )
        segments_text = environ.get("PUSHER_SCAN_SEGMENTS", "auto").strip() or "auto"
        return cls(
            connections_table_name=table,
            apigw_endpoint=endpoint,
            concurrency=_integer(environ, "PUSHER_CONCURRENCY", DEFAULT_HTTP_POOL_SIZE, 1, 1000),
            notifications_dlq_url=environ.get("NOTIFICATIONS_DLQ_URL", "").strip() or None,
            retry=RetryPolicy(
                max_attempts=_integer(environ, "PUSHER_MAX_ATTEMPTS", 4, 1, 20),
                base_delay_s=_integer(environ, "PUSHER_BACKOFF_BASE_MS", 100, 0, 60_000) / 1000,
                max_delay_s=_integer(environ, "PUSHER_BACKOFF_MAX_MS", 2000, 0, 60_000) / 1000,
            ),
            post_timeout_s=_integer(environ, "PUSHER_POST_TIMEOUT_MS", 3000, 1, 60_000) / 1000,
            safety_margin_s=_integer(environ, "PUSHER_SAFETY_MARGIN_MS", 2000, 0, 60_000) / 1000,
            scan_segments=None
            if segments_text == "auto"
            else _integer(environ, "PUSHER_SCAN_SEGMENTS", 1, 1, 1000),
            selective_scan=_choice(environ, "PUSHER_SELECTIVE_SCAN", ("never", "auto")) == "auto",
            prune_grace_s=_integer(
                environ, "PUSHER_PRUNE_GRACE_SECONDS", DEFAULT_PRUNE_GRACE_SECONDS, 0, 7200
            ),
            subscriptions_table_name=environ.get("SUBSCRIPTIONS_TABLE_NAME", "").strip() or None,
            history_table_name=environ.get("HISTORY_TABLE_NAME", "").strip() or None,
            history_ttl_s=_integer(environ, "HISTORY_TTL_SECONDS", 300, 1, 366 * 86400),
            idempotency_table_name=environ.get("IDEMPOTENCY_TABLE_NAME", "").strip() or None,
            idempotency_ttl_s=_integer(environ, "IDEMPOTENCY_TTL_SECONDS", 3600, 1, 366 * 86400),
        )


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise SettingsError(f"sumu-pusher needs the environment variable {name}; it is not set")
    return value


def _integer(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {text!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = environ.get(name, "").strip() or choices[0]
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


@cache
def load_settings() -> Settings:
    """The settings of this container, read from the environment on first use."""
    return Settings.from_env(os.environ)
