from __future__ import annotations

import importlib
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sumu_connections import logs
from sumu_connections.settings import DEFAULT_CONNECTION_TTL_SECONDS, SettingsError, load_settings


def test_only_the_table_is_required():
    # GIVEN only the table name
    # WHEN the settings are read
    settings = load_settings({"CONNECTIONS_TABLE_NAME": "connections"})

    # THEN the TTL defaults to API Gateway's 2 h and send / publish are simply not offered
    assert settings.connections_table_name == "connections"
    assert settings.connection_ttl_seconds == DEFAULT_CONNECTION_TTL_SECONDS == 7200
    assert settings.messages_queue_url is None
    assert settings.messages_topic_arn is None


def test_every_variable_is_read():
    settings = load_settings(
        {
            "CONNECTIONS_TABLE_NAME": "connections",
            "CONNECTION_TTL_SECONDS": "10800",
            "MESSAGES_QUEUE_URL": "http://127.0.0.1:4566/000000000000/messages",
            "MESSAGES_TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:messages",
        }
    )
    assert settings.connection_ttl_seconds == 10800
    assert settings.messages_queue_url == "http://127.0.0.1:4566/000000000000/messages"
    assert settings.messages_topic_arn == "arn:aws:sns:us-east-1:000000000000:messages"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({}, "CONNECTIONS_TABLE_NAME"),
        ({"CONNECTIONS_TABLE_NAME": "  "}, "CONNECTIONS_TABLE_NAME"),
        ({"CONNECTIONS_TABLE_NAME": "t", "CONNECTION_TTL_SECONDS": "2h"}, "CONNECTION_TTL_SECONDS"),
        ({"CONNECTIONS_TABLE_NAME": "t", "CONNECTION_TTL_SECONDS": "0"}, "CONNECTION_TTL_SECONDS"),
    ],
)
def test_a_missing_or_bad_variable_is_named(environ, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)


@pytest.mark.parametrize("seconds", [1, 60, 600, 3600, 7199])
def test_a_ttl_shorter_than_a_connection_can_live_is_refused(seconds):
    # GIVEN a TTL below API Gateway's 2 h maximum connection duration (TTL would delete the
    # records of connections that are still open: they stop receiving and are reported OFFLINE)
    environ = {"CONNECTIONS_TABLE_NAME": "t", "CONNECTION_TTL_SECONDS": str(seconds)}

    # WHEN the settings are read THEN they are refused, naming the variable, the limit and the
    # local-only way out
    with pytest.raises(SettingsError) as refused:
        load_settings(environ)
    message = str(refused.value)
    assert "CONNECTION_TTL_SECONDS" in message
    assert "7200" in message
    assert "CONNECTION_TTL_ALLOW_SHORT" in message


@pytest.mark.parametrize("seconds", [7200, 7201, 86400])
def test_a_ttl_of_two_hours_or_more_is_accepted(seconds):
    environ = {"CONNECTIONS_TABLE_NAME": "t", "CONNECTION_TTL_SECONDS": str(seconds)}
    assert load_settings(environ).connection_ttl_seconds == seconds


@pytest.mark.parametrize("allow", ["true", "TRUE", "1", "yes"])
def test_a_short_ttl_is_allowed_with_the_local_only_opt_out(allow):
    # GIVEN the emulation / test opt-out (the local stack's TTL tests use a 2 s lifetime)
    environ = {
        "CONNECTIONS_TABLE_NAME": "t",
        "CONNECTION_TTL_SECONDS": "2",
        "CONNECTION_TTL_ALLOW_SHORT": allow,
    }
    # WHEN / THEN the short TTL is used
    settings = load_settings(environ)
    assert settings.connection_ttl_seconds == 2
    assert settings.connection_ttl_allow_short is True


@pytest.mark.parametrize("allow", ["false", "0", "no", ""])
def test_the_opt_out_must_say_true(allow):
    environ = {
        "CONNECTIONS_TABLE_NAME": "t",
        "CONNECTION_TTL_SECONDS": "600",
        "CONNECTION_TTL_ALLOW_SHORT": allow,
    }
    with pytest.raises(SettingsError, match="CONNECTION_TTL_SECONDS"):
        load_settings(environ)


def test_a_misspelt_opt_out_is_named():
    environ = {"CONNECTIONS_TABLE_NAME": "t", "CONNECTION_TTL_ALLOW_SHORT": "yes please"}
    with pytest.raises(SettingsError, match="CONNECTION_TTL_ALLOW_SHORT"):
        load_settings(environ)


@pytest.mark.parametrize(
    ("lambda_level", "expected"),
    [
        ("TRACE", logging.DEBUG),
        ("FATAL", logging.CRITICAL),
        ("warn", logging.WARNING),
        ("nonsense", logging.INFO),
    ],
)
def test_any_lambda_log_level_imports_the_logs_module(
    monkeypatch: pytest.MonkeyPatch, lambda_level: str, expected: int
) -> None:
    # GIVEN Lambda's log level set to one of its own names (TRACE is not a logging level)
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", lambda_level)
    # WHEN the module is imported on a cold start THEN it sets a level instead of failing
    reloaded = importlib.reload(logs)
    assert reloaded.logger.level == expected
    monkeypatch.delenv("AWS_LAMBDA_LOG_LEVEL")
    importlib.reload(logs)


@given(seconds=st.integers(min_value=-(10**6), max_value=10**7), allow=st.booleans())
def test_the_ttl_rule_for_any_value(seconds, allow):
    environ = {"CONNECTIONS_TABLE_NAME": "t", "CONNECTION_TTL_SECONDS": str(seconds)}
    if allow:
        environ["CONNECTION_TTL_ALLOW_SHORT"] = "true"
    accepted = seconds >= 7200 or (allow and seconds > 0)
    if accepted:
        assert load_settings(environ).connection_ttl_seconds == seconds
    else:
        with pytest.raises(SettingsError, match="CONNECTION_TTL_SECONDS"):
            load_settings(environ)
