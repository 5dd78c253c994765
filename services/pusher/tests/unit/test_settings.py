"""Settings from the environment: defaults, and errors that name the variable."""

from __future__ import annotations

import pytest
from sumu_pusher.settings import DEFAULT_HTTP_POOL_SIZE, RetryPolicy, Settings, SettingsError

BASE = {"CONNECTIONS_TABLE_NAME": "t", "APIGW_ENDPOINT": "https://x.execute-api/mvp/"}


def test_defaults():
    settings = Settings.from_env(BASE)
    assert settings.apigw_endpoint == "https://x.execute-api/mvp"
    assert settings.concurrency == DEFAULT_HTTP_POOL_SIZE
    assert settings.notifications_dlq_url is None
    assert settings.scan_segments is None
    assert settings.retry == RetryPolicy(4, 0.1, 2.0)
    assert settings.prune_grace_s == 60


@pytest.mark.parametrize("missing", ["CONNECTIONS_TABLE_NAME", "APIGW_ENDPOINT"])
def test_a_missing_variable_is_named(missing):
    environ = {name: value for name, value in BASE.items() if name != missing}
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env(environ)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PUSHER_CONCURRENCY", "many"),
        ("PUSHER_CONCURRENCY", "0"),
        ("PUSHER_MAX_ATTEMPTS", "-1"),
        ("PUSHER_SCAN_SEGMENTS", "x"),
        ("PUSHER_PRUNE_GRACE_SECONDS", "-1"),
        ("APIGW_ENDPOINT", "execute-api/mvp"),
    ],
)
def test_unusable_values_are_named(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({**BASE, name: value})


def test_backoff_is_exponential_capped_and_jittered():
    policy = RetryPolicy(max_attempts=10, base_delay_s=0.1, max_delay_s=1.0)
    assert [policy.delay(n, 1.0) for n in (1, 2, 3, 4, 5)] == [0.1, 0.2, 0.4, 0.8, 1.0]
    assert policy.delay(3, 0.5) == 0.2
    assert policy.delay(3, 0.0) == 0.0
