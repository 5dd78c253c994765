from __future__ import annotations

import importlib
import logging

import pytest
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
            "CONNECTION_TTL_SECONDS": "600",
            "MESSAGES_QUEUE_URL": "http://127.0.0.1:4566/000000000000/messages",
            "MESSAGES_TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:messages",
        }
    )
    assert settings.connection_ttl_seconds == 600
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
