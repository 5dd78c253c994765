"""Each decision leaves one structured JSON log line with its reason, and never the token."""

from __future__ import annotations

import json
import logging

import pytest
from sumu_authorizer.settings import SettingsError

from ..conftest import Configure, Mint, connect_event


def decision_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "sumu_authorizer"
    ]


def test_allow_and_deny_are_logged_as_json_without_the_token(
    configure: Configure, mint: Mint, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a valid token, an expired one and a mangled one
    handler = configure()
    tokens = [mint(), mint(exp=1), mint() + "x", mint(header={"kid": "unknown"})]
    # WHEN each is presented
    with caplog.at_level(logging.INFO, logger="sumu_authorizer"):
        for token in tokens:
            handler(connect_event(token), None)
    # THEN there is one JSON line per decision, with the reason for a deny
    lines = [line for line in decision_lines(caplog) if line["event"] in {"allow", "deny"}]
    assert [line["event"] for line in lines] == ["allow", "deny", "deny", "deny"]
    assert lines[0]["sub"] == "alice"
    assert [line["reason"] for line in lines[1:]] == [
        "token expired",
        "bad signature",
        "no signing key for this kid",
    ]
    # AND no part of any token appears anywhere in the log
    for token in tokens:
        for segment in token.split("."):
            assert all(segment not in record.getMessage() for record in caplog.records)


def test_a_missing_token_is_logged_before_the_401(
    configure: Configure, caplog: pytest.LogCaptureFixture
) -> None:
    handler = configure()
    with (
        caplog.at_level(logging.INFO, logger="sumu_authorizer"),
        pytest.raises(Exception, match=r"^Unauthorized$"),
    ):
        handler(connect_event(), None)
    assert decision_lines(caplog)[-1]["event"] == "unauthorized"


def test_an_unexpected_failure_denies_and_logs_only_the_error_type(
    configure: Configure,
    mint: Mint,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a verifier that breaks in an unforeseen way, with the token in the error text
    handler = configure()
    token = mint()

    def broken(subject: str, claims: dict[str, object], settings: object) -> None:
        raise RuntimeError(f"boom {token}")

    monkeypatch.setattr("sumu_authorizer.authorizer.authorizer_context", broken)
    # WHEN a $connect arrives
    with caplog.at_level(logging.INFO, logger="sumu_authorizer"):
        response = handler(connect_event(token), None)
    # THEN it fails closed with a Deny and the log names the type, not the message
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    line = decision_lines(caplog)[-1]
    assert line == {
        "event": "deny",
        "reason": "internal error",
        "error": "RuntimeError",
        "method_arn": line["method_arn"],
    }
    assert all(token.split(".")[2] not in record.getMessage() for record in caplog.records)


def test_a_settings_error_is_logged_at_init_and_on_every_invocation(
    configure: Configure, mint: Mint, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an environment that cannot make an authorizer
    with caplog.at_level(logging.INFO, logger="sumu_authorizer"):
        handler = configure(JWT_ISSUER=None, JWT_AUTHORIZED_AUDIENCES=None)
        init_lines = decision_lines(caplog)
        # WHEN two $connects arrive
        for _ in range(2):
            with pytest.raises(SettingsError):
                handler(connect_event(mint()), None)
    # THEN the container said so when it started, at ERROR, and again on each invocation
    assert [line["event"] for line in init_lines] == ["settings_error"]
    assert "JWT_AUTHORIZED_AUDIENCES" in str(init_lines[0]["reason"])
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 3
