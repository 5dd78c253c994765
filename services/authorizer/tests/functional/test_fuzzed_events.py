"""Hypothesis: any event and any token gets a clean Allow, Deny or Unauthorized, nothing else."""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sumu_authorizer import handler as handler_module
from sumu_authorizer.settings import SettingsError, load_settings
from sumu_contracts import validate

from ..conftest import AUDIENCE, METHOD_ARN, Configure, JwksServer, Mint, connect_event

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
MAYBE_MAP = (
    st.none()
    | JSON
    | st.dictionaries(
        st.sampled_from(["authorization", "Authorization", "AUTHORIZATION", "x"])
        | st.text(max_size=12),
        JSON | st.text(max_size=200),
        max_size=3,
    )
)


@st.composite
def authorizer_events(draw: st.DrawFn) -> object:
    """Events of any shape: arbitrary JSON, or API Gateway's shape with keys missing or null."""
    if draw(st.booleans()):
        return draw(JSON)
    event: dict[str, object] = {}
    for key, values in (
        ("methodArn", st.none() | st.just(METHOD_ARN) | JSON),
        ("headers", MAYBE_MAP),
        ("queryStringParameters", MAYBE_MAP),
        ("requestContext", JSON),
        ("type", st.just("REQUEST") | JSON),
    ):
        if draw(st.booleans()):
            event[key] = draw(values)
    return event


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


HEADERS = st.fixed_dictionaries(
    {"alg": st.sampled_from(["RS256", "ES256", "EdDSA", "PS256", "HS256", "none"]) | JSON},
    optional={"kid": st.sampled_from(["rsa-1", "ec-1", "ed-1"]) | JSON, "crit": JSON, "typ": JSON},
)
JWT_ISH = st.tuples(
    st.one_of(HEADERS.map(lambda header: b64(json.dumps(header).encode())), st.text(max_size=40)),
    st.one_of(
        JSON.map(lambda claims: b64(json.dumps(claims).encode())), st.binary(max_size=60).map(b64)
    ),
    st.binary(max_size=300).map(b64),
).map(".".join)
TOKENS = st.one_of(
    st.text(max_size=300), JWT_ISH, st.text(min_size=8000, max_size=9000, alphabet="ab.-_")
)


def outcome(call: Callable[[], Any]) -> str:
    """'Unauthorized', or the policy's effect after checking it against the contract."""
    try:
        response = call()
    except Exception as error:
        return (
            "Unauthorized"
            if type(error) is Exception and str(error) == "Unauthorized"
            else repr(error)
        )
    validate("authorizer-response", response)
    return str(response["policyDocument"]["Statement"][0]["Effect"])


FUZZ = settings(suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def no_internal_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The fail-closed catch-all must never be what decided: every input has a named reason."""
    with caplog.at_level(logging.WARNING, logger="sumu_authorizer"):
        yield
    assert [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR and '"event":"settings_error"' not in record.getMessage()
    ] == []


def test_any_event_gets_a_clean_decision(configure: Configure) -> None:
    handler = configure(JWT_CONTEXT_CLAIMS="email,groups")

    @FUZZ
    @given(authorizer_events())
    def check(event: object) -> None:
        assert outcome(lambda: handler(event, None)) in {"Deny", "Unauthorized"}

    check()


def test_any_token_gets_a_clean_decision(configure: Configure, jwks_server: JwksServer) -> None:
    handler = configure()

    @FUZZ
    @given(TOKENS, st.sampled_from(["query", "header"]))
    def check(token: str, via: str) -> None:
        assert outcome(lambda: handler(connect_event(token, via=via), None)) in {
            "Deny",
            "Unauthorized",
        }

    check()


def test_any_change_to_a_valid_token_is_denied_or_equivalent(
    configure: Configure, mint: Mint
) -> None:
    handler = configure()
    token = mint()

    @FUZZ
    @given(st.integers(0, len(token) - 1), st.characters(codec="ascii"))
    def check(position: int, replacement: str) -> None:
        mutated = token[:position] + replacement + token[position + 1 :]
        decision = outcome(lambda: handler(connect_event(mutated), None))
        # A change can only be accepted if it decodes to the same bytes (base64url padding bits).
        assert decision in {"Deny", "Unauthorized"} or _same_bytes(mutated, token)

    check()


def test_any_claims_in_a_validly_signed_token_get_a_clean_decision(
    configure: Configure, mint: Mint
) -> None:
    handler = configure(JWT_CONTEXT_CLAIMS="extra,sub,nested")

    @FUZZ
    @given(
        st.dictionaries(
            st.sampled_from(
                # channels: the channels claim (issue 17), any JSON or a list of any strings
                [
                    "exp",
                    "nbf",
                    "iat",
                    "iss",
                    "aud",
                    "sub",
                    "client_id",
                    "extra",
                    "nested",
                    "channels",
                ]
            ),
            JSON | st.lists(st.text(max_size=140), max_size=120),
            max_size=5,
        )
    )
    def check(claims: dict[str, object]) -> None:
        assert outcome(lambda: handler(connect_event(mint(**claims)), None)) in {"Allow", "Deny"}

    check()


def _same_bytes(left: str, right: str) -> bool:
    def decoded(token: str) -> list[bytes] | None:
        try:
            return [
                base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in token.split(".")
            ]
        except ValueError:
            return None

    return decoded(left) is not None and decoded(left) == decoded(right)


SETTINGS_VALUES = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "true", "TRUE", "1", "yes", "on", "false", "0", "off", "maybe"]),
    # What an environment can hold: no NUL, no lone surrogate.
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20),
)


@st.composite
def environments(draw: st.DrawFn, jwks_server: JwksServer) -> dict[str, str]:
    """Any mix of the issuer, audience and opt-out variables, set, empty, junk or absent."""
    candidates = {
        "JWT_ISSUER": st.none() | st.just(jwks_server.base_url) | st.sampled_from(["", " ", "x"]),
        "JWT_AUTHORIZED_AUDIENCES": st.none()
        | st.sampled_from([AUDIENCE, f"other,{AUDIENCE}", "other", "", " , "]),
        "JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE": SETTINGS_VALUES,
        "JWT_VERIFY_EXPIRATION": SETTINGS_VALUES,
    }
    env = {"JWT_ISSUER_JWKS_URI": jwks_server.jwks_url}
    for name, values in candidates.items():
        value = draw(values)
        if value is not None:
            env[name] = value
    return env


def test_any_configuration_fails_closed_on_any_token(
    configure: Configure, jwks_server: JwksServer, mint: Mint
) -> None:
    """Whatever the environment, through the module-level container the Lambda runtime uses:
    a settings error on every call, or decisions that only let in tokens the configuration pins
    by issuer or audience (unless it explicitly opted out)."""
    # No JWT_ variable in the test process but what each example sets (restored afterwards).
    configure(JWT_ISSUER_JWKS_URI=None, JWT_ISSUER=None, JWT_AUTHORIZED_AUDIENCES=None)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        environments(jwks_server),
        st.sampled_from([jwks_server.base_url, "https://other.example"]),
        st.sampled_from([AUDIENCE, "other", None]),
        st.none() | authorizer_events(),
    )
    def check(env: dict[str, str], iss: str, aud: str | None, odd_event: object) -> None:
        event = connect_event(mint(iss=iss, aud=aud)) if odd_event is None else odd_event
        with mock.patch.dict(os.environ, env):
            handler_module.reset()  # a new container: init reads this environment
            decision = outcome(lambda: handler_module.handler(event, None))
        try:
            configured = load_settings(env)
        except SettingsError:
            assert decision.startswith("SettingsError(")
            return
        assert configured.allow_any_issuer_and_audience or configured.issuer or configured.audiences
        assert decision in {"Allow", "Deny", "Unauthorized"}
        if decision == "Allow":
            assert configured.issuer in {None, iss}
            assert not configured.audiences or aud in configured.audiences

    check()
