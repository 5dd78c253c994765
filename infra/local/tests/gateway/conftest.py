"""Fixtures for the gateway tests: a real gateway on a free loopback port, stand-in handlers
that record what API Gateway would have sent to Lambda, and small waiting helpers.

Tests are synchronous functions that drive one asyncio.run() each (the dev group has no
pytest-asyncio, and one loop per test keeps every gateway's lifetime obvious).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from sumu_local.gateway import Gateway, GatewayConfig

SCENARIO_SECONDS = 20.0
Event = dict[str, Any]


class Recorder:
    """Stand-in Lambda handlers that keep every (event, context) they were called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Event, Any]] = []
        self._lock = threading.Lock()

    def handler(self, name: str, response: Any = None) -> Callable[[Event, Any], Any]:
        def handle(event: Event, context: Any) -> Any:
            with self._lock:
                self.calls.append((name, event, context))
            return response(event) if callable(response) else response

        handle.__qualname__ = f"stand_in_{name}"
        return handle

    def events(self, name: str) -> list[Event]:
        with self._lock:
            return [event for called, event, _ in self.calls if called == name]

    async def wait_for(self, name: str, count: int = 1) -> list[Event]:
        """The events of `name` once it was called `count` times (handlers run on threads)."""
        async with asyncio.timeout(5):
            # Handlers run on worker threads: polling is the simplest cross-thread wait.
            while len(self.events(name)) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        return self.events(name)

    def contexts(self, name: str) -> list[Any]:
        with self._lock:
            return [context for called, _, context in self.calls if called == name]


def allow_policy(event: Event, context: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
            ],
        },
        "context": context
        if context is not None
        else {"user_id": "user-1", "admin": True, "level": 3},
    }


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def base_config(recorder: Recorder) -> GatewayConfig:
    """Every route bound to a recording stand-in, an allowing authorizer, a free port."""
    return GatewayConfig(
        routes={
            "$connect": recorder.handler("$connect", {"statusCode": 200}),
            "$disconnect": recorder.handler("$disconnect", {"statusCode": 200}),
            "$default": recorder.handler("$default", {"statusCode": 200}),
            "echo": recorder.handler(
                "echo", lambda event: {"statusCode": 200, "body": event["body"]}
            ),
        },
        authorizer=recorder.handler("authorizer", allow_policy),
        port=0,
        handler_timeout_seconds=5.0,
    )


Scenario = Callable[[Gateway], Awaitable[Any]]


@pytest.fixture
def run_gateway() -> Callable[..., Any]:
    """run_gateway(config, scenario, **overrides): start a gateway, run the scenario, stop it."""

    def run(config: GatewayConfig, scenario: Scenario, **overrides: Any) -> Any:
        async def main() -> Any:
            gateway = Gateway(replace(config, **overrides) if overrides else config)
            await gateway.start()
            try:
                return await asyncio.wait_for(scenario(gateway), SCENARIO_SECONDS)
            finally:
                await gateway.stop()

        return asyncio.run(main())

    return run
