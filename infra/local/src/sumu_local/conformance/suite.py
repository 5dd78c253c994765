"""What every service's suite shares: the context a case runs in, and hypothesis settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from hypothesis import HealthCheck, Phase, settings

from sumu_local.conformance.environment import Environment
from sumu_local.conformance.report import Case
from sumu_local.conformance.runtime import FunctionUnderTest, Outcome, start_function
from sumu_local.stack.config import StackConfig


@dataclass
class Context:
    environment: Environment
    function: FunctionUnderTest
    service: str
    config: StackConfig
    variables: dict[str, str]
    log: TextIO
    state: dict[str, Any] = field(default_factory=dict)

    def start_another(self, variables: dict[str, str]) -> FunctionUnderTest:
        """A second, cold instance of the implementation with other variables; the caller
        closes it. Raises FunctionError when it does not start."""
        return start_function(self.config, self.service, variables, self.log)

    def invoke(self, event: Any) -> Outcome:
        return self.function.invoke(event)

    def unique(self, name: str) -> str:
        """An id no other case uses (user ids, connection ids)."""
        return f"{name}-{time.monotonic_ns() % 10**12:x}"


@dataclass(frozen=True)
class Suite:
    service: str
    cases: tuple[Case, ...]
    setup: Callable[[Context], None] = lambda context: None
    teardown: Callable[[Context], None] = lambda context: None


def bounded(examples: int) -> settings:
    """Few examples, no shrinking, no example database: the kit must stay fast and leave no
    files behind; ``derandomize`` makes a failure reproduce on the next run."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
