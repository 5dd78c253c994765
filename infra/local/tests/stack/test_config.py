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
        ("[auth]\njwks_uri = 'https://idp/keys'\n", "needs --issuer or --audience"),
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


def test_functions_tables_resolve_paths_against_the_config_file(tmp_path: Path) -> None:
    # GIVEN a team's code and interpreter next to sumu.toml
    (tmp_path / "src").mkdir()
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    config = load_stack_config(
        write(
            tmp_path,
            """
            [functions.pusher]
            handler = "app.main.handler"
            code = "src"
            python = "venv/bin/python"
            timeout_seconds = 45
            concurrency = 3
            environment = { PUSHER_CONCURRENCY = "8" }
            [functions.presence]
            command = ["sh", "-c", "exec bootstrap"]
            """,
        )
    )
    # THEN the paths are absolute, relative to the file, and the rest is as written
    pusher = config.function_spec("pusher")
    assert pusher.code == tmp_path / "src"
    assert pusher.python == tmp_path / "venv" / "bin" / "python"
    assert (pusher.handler, pusher.timeout_seconds, pusher.concurrency) == (
        "app.main.handler",
        45,
        3,
    )
    assert pusher.environment == {"PUSHER_CONCURRENCY": "8"}
    presence = config.function_spec("presence")
    assert presence.command is not None
    assert Path(presence.command[0]).name == "sh"
    assert presence.command[1:] == ("-c", "exec bootstrap")


def test_default_timeouts_mirror_terraform_and_handlers_stay_a_shorthand(tmp_path: Path) -> None:
    config = load_stack_config(write(tmp_path, '[handlers]\npusher = "my_team.pusher.handler"\n'))
    timeouts = {name: config.function_spec(name).timeout_seconds for name in FUNCTIONS}
    assert timeouts == {"authorizer": 10, "connections": 15, "pusher": 30, "presence": 30}
    assert config.function_spec("pusher").handler == "my_team.pusher.handler"
    assert config.function_spec("pusher").python is None  # the stack's interpreter
    assert config.function_mode == "process"


FUNCTIONS = ("authorizer", "connections", "pusher", "presence")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[function.pusher]\nhandler = 'a.b'\n", r"unknown table \[function\]"),
        ("[functions.pusher]\nhandlr = 'a.b'\n", r"\[functions.pusher\] has unknown keys: handlr"),
        ("[functions.pushr]\nhandler = 'a.b'\n", r"\[functions.pushr\]: unknown function"),
        ("[functions.pusher]\ncode = 'missing'\n", r"code folder .*missing does not exist"),
        (
            "[functions.pusher]\npython = 'venv/bin/python'\n",
            r"python: .*venv/bin/python does not exist",
        ),
        (
            "[functions.pusher]\npython = 'no-such-python-3.99'\n",
            r"'no-such-python-3.99' is not on PATH",
        ),
        ("[functions.pusher]\ncommand = ['./bootstrap']\n", r"command: .*bootstrap does not exist"),
        ("[functions.pusher]\ncommand = []\n", "command must be a non-empty list"),
        ("[functions.pusher]\ntimeout_seconds = 0\n", "timeout_seconds must be a number above 0"),
        ("[functions.pusher]\ntimeout_seconds = -3\n", "timeout_seconds must be a number above 0"),
        ("[functions.pusher]\ntimeout_seconds = 901\n", "at most 900"),
        ("[functions.pusher]\nconcurrency = 0\n", "concurrency must be a whole number"),
        ("[functions.pusher]\nhandler = 'nodots'\n", "handler must be module.function"),
        ("[functions.pusher]\nenvironment = { N = 1 }\n", "values must be strings: N"),
        (
            "[functions.pusher]\ncommand = ['sh']\npython = 'sh'\n",
            "command replaces python",
        ),
        (
            "[handlers]\npusher = 'a.b'\n[functions.pusher]\nhandler = 'c.d'\n",
            r"handler is also set in \[handlers\]",
        ),
        ("[handlers]\npushr = 'a.b'\n", r"\[handlers\] knows .*unknown: pushr"),
        ("[stack]\nfunctions = 'threads'\n", r"\[stack\] functions must be one of"),
        (
            "[stack]\nfunctions = 'inprocess'\n[functions.pusher]\ncode = '.'\n",
            "cannot run code, python or command",
        ),
    ],
)
def test_a_config_the_stack_cannot_run_is_refused_naming_what(
    tmp_path: Path, text: str, names: str
) -> None:
    with pytest.raises(ConfigError, match=names):
        load_stack_config(write(tmp_path, text))
