"""The local stack's settings: defaults, then ``sumu.toml``, then command-line flags.

``sumu.toml`` (every table and key optional)::

    [stack]
    port = 3001
    aws_port = 4566
    stage = "mvp"
    presence = "queue"            # topic | queue | stream
    state_dir = ".sumu"

    [auth]                        # a real identity provider instead of the local issuer
    jwks_uri = "https://.../.well-known/jwks.json"
    issuer = "https://..."
    audience = "my-client-id"     # comma list

    [handlers]                    # replace any service by dotted path
    authorizer = "sumu_authorizer.handler.handler"
    connections = "sumu_connections.handler.handler"
    pusher = "sumu_pusher.handler.handler"
    presence = "sumu_presence.handler.handler"

    [timeouts]
    connection_ttl_seconds = 7200
    ...                           # every field of Timeouts below

    [environment]                 # extra variables for the handlers
    PUSHER_CONCURRENCY = "64"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, cast

PresenceSource = Literal["topic", "queue", "stream"]
PRESENCE_SOURCES: tuple[PresenceSource, ...] = ("topic", "queue", "stream")
FUNCTION_NAMES = ("authorizer", "connections", "pusher", "presence")
DEFAULT_HANDLERS = {
    "authorizer": "sumu_authorizer.handler.handler",
    "connections": "sumu_connections.handler.handler",
    "pusher": "sumu_pusher.handler.handler",
    "presence": "sumu_presence.handler.handler",
}
LOCAL_AUDIENCE = "sumu-local"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")  # IPv4: the stack probes and prints IPv4 URLs


class ConfigError(ValueError):
    """A sumu.toml or flag value the stack cannot run with."""


# What AWS accepts (SQS ReceiveMessage takes 1-10 messages and waits 0-20 s; a stream batch is
# 1-10,000 records) and what the gateway and functions need (a duration of 0 would close every
# connection or cut every invocation at once). Unlisted settings only have to be >= 0.
_SMALLEST_DURATION = 0.001
TIMEOUT_BOUNDS: dict[str, tuple[float, float | None]] = {
    "connection_ttl_seconds": (1, None),
    "idle_timeout_seconds": (_SMALLEST_DURATION, None),
    "max_duration_seconds": (_SMALLEST_DURATION, None),
    "integration_timeout_seconds": (_SMALLEST_DURATION, None),
    "pusher_timeout_seconds": (_SMALLEST_DURATION, 900),
    "presence_timeout_seconds": (_SMALLEST_DURATION, 900),
    "visibility_timeout_seconds": (1, 43_200),
    "max_receive_count": (1, 1000),
    "sqs_batch_size": (1, 10),
    "sqs_wait_seconds": (0, 20),
    "sqs_pollers": (1, 100),
    "stream_batch_size": (1, 10_000),
    "ttl_sweep_seconds": (_SMALLEST_DURATION, None),
}


@dataclass(frozen=True)
class Timeouts:
    """Durations and sizes that AWS fixes or Terraform sets; tests shrink them."""

    connection_ttl_seconds: int = 7200  # CONNECTION_TTL_SECONDS of the connections service
    idle_timeout_seconds: float = 600.0  # API Gateway: 10 minutes idle
    max_duration_seconds: float = 7200.0  # API Gateway: 2 hours per connection
    integration_timeout_seconds: float = 29.0  # API Gateway's integration timeout
    pusher_timeout_seconds: float = 30.0  # the pusher function's Lambda timeout
    presence_timeout_seconds: float = 30.0
    visibility_timeout_seconds: int = 180  # Lambda's advice: 6x the function timeout
    max_receive_count: int = 3  # redrive to the DLQ after this many receives
    sqs_batch_size: int = 10  # Lambda's SQS default batch size
    sqs_wait_seconds: int = 1  # long poll; short so that shutdown is quick
    sqs_pollers: int = 2  # batches in flight at once (Lambda starts with 5 pollers)
    stream_batch_size: int = 100  # Lambda's DynamoDB stream default batch size
    stream_poll_seconds: float = 0.25  # Lambda polls each shard 4 times a second
    stream_max_retries: int = 10  # then the batch is logged and skipped, like MaximumRetryAttempts
    ttl_sweep_seconds: float = 5.0  # how often expired connections are deleted


@dataclass(frozen=True)
class StackConfig:
    port: int = 3001
    aws_port: int = 4566
    host: str = "127.0.0.1"
    stage: str = "mvp"
    presence_source: PresenceSource = "queue"
    state_dir: Path = Path(".sumu")
    region: str = "us-east-1"
    jwks_uri: str | None = None  # None: the local token issuer
    issuer: str | None = None
    audience: str | None = None
    handlers: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_HANDLERS))
    timeouts: Timeouts = field(default_factory=Timeouts)
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def uses_local_issuer(self) -> bool:
        return self.jwks_uri is None

    def with_overrides(self, **overrides: Any) -> StackConfig:
        """A copy with the given values, ignoring None (a flag the user did not pass)."""
        given = {key: value for key, value in overrides.items() if value is not None}
        config = replace(self, **given)
        config.validate()
        return config

    def validate(self) -> None:
        if self.presence_source not in PRESENCE_SOURCES:
            raise ConfigError(
                f"presence must be one of {', '.join(PRESENCE_SOURCES)}, not {self.presence_source!r}"
            )
        unknown = set(self.handlers) - set(FUNCTION_NAMES)
        if unknown:
            raise ConfigError(
                f"[handlers] knows {', '.join(FUNCTION_NAMES)}; unknown: {', '.join(sorted(unknown))}"
            )
        if self.uses_local_issuer and self.host not in LOOPBACK_HOSTS:
            # /demo/token signs a token for any user id: never offer that beyond this machine.
            raise ConfigError(
                f"host {self.host!r}: the local issuer only listens on loopback "
                "(127.0.0.1); use --jwks-uri to serve other machines"
            )
        if (self.issuer or self.audience) and self.jwks_uri is None:
            raise ConfigError("--issuer and --audience need --jwks-uri (a real identity provider)")


def load_stack_config(path: Path | None) -> StackConfig:
    """Defaults, overlaid with the TOML file when there is one."""
    if path is None:
        return StackConfig()
    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"config file {path} does not exist") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path}: {error}") from error
    return config_from_document(document, source=str(path))


def config_from_document(document: dict[str, Any], *, source: str = "sumu.toml") -> StackConfig:
    stack = _table(document, "stack", source)
    auth = _table(document, "auth", source)
    handlers = {
        **DEFAULT_HANDLERS,
        **_strings(_table(document, "handlers", source), "handlers", source),
    }
    environment = _strings(_table(document, "environment", source), "environment", source)
    known_stack = {"port", "aws_port", "host", "stage", "presence", "state_dir", "region"}
    _reject_unknown(stack, known_stack, "stack", source)
    _reject_unknown(auth, {"jwks_uri", "issuer", "audience"}, "auth", source)
    timeouts = _timeouts(_table(document, "timeouts", source), source)
    values: dict[str, Any] = {key: value for key, value in stack.items() if key != "presence"}
    if "presence" in stack:
        values["presence_source"] = stack["presence"]
    if "state_dir" in values:
        values["state_dir"] = Path(values["state_dir"])
    config = StackConfig(
        **values,
        jwks_uri=auth.get("jwks_uri"),
        issuer=auth.get("issuer"),
        audience=auth.get("audience"),
        handlers=handlers,
        timeouts=timeouts,
        environment=environment,
    )
    config.validate()
    return config


def _table(document: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    return table


def _strings(table: dict[str, Any], name: str, source: str) -> dict[str, str]:
    bad = [key for key, value in table.items() if not isinstance(value, str)]
    if bad:
        raise ConfigError(f"{source}: [{name}] values must be strings: {', '.join(bad)}")
    return cast(dict[str, str], table)


def _reject_unknown(table: dict[str, Any], known: set[str], name: str, source: str) -> None:
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"{source}: [{name}] has unknown keys: {', '.join(sorted(unknown))}")


def _timeouts(table: dict[str, Any], source: str) -> Timeouts:
    types = {item.name: type(getattr(Timeouts(), item.name)) for item in fields(Timeouts)}
    _reject_unknown(table, set(types), "timeouts", source)
    values: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{source}: [timeouts] {key} must be a non-negative number")
        low, high = TIMEOUT_BOUNDS.get(key, (0, None))
        if value < low or (high is not None and value > high):
            allowed = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise ConfigError(f"{source}: [timeouts] {key} must be {allowed}, got {value}")
        values[key] = types[key](value)
    return Timeouts(**values)
