"""The per-container cache of the issuer's keys: refreshed by max-age, refetched on rotation.

- Keys live for the document's Cache-Control max-age (default one hour, clamped to
  [MIN_TTL_SECONDS, MAX_TTL_SECONDS] so a ``max-age=0`` cannot turn every $connect into a fetch).
- A token whose kid is unknown triggers a refetch, so a rotated key works as soon as it is
  published; those refetches draw on a small token bucket, so a flood of made-up kids costs at
  most REFETCH_BURST + 60 / REFETCH_REFILL_SECONDS fetches in any minute.
- When a fetch fails, the keys already known keep working and the next scheduled attempt waits
  FAILURE_BACKOFF_SECONDS; with no keys at all every token is denied.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from sumu_authorizer.audit import log_event
from sumu_authorizer.key_set import KeyDocumentError, KeyRing, VerificationKey, parse_key_document
from sumu_authorizer.key_source import FetchedDocument, FetchError, discover_jwks_uri, fetch_json

DEFAULT_TTL_SECONDS = 3600
MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 86400
FAILURE_BACKOFF_SECONDS = 10.0
REFETCH_BURST = 3
REFETCH_REFILL_SECONDS = 20.0


class KeySourceConfig(NamedTuple):
    jwks_uri: str | None  # wins over discovery when both are set
    issuer: str | None
    ca_certs: str | None = None  # JWT_ISSUER_CA_CERTS: roots trusted instead of the default


class RefetchBudget:
    """A token bucket: ``burst`` refetches at once, then one every ``refill_seconds``."""

    def __init__(self, burst: int, refill_seconds: float, now: float) -> None:
        self._burst = burst
        self._refill_seconds = refill_seconds
        self._tokens = float(burst)
        self._updated_at = now

    def take(self, now: float) -> bool:
        elapsed = max(0.0, now - self._updated_at)
        self._tokens = min(float(self._burst), self._tokens + elapsed / self._refill_seconds)
        self._updated_at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


class KeyStore:
    def __init__(
        self,
        config: KeySourceConfig,
        fetch: Callable[[str], FetchedDocument] | None = None,
        discover: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._fetch = fetch or functools.partial(fetch_json, ca_certs=config.ca_certs)
        self._discover = discover or functools.partial(discover_jwks_uri, ca_certs=config.ca_certs)
        self._clock = clock
        self._jwks_uri = config.jwks_uri
        self._ring = KeyRing()
        self._expires_at = 0.0  # monotonic time after which the ring is refreshed
        self._retry_at = 0.0  # no scheduled attempt before this after a failure
        self._budget = RefetchBudget(REFETCH_BURST, REFETCH_REFILL_SECONDS, clock())
        self._lock = threading.Lock()  # the local stack may call the handler from threads

    def prefetch(self) -> None:
        """Fetch the keys ahead of the first token (Lambda's init phase, a SnapStart restore).

        A failure here is logged like any refresh, but sets no backoff: the first token tries
        again at once, so a key endpoint that was not up yet when the container started (the
        local stack starts its functions and its JWKS server side by side) costs nobody a Deny.
        """
        with self._lock:
            self._expires_at = 0.0  # keys already held (a restored snapshot's) count as stale
            self._refresh(self._clock())
            self._retry_at = 0.0

    def candidates(self, kid: str | None) -> tuple[VerificationKey, ...]:
        """Keys that may verify a token with this kid: refreshed when stale, refetched if unknown."""
        now = self._clock()
        if now < self._expires_at:
            found = self._ring.candidates(kid)
            if found:
                return found
        with self._lock:
            refreshed = False
            if now >= self._expires_at and now >= self._retry_at:
                self._refresh(now)
                refreshed = True
            found = self._ring.candidates(kid)
            if not found and not refreshed and self._budget.take(now):
                self._refresh(now)
                found = self._ring.candidates(kid)
            return found

    def _refresh(self, now: float) -> None:
        try:
            if self._jwks_uri is None:
                if self._config.issuer is None:
                    raise KeyDocumentError("neither a JWKS URI nor an issuer to discover it from")
                self._jwks_uri = self._discover(self._config.issuer)
            fetched = self._fetch(self._jwks_uri)
            ring = parse_key_document(fetched.document)
            if not ring.keys:
                raise KeyDocumentError("key document holds no usable signature key")
        except (FetchError, KeyDocumentError) as error:
            self._retry_at = now + FAILURE_BACKOFF_SECONDS
            log_event(
                logging.WARNING,
                "jwks_fetch_failed",
                reason=str(error),
                known_keys=len(self._ring.keys),
            )
            return
        ttl = DEFAULT_TTL_SECONDS if fetched.max_age is None else fetched.max_age
        self._ring = ring
        self._expires_at = now + min(max(ttl, MIN_TTL_SECONDS), MAX_TTL_SECONDS)
        self._retry_at = 0.0
