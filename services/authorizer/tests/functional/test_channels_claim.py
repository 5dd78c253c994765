"""The channels claim (issue 17): passed through the context as a JSON-encoded list of patterns."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sumu_authorizer.channels import MAX_PATTERNS, channel_patterns
from sumu_contracts import validate

from ..conftest import Configure, Mint, connect_event
from .test_decision_log import decision_lines


def allowed_context(handler: object, token: str) -> dict[str, object]:
    response = handler(connect_event(token), None)  # type: ignore[operator]
    validate("authorizer-response", response)
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    context: dict[str, object] = response["context"]
    return context


def test_a_list_claim_is_passed_as_a_json_list(configure: Configure, mint: Mint) -> None:
    context = allowed_context(configure(), mint(channels=["room-*", "public:news"]))
    assert context == {"sub": "alice", "channels": '["room-*","public:news"]'}
    assert json.loads(str(context["channels"])) == ["room-*", "public:news"]


def test_a_space_separated_claim_is_split(configure: Configure, mint: Mint) -> None:
    context = allowed_context(configure(), mint(channels="room-1  room-*\tlobby"))
    assert json.loads(str(context["channels"])) == ["room-1", "room-*", "lobby"]


def test_an_absent_claim_leaves_the_key_out(configure: Configure, mint: Mint) -> None:
    assert "channels" not in allowed_context(configure(), mint())


def test_an_empty_list_is_passed_as_an_empty_list(configure: Configure, mint: Mint) -> None:
    assert allowed_context(configure(), mint(channels=[]))["channels"] == "[]"


@pytest.mark.parametrize("claim", [5, True, {"room-*": True}, ["room-*", 7], [["room-*"]]])
def test_a_claim_of_another_type_gives_no_patterns_and_a_warning(
    configure: Configure, mint: Mint, caplog: pytest.LogCaptureFixture, claim: object
) -> None:
    # WHEN the claim is neither a list of strings nor a string
    with caplog.at_level(logging.INFO, logger="sumu_authorizer"):
        context = allowed_context(configure(), mint(channels=claim))
    # THEN the connection is still allowed, without the key, and a WARN line says why
    assert "channels" not in context
    [warning] = [line for line in decision_lines(caplog) if line["event"] != "allow"]
    assert warning["event"] == "channels_claim_ignored"
    assert warning["claim"] == "channels"


def test_a_custom_claim_name(configure: Configure, mint: Mint) -> None:
    # GIVEN JWT_CHANNELS_CLAIM names the provider's claim
    handler = configure(JWT_CHANNELS_CLAIM="https://example.com/channels")
    token = mint(**{"https://example.com/channels": ["team-7:*"], "channels": ["ignored"]})
    # THEN that claim is read, and the context key is still "channels"
    assert allowed_context(handler, token)["channels"] == '["team-7:*"]'


def test_context_claims_cannot_overwrite_the_channels_key(configure: Configure, mint: Mint) -> None:
    handler = configure(JWT_CONTEXT_CLAIMS="channels", JWT_CHANNELS_CLAIM="grants")
    context = allowed_context(handler, mint(channels="sneaky", grants="room-1"))
    assert context["channels"] == '["room-1"]'


def test_patterns_are_capped_in_number_and_shape(
    configure: Configure, mint: Mint, caplog: pytest.LogCaptureFixture
) -> None:
    claim = [f"room-{n}" for n in range(MAX_PATTERNS + 20)] + ["x" * 129, "a b/c"]
    with caplog.at_level(logging.INFO, logger="sumu_authorizer"):
        context = allowed_context(configure(), mint(channels=claim))
    assert json.loads(str(context["channels"])) == claim[:MAX_PATTERNS]
    assert any(line["event"] == "channels_claim_ignored" for line in decision_lines(caplog))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    claim=st.one_of(
        st.text(max_size=300),
        st.lists(st.text(max_size=140), max_size=150),
        st.integers(),
        st.none(),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )
)
def test_any_claim_gives_a_bounded_list_of_pattern_strings_or_is_refused(claim: object) -> None:
    try:
        patterns, _ = channel_patterns(claim)
    except ValueError:
        assert not isinstance(claim, str | list)
        return
    assert len(patterns) <= MAX_PATTERNS
    assert all(0 < len(pattern) <= 128 for pattern in patterns)
    assert len(json.dumps(patterns)) < 14_000
