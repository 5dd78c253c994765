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

    functions = "process"         # process (Lambda's model) | inprocess (the 0.1 design)

    [handlers]                    # shorthand for [functions.NAME] handler
    pusher = "my_team.pusher.handler"

    [functions.pusher]            # authorizer | connections | pusher | presence
    handler = "app.main.handler"  # module.function (default: the built-in service)
    code = "path/to/src"          # working directory, first on the import path
    python = "path/to/venv/bin/python"  # the function's own interpreter (default: the stack's)
    command = ["prog", "arg"]     # instead of python: any program that speaks the Runtime API
    timeout_seconds = 30          # defaults mirror infra/terraform
    concurrency = 4               # execution environments at most
    environment = { KEY = "value" }

    [timeouts]
    connection_ttl_seconds = 7200
    ...                           # every field of Timeouts below

    [environment]                 # extra variables for the handlers
    PUSHER_CONCURRENCY = "64"
"""

from __future__ import annotations

import os
import shutil
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, cast

from sumu_local.stack.functions import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUTS, FunctionSpec

PresenceSource = Literal["topic", "queue", "stream"]
PRESENCE_SOURCES: tuple[PresenceSource, ...] = ("topic", "queue", "stream")
FUNCTION_NAMES = ("authorizer", "connections", "pusher", "presence")
DEFAULT_HANDLERS = {
    "authorizer": "sumu_authorizer.handler.handler",
    "connections": "sumu_connections.handler.handler",
    "pusher": "sumu_pusher.handler.handler",
    "presence": "sumu_presence.handler.handler",
}
FunctionMode = Literal["process", "inprocess"]
FUNCTION_MODES: tuple[FunctionMode, ...] = ("process", "inprocess")
KNOWN_TABLES = ("stack", "auth", "handlers", "functions", "timeouts", "environment")
FUNCTION_KEYS = (
    "handler",
    "code",
    "python",
    "command",
    "timeout_seconds",
    "concurrency",
    "environment",
)
# Lambda's bounds: a timeout of at most 15 minutes; reserved concurrency up to the account's
# default limit of 1,000.
MAX_FUNCTION_TIMEOUT = 900
MAX_CONCURRENCY = 1000
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
    # [functions.NAME] tables, resolved; a function without one runs `handlers[NAME]`.
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    function_mode: FunctionMode = "process"

    def function_spec(self, name: str) -> FunctionSpec:
        """How function ``name`` runs: its [functions.NAME] table, else its handler's defaults."""
        if name in self.functions:
            return self.functions[name]
        return FunctionSpec(
            name=name,
            handler=self.handlers.get(name, DEFAULT_HANDLERS[name]),
            timeout_seconds=default_timeout(name, self.timeouts),
            concurrency=DEFAULT_CONCURRENCY[name],
        )

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
        if self.function_mode not in FUNCTION_MODES:
            raise ConfigError(
                f"[stack] functions must be one of {', '.join(FUNCTION_MODES)}, "
                f"not {self.function_mode!r}"
            )
        if self.function_mode == "inprocess":
            foreign = [
                name
                for name, spec in self.functions.items()
                if spec.code or spec.python or spec.command
            ]
            if foreign:
                raise ConfigError(
                    f'[stack] functions = "inprocess" cannot run code, python or command '
                    f"([functions.{foreign[0]}]): those need their own process"
                )
        if self.uses_local_issuer and self.host not in LOOPBACK_HOSTS:
            # /demo/token signs a token for any user id: never offer that beyond this machine.
            raise ConfigError(
                f"host {self.host!r}: the local issuer only listens on loopback "
                "(127.0.0.1); use --jwks-uri to serve other machines"
            )
        if (self.issuer or self.audience) and self.jwks_uri is None:
            raise ConfigError("--issuer and --audience need --jwks-uri (a real identity provider)")
        if self.jwks_uri is not None and not (self.issuer or self.audience):
            # The authorizer fails closed without either (sumu-authorizer 0.2.0): a JWKS alone,
            # such as Firebase's x509 map, signs every tenant's tokens. Refuse before starting.
            raise ConfigError(
                "--jwks-uri needs --issuer or --audience (or both): "
                "keys alone would accept any tenant's tokens, so the authorizer refuses them"
            )


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
    return config_from_document(document, source=str(path), base_dir=path.parent.absolute())


def config_from_document(
    document: dict[str, Any], *, source: str = "sumu.toml", base_dir: Path | None = None
) -> StackConfig:
    """``base_dir``: what relative paths in [functions] are relative to (the file's folder)."""
    unknown_tables = sorted(set(document) - set(KNOWN_TABLES))
    if unknown_tables:
        raise ConfigError(
            f"{source}: unknown table [{unknown_tables[0]}]; "
            f"sumu.toml knows {', '.join(f'[{name}]' for name in KNOWN_TABLES)}"
        )
    stack = _table(document, "stack", source)
    auth = _table(document, "auth", source)
    given_handlers = _strings(_table(document, "handlers", source), "handlers", source)
    handlers = {**DEFAULT_HANDLERS, **given_handlers}
    environment = _strings(_table(document, "environment", source), "environment", source)
    known_stack = {
        "port",
        "aws_port",
        "host",
        "stage",
        "presence",
        "state_dir",
        "region",
        "functions",
    }
    _reject_unknown(stack, known_stack, "stack", source)
    _reject_unknown(auth, {"jwks_uri", "issuer", "audience"}, "auth", source)
    timeouts = _timeouts(_table(document, "timeouts", source), source)
    unknown_names = sorted(set(given_handlers) - set(FUNCTION_NAMES))
    if unknown_names:
        raise ConfigError(
            f"{source}: [handlers] knows {', '.join(FUNCTION_NAMES)}; unknown: {', '.join(unknown_names)}"
        )
    functions = _functions(
        _table(document, "functions", source),
        handlers=handlers,
        given_handlers=given_handlers,
        timeouts=timeouts,
        base_dir=base_dir or Path.cwd(),
        source=source,
    )
    values: dict[str, Any] = {
        key: value for key, value in stack.items() if key not in ("presence", "functions")
    }
    if "presence" in stack:
        values["presence_source"] = stack["presence"]
    if "functions" in stack:
        values["function_mode"] = stack["functions"]
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
        functions=functions,
    )
    config.validate()
    return config


def default_timeout(name: str, timeouts: Timeouts) -> float:
    """A function's Lambda timeout when [functions.NAME] sets none: [timeouts] for the pusher
    and presence (as in 0.1), infra/terraform's values for the others."""
    return {
        "pusher": timeouts.pusher_timeout_seconds,
        "presence": timeouts.presence_timeout_seconds,
    }.get(name, DEFAULT_TIMEOUTS[name])


def _functions(
    tables: dict[str, Any],
    *,
    handlers: dict[str, str],
    given_handlers: dict[str, str],
    timeouts: Timeouts,
    base_dir: Path,
    source: str,
) -> dict[str, FunctionSpec]:
    functions: dict[str, FunctionSpec] = {}
    for name, table in tables.items():
        where = f"{source}: [functions.{name}]"
        if name not in FUNCTION_NAMES:
            raise ConfigError(f"{where}: unknown function; known: {', '.join(FUNCTION_NAMES)}")
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table")
        _reject_unknown(table, set(FUNCTION_KEYS), f"functions.{name}", source)
        if "handler" in table and name in given_handlers:
            raise ConfigError(f"{where}: handler is also set in [handlers]; keep one")
        functions[name] = _function(
            name=name,
            table=table,
            default_handler=handlers[name],
            timeouts=timeouts,
            base_dir=base_dir,
            where=where,
        )
    return functions


def _function(
    *,
    name: str,
    table: dict[str, Any],
    default_handler: str,
    timeouts: Timeouts,
    base_dir: Path,
    where: str,
) -> FunctionSpec:
    handler = table.get("handler", default_handler)
    if not isinstance(handler, str) or "." not in handler.strip(".") or not handler.strip():
        raise ConfigError(f"{where}: handler must be module.function, got {handler!r}")
    command = table.get("command")
    if command is not None:
        if (
            not isinstance(command, list)
            or not command
            or not all(isinstance(part, str) and part for part in command)
        ):
            raise ConfigError(f"{where}: command must be a non-empty list of strings")
        if "python" in table:
            raise ConfigError(f"{where}: command replaces python; set one of them")
        command = [_program(command[0], base_dir, f"{where} command"), *command[1:]]
    code = None
    if "code" in table:
        if not isinstance(table["code"], str):
            raise ConfigError(f"{where}: code must be a path")
        code = (base_dir / table["code"]).resolve()
        if not code.is_dir():
            raise ConfigError(f"{where}: code folder {code} does not exist")
    python = None
    if "python" in table:
        if not isinstance(table["python"], str):
            raise ConfigError(f"{where}: python must be a path")
        python = Path(_program(table["python"], base_dir, f"{where} python"))
    timeout = table.get("timeout_seconds", default_timeout(name, timeouts))
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 < timeout <= MAX_FUNCTION_TIMEOUT
    ):
        raise ConfigError(
            f"{where}: timeout_seconds must be a number above 0 and at most "
            f"{MAX_FUNCTION_TIMEOUT}, got {timeout!r}"
        )
    concurrency = table.get("concurrency", DEFAULT_CONCURRENCY[name])
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 1 <= concurrency <= MAX_CONCURRENCY
    ):
        raise ConfigError(
            f"{where}: concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, "
            f"got {concurrency!r}"
        )
    environment = table.get("environment", {})
    if not isinstance(environment, dict):
        raise ConfigError(f"{where}: environment must be a table of strings")
    _strings(environment, f"functions.{name}.environment", where)
    return FunctionSpec(
        name=name,
        handler=handler,
        code=code,
        python=python,
        command=tuple(command) if command is not None else None,
        timeout_seconds=float(timeout),
        concurrency=concurrency,
        environment=dict(environment),
    )


def _program(value: str, base_dir: Path, where: str) -> str:
    """An executable: a path (relative to the config file) or a name looked up on PATH."""
    if os.sep in value or value.startswith("."):
        path = (base_dir / value).absolute()
        if not path.is_file() or not os.access(path, os.X_OK):
            raise ConfigError(f"{where}: {path} does not exist or is not executable")
        return str(path)
    found = shutil.which(value)
    if found is None:
        raise ConfigError(f"{where}: {value!r} is not on PATH")
    return found


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
