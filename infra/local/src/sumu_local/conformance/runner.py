"""Run the suites: one environment for the whole run, one function per service, one line per
case as it finishes."""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from dataclasses import replace
from typing import TextIO

from sumu_local.conformance import authorizer, channels, connections, presence, pusher
from sumu_local.conformance.environment import Environment
from sumu_local.conformance.report import (
    Case,
    CaseFailed,
    CaseResult,
    CaseSkipped,
    Status,
    print_result,
)
from sumu_local.conformance.runtime import FunctionUnderTest, start_function
from sumu_local.conformance.suite import Context, Suite
from sumu_local.stack.config import StackConfig
from sumu_local.stack.functions import FunctionError

SUITES: dict[str, Suite] = {
    "authorizer": authorizer.SUITE,
    # The channel cases (issue 17) live in a module of their own; they extend both suites.
    "connections": replace(
        connections.SUITE, cases=connections.SUITE.cases + channels.CONNECTIONS_CASES
    ),
    "pusher": replace(pusher.SUITE, cases=pusher.SUITE.cases + channels.PUSHER_CASES),
    "presence": presence.SUITE,
}
SERVICES = tuple(SUITES)


def run_conformance(
    services: Sequence[str], config: StackConfig, out: TextIO, log: TextIO
) -> list[CaseResult]:
    results: list[CaseResult] = []
    environment = Environment.start()
    try:
        for service in services:
            results += _run_suite(SUITES[service], config, environment, out, log)
    finally:
        environment.stop()
    return results


def _run_suite(
    suite: Suite, config: StackConfig, environment: Environment, out: TextIO, log: TextIO
) -> list[CaseResult]:
    started = time.monotonic()
    try:
        # sumu.toml's [environment] first: the kit's own variables point at its environment.
        variables = {**config.environment, **environment.function_environment()}
        function = start_function(config, suite.service, variables, log)
    except Exception as error:  # noqa: BLE001 - any start failure fails every case, named
        # Every case fails: an implementation that cannot start honours no rule.
        kind = error.error_type if isinstance(error, FunctionError) else type(error).__name__
        observation = f"the function did not start: {kind}: {str(error)[:300]}"
        return [
            _emit(CaseResult(suite.service, case.id, case.rule, "FAIL", observation, 0.0), out)
            for case in suite.cases
        ]
    results: list[CaseResult] = []
    context = Context(environment, function, suite.service, config, variables, log)
    try:
        suite.setup(context)
        for case in suite.cases:
            results.append(_emit(_run_case(suite.service, case, context, log), out))
    finally:
        try:
            suite.teardown(context)
        finally:
            _close(function)
    log.write(f"[conformance] {suite.service}: {time.monotonic() - started:.1f} s\n")
    return results


def _run_case(service: str, case: Case, context: Context, log: TextIO) -> CaseResult:
    started = time.monotonic()
    status: Status = "PASS"
    observation = ""
    try:
        case.run(context)
    except CaseFailed as failure:
        status, observation = "FAIL", str(failure)
    except CaseSkipped as skipped:
        status, observation = "SKIP", str(skipped)
    except Exception as error:  # noqa: BLE001 - reported as the case's failure, with its trace
        status = "FAIL"
        observation = f"the case could not complete: {type(error).__name__}: {error}"[:600]
        log.write(f"[conformance] {case.id}\n{traceback.format_exc()}\n")
    seconds = time.monotonic() - started
    return CaseResult(service, case.id, case.rule, status, observation, round(seconds, 3))


def _emit(result: CaseResult, out: TextIO) -> CaseResult:
    print_result(result, out)
    return result


def _close(function: FunctionUnderTest) -> None:
    function.close()
