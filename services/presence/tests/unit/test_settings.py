from __future__ import annotations

import pytest
from sumu_presence.settings import Settings, SettingsError

TABLE = {"CONNECTIONS_TABLE_NAME": "connections"}


def test_queue_is_the_default_source_and_needs_the_queue_url():
    settings = Settings.from_env({**TABLE, "MESSAGES_QUEUE_URL": "http://q"})
    assert settings == Settings("connections", "queue", "http://q")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "CONNECTIONS_TABLE_NAME is not set"),
        ({**TABLE}, "MESSAGES_QUEUE_URL is not set"),
        ({**TABLE, "PRESENCE_SOURCE": "topic"}, "MESSAGES_TOPIC_ARN is not set"),
        ({**TABLE, "PRESENCE_SOURCE": "queue", "MESSAGES_QUEUE_URL": " "}, "MESSAGES_QUEUE_URL"),
        ({**TABLE, "PRESENCE_SOURCE": "kinesis"}, "PRESENCE_SOURCE='kinesis' is not one of"),
    ],
)
def test_a_missing_or_wrong_variable_is_named(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_topic_source_takes_the_topic_and_ignores_the_queue():
    settings = Settings.from_env({**TABLE, "PRESENCE_SOURCE": "TOPIC", "MESSAGES_TOPIC_ARN": "arn"})
    assert settings == Settings("connections", "topic", "arn")


def test_stream_source_needs_no_target():
    assert Settings.from_env({**TABLE, "PRESENCE_SOURCE": "stream"}).target is None
