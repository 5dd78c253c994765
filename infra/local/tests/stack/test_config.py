"""sumu.toml and the flags that override it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sumu_local.stack.config import ConfigError, StackConfig, load_stack_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sumu.toml"
    path.write_text(text, "utf-8")
    return path


def test_a_handler_is_replaced_by_dotted_path_and_timeouts_tuned(tmp_path: Path) -> None:
    config = load_stack_config(
        write(
            tmp_path,
            """
            [stack]
            presence = "topic"
            [handlers]
            pusher = "my_team.pusher.handler"
            [timeouts]
            connection_ttl_seconds = 60
            visibility_timeout_seconds = 5
            [environment]
            PUSHER_CONCURRENCY = "8"
            """,
        )
    )
    assert config.handlers["pusher"] == "my_team.pusher.handler"
    assert config.handlers["authorizer"] == "sumu_authorizer.handler.handler"
    assert config.presence_source == "topic"
    assert config.timeouts.connection_ttl_seconds == 60
    assert config.timeouts.visibility_timeout_seconds == 5
    assert config.environment == {"PUSHER_CONCURRENCY": "8"}


def test_flags_override_the_file_and_none_means_not_given(tmp_path: Path) -> None:
    config = load_stack_config(write(tmp_path, "[stack]\nport = 4000\nstage = 'dev'\n"))
    config = config.with_overrides(port=5000, stage=None, presence_source="stream")
    assert (config.port, config.stage, config.presence_source) == (5000, "dev", "stream")


def test_no_file_means_the_defaults() -> None:
    config = load_stack_config(None)
    assert (config.port, config.aws_port, config.stage, config.presence_source) == (
        3001,
        4566,
        "mvp",
        "queue",
    )
    assert config.uses_local_issuer


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[handlers]\nmailer = 'x.y'\n", "unknown: mailer"),
        ("[handlers]\npusher = 3\n", "values must be strings"),
        ("[stack]\npresence = 'carrier-pigeon'\n", "presence must be one of"),
        ("[stack]\nprot = 1\n", "unknown keys: prot"),
        ("[timeouts]\nvisibility_timeout_seconds = -1\n", "non-negative"),
        ("[timeouts]\nforever = 1\n", "unknown keys: forever"),
        ("[timeouts]\nidle_timeout_seconds = 0\n", "idle_timeout_seconds must be at least"),
        ("[timeouts]\nsqs_batch_size = 11\n", "sqs_batch_size must be from 1 to 10"),
        ("[stack]\nhost = '::1'\n", "only listens on loopback"),
        ("[auth]\nissuer = 'https://idp'\n", "need --jwks-uri"),
        ("[stack]\nhost = '0.0.0.0'\n", "only listens on loopback"),
        ("stack = 1\n", "must be a table"),
        ("[stack\n", "sumu.toml"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_stack_config(write(tmp_path, text))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_stack_config(tmp_path / "nope.toml")


def test_a_real_identity_provider_replaces_the_local_issuer() -> None:
    config = StackConfig().with_overrides(
        jwks_uri="https://idp.example/.well-known/jwks.json", issuer="https://idp.example"
    )
    assert not config.uses_local_issuer
