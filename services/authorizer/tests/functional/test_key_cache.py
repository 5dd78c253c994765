"""The per-container key cache against a real JWKS server: max-age, rotation, flood, outage."""

from __future__ import annotations

import functools
import json
import logging

import pytest
from sumu_authorizer.authorizer import Authorizer
from sumu_authorizer.key_source import fetch_json
from sumu_authorizer.key_store import (
    FAILURE_BACKOFF_SECONDS,
    MIN_TTL_SECONDS,
    REFETCH_BURST,
    REFETCH_REFILL_SECONDS,
    KeySourceConfig,
    KeyStore,
)
from sumu_authorizer.settings import load_settings
from sumu_contracts import validate

from ..conftest import AUDIENCE, JwksServer, Mint, SigningKey, connect_event

JWKS_PATH = "/.well-known/jwks.json"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Container:
    """One Lambda container: an Authorizer whose key store runs on a clock the test moves."""

    def __init__(
        self, jwks_server: JwksServer, url: str | None = None, timeout: float = 2.0
    ) -> None:
        self.clock = FakeClock()
        settings = load_settings(
            {
                "JWT_ISSUER_JWKS_URI": url or jwks_server.jwks_url,
                "JWT_ISSUER": jwks_server.base_url,
                "JWT_AUTHORIZED_AUDIENCES": AUDIENCE,
            }
        )
        store = KeyStore(
            KeySourceConfig(settings.jwks_uri, settings.issuer),
            fetch=functools.partial(fetch_json, timeout=timeout),
            clock=self.clock,
        )
        self.authorizer = Authorizer(settings, key_store=store)

    def effect(self, token: str) -> str:
        response = self.authorizer.authorize(connect_event(token))
        validate("authorizer-response", response)
        return str(response["policyDocument"]["Statement"][0]["Effect"])


@pytest.fixture
def container(jwks_server: JwksServer) -> Container:
    return Container(jwks_server)


def test_keys_are_fetched_once_and_kept_for_max_age(
    container: Container, mint: Mint, jwks_server: JwksServer
) -> None:
    # GIVEN a JWKS served with max-age=120
    jwks_server.cache_control = "max-age=120"
    # WHEN tokens arrive during those 120 s
    for _ in range(5):
        assert container.effect(mint()) == "Allow"
        container.clock.advance(20)
    # THEN the JWKS was fetched once, and again only once it went stale
    assert jwks_server.count(JWKS_PATH) == 1
    container.clock.advance(21)
    assert container.effect(mint()) == "Allow"
    assert jwks_server.count(JWKS_PATH) == 2


def test_without_cache_control_keys_are_kept_for_one_hour(
    container: Container, mint: Mint, jwks_server: JwksServer
) -> None:
    jwks_server.cache_control = None
    assert container.effect(mint()) == "Allow"
    container.clock.advance(3599)
    assert container.effect(mint()) == "Allow"
    assert jwks_server.count(JWKS_PATH) == 1
    container.clock.advance(2)
    assert container.effect(mint()) == "Allow"
    assert jwks_server.count(JWKS_PATH) == 2


@pytest.mark.parametrize("cache_control", ["max-age=0", "no-store", "no-cache"])
def test_a_zero_max_age_is_raised_to_the_minimum(
    container: Container, mint: Mint, jwks_server: JwksServer, cache_control: str
) -> None:
    jwks_server.cache_control = cache_control
    for _ in range(10):
        assert container.effect(mint()) == "Allow"
    container.clock.advance(MIN_TTL_SECONDS - 1)
    assert container.effect(mint()) == "Allow"
    assert jwks_server.count(JWKS_PATH) == 1


def test_a_rotated_key_is_accepted_at_once_and_the_retired_one_refused(
    container: Container, mint: Mint, jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    # GIVEN a container that cached the current key
    jwks_server.published = [keys["rsa"]]
    assert container.effect(mint("rsa")) == "Allow"
    # WHEN the provider publishes a new key and retires the old one, within the max-age
    jwks_server.published = [keys["rsa-next"]]
    container.clock.advance(1)
    # THEN a token signed by the new key is accepted right away (one refetch for the unknown kid)
    assert container.effect(mint("rsa-next")) == "Allow"
    assert jwks_server.count(JWKS_PATH) == 2
    # AND a token of the retired key is refused: it is gone from the refreshed set
    assert container.effect(mint("rsa")) == "Deny"


def test_a_flood_of_unknown_kids_fetches_only_a_few_times_a_minute(
    container: Container, mint: Mint, jwks_server: JwksServer
) -> None:
    assert container.effect(mint()) == "Allow"
    # 600 tokens with made-up kids over one minute, ten a second
    for index in range(600):
        assert container.effect(mint(header={"kid": f"made-up-{index}"})) == "Deny"
        container.clock.advance(0.1)
    refetches = jwks_server.count(JWKS_PATH) - 1
    assert refetches <= REFETCH_BURST + 60 / REFETCH_REFILL_SECONDS
    # and the real key kept working throughout
    assert container.effect(mint()) == "Allow"


def test_during_an_outage_known_keys_keep_working(
    container: Container, mint: Mint, jwks_server: JwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN cached keys, then a JWKS endpoint that fails
    assert container.effect(mint()) == "Allow"
    jwks_server.status = 503
    # WHEN the keys go stale
    container.clock.advance(3601)
    with caplog.at_level(logging.WARNING, logger="sumu_authorizer"):
        assert container.effect(mint()) == "Allow"
    # THEN the refresh failed, was logged, and the known keys still verify
    assert jwks_server.count(JWKS_PATH) == 2
    assert any(
        json.loads(record.getMessage())["event"] == "jwks_fetch_failed" for record in caplog.records
    )
    # AND the failing endpoint is not hammered: the next attempt waits for the backoff
    for _ in range(20):
        assert container.effect(mint()) == "Allow"
    assert jwks_server.count(JWKS_PATH) == 2
    container.clock.advance(FAILURE_BACKOFF_SECONDS)
    jwks_server.status = 200
    assert container.effect(mint()) == "Allow"
    assert jwks_server.count(JWKS_PATH) == 3


@pytest.mark.parametrize("failure", ["status", "not json", "empty set", "only hmac keys"])
def test_a_bad_refresh_keeps_the_known_keys(
    container: Container, mint: Mint, jwks_server: JwksServer, failure: str
) -> None:
    assert container.effect(mint()) == "Allow"
    if failure == "status":
        jwks_server.status = 500
    elif failure == "not json":
        jwks_server.body_override = b"<html>maintenance</html>"
    elif failure == "empty set":
        jwks_server.body_override = b'{"keys": []}'
    else:
        jwks_server.body_override = b'{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "rsa-1"}]}'
    container.clock.advance(3601)
    assert container.effect(mint()) == "Allow"
    assert jwks_server.count(JWKS_PATH) == 2


def test_with_no_keys_at_all_every_token_is_denied(
    container: Container, mint: Mint, jwks_server: JwksServer
) -> None:
    jwks_server.status = 500
    assert container.effect(mint()) == "Deny"
    # once the endpoint recovers, the next attempt after the backoff (or a refetch) lets it in
    jwks_server.status = 200
    container.clock.advance(FAILURE_BACKOFF_SECONDS)
    assert container.effect(mint()) == "Allow"


def test_a_hanging_endpoint_is_given_up_after_the_timeout(
    jwks_server: JwksServer, mint: Mint
) -> None:
    jwks_server.delay_seconds = 1.5
    container = Container(jwks_server, timeout=0.3)
    assert container.effect(mint()) == "Deny"


def test_an_unreachable_endpoint_denies(jwks_server: JwksServer, mint: Mint) -> None:
    from sumu_testkit import free_port  # noqa: PLC0415

    container = Container(jwks_server, url=f"http://127.0.0.1:{free_port()}/jwks.json")
    assert container.effect(mint()) == "Deny"
