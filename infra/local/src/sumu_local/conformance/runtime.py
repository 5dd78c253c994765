"""The one place the kit touches the function runtime: start the implementation ``sumu.toml``
names for a service, invoke it with an event, get its result or its error.

It runs through ``sumu_local.stack.functions`` (a process of its own speaking the Lambda Runtime
API, as ``sumu up`` runs it), so an implementation is driven exactly as the stack drives it and
its module state, environment and crashes stay its own.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sumu_local.stack.config import StackConfig
from sumu_local.stack.functions import (
    Function,
    FunctionError,
    FunctionSpec,
    FunctionTimeout,
)


@dataclass(frozen=True)
class Outcome:
    """What one invocation gave back: a result, or the function's error."""

    result: Any = None
    error_type: str | None = None
    error_message: str = ""
    timed_out: bool = False

    @property
    def failed(self) -> bool:
        return self.error_type is not None

    def describe(self) -> str:
        if self.failed:
            return f"error {self.error_type}: {self.error_message[:200]}"
        return f"result {self.result!r}"[:300]


def function_spec(config: StackConfig, service: str) -> FunctionSpec:
    """The spec ``sumu.toml`` gives ``service`` (``[functions.NAME]``, else ``[handlers]``), with
    one execution environment: the cases reason about one container's state (its caches)."""
    return dataclasses.replace(config.function_spec(service), concurrency=1)


class FunctionUnderTest:
    def __init__(
        self, spec: FunctionSpec, environment: dict[str, str], region: str, log: TextIO
    ) -> None:
        self.spec = spec
        self._log = log
        self._log_lock = threading.Lock()
        self._function = Function(spec, environment=environment, region=region, log_sink=self._sink)

    @property
    def description(self) -> str:
        return self.spec.description

    def _sink(self, name: str, line: str) -> None:
        with self._log_lock:
            self._log.write(f"[{name}] {line}\n")
            self._log.flush()

    def start(self) -> None:
        self._function.start()

    def invoke(self, event: Any) -> Outcome:
        try:
            return Outcome(result=self._function.invoke(event))
        except FunctionTimeout as error:
            return Outcome(error_type=error.error_type, error_message=error.message, timed_out=True)
        except FunctionError as error:
            return Outcome(error_type=error.error_type, error_message=error.message)

    def close(self) -> None:
        self._function.close()


def start_function(
    config: StackConfig, service: str, environment: dict[str, str], log: TextIO
) -> FunctionUnderTest:
    function = FunctionUnderTest(function_spec(config, service), environment, config.region, log)
    function.start()
    return function


def describe_implementation(config: StackConfig, service: str) -> str:
    spec = function_spec(config, service)
    where = f" in {Path(spec.code)}" if spec.code else ""
    return f"{spec.description}{where}"
