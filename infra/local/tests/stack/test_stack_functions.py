"""The stack with functions in processes of their own: a route's Lambda timeout reaches the
client as API Gateway's error frame at that timeout (not 29 s), and 0.1's in-process design is
still one switch away. Real stacks (moto, gateway, functions) on free loopback ports."""

from __future__ import annotations

import asyncio
import json
import os
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sumu_local.stack.config import StackConfig, Timeouts
from sumu_local.stack.functions import DEFAULT_CONCURRENCY, FunctionSpec
from sumu_local.stack.runner import LocalStack
from sumu_testkit import free_port
from websockets.sync.client import connect

# A connections function that accepts every connection and is slow on the `send` route.
SLOW_CONNECTIONS = """
import json
import time


def handler(event, context):
    route = event["requestContext"]["routeKey"]
    if route == "send":
        time.sleep(30)
    if route == "ping":
        connection_id = event["requestContext"]["connectionId"]
        return {"statusCode": 200, "body": json.dumps({"type": "pong", "connectionId": connection_id})}
    return {"statusCode": 200}
"""


class StackThread:
    """A LocalStack on its own event loop in a thread, as `sumu up` runs it."""

    def __init__(self, config: StackConfig) -> None:
        self.stack = LocalStack(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=90)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


StartStack = Callable[[StackConfig], StackThread]


@pytest.fixture
def stack_with() -> Iterator[StartStack]:
    # The in-process design writes the stack's variables into os.environ: put it back after.
    saved = dict(os.environ)
    threads: list[StackThread] = []

    def start(config: StackConfig) -> StackThread:
        runner = StackThread(config)
        threads.append(runner)
        runner.call(runner.stack.start())
        return runner

    yield start
    for runner in threads:
        runner.call(runner.stack.stop())
        runner.close()
    os.environ.clear()
    os.environ.update(saved)


def base_config(tmp_path: Path, stage: str, **values: Any) -> StackConfig:
    return StackConfig(
        port=free_port(),
        aws_port=free_port(),
        stage=stage,
        state_dir=tmp_path / ".sumu",
        timeouts=Timeouts(sqs_wait_seconds=1),
        **values,
    )


def token_for(runner: StackThread, user: str) -> str:
    assert runner.stack.issuer is not None
    return runner.stack.issuer.token(user)


def test_a_route_timeout_is_the_error_frame_at_the_function_timeout(
    tmp_path: Path, stack_with: StartStack
) -> None:
    # GIVEN a connections function whose `send` outlives its 2 s Lambda timeout
    code = tmp_path / "code"
    code.mkdir()
    (code / "slow_connections.py").write_text(textwrap.dedent(SLOW_CONNECTIONS), "utf-8")
    functions = {
        "connections": FunctionSpec(
            name="connections",
            handler="slow_connections.handler",
            code=code,
            timeout_seconds=2,
            concurrency=DEFAULT_CONCURRENCY["connections"],
        )
    }
    runner = stack_with(base_config(tmp_path, "slowroute", functions=functions))
    manifest = runner.stack.manifest
    assert manifest is not None
    url = f"{manifest.websocket_url}?authorization={quote(token_for(runner, 'ana'))}"
    with connect(url, open_timeout=20, proxy=None) as socket:
        # WHEN the client sends on the slow route
        started = time.monotonic()
        socket.send(json.dumps({"action": "send", "message": "hi"}))
        frame = json.loads(socket.recv(timeout=20))
        elapsed = time.monotonic() - started
        # THEN API Gateway's integration error arrives at the function's timeout, not at 29 s
        assert frame["message"] == "Endpoint request timed out"
        assert 1.5 < elapsed < 10
        # AND the connection works on: the next invocation gets a fresh environment
        socket.send(json.dumps({"action": "ping"}))
        assert json.loads(socket.recv(timeout=20))["type"] == "pong"


def test_the_in_process_design_still_runs(tmp_path: Path, stack_with: StartStack) -> None:
    runner = stack_with(base_config(tmp_path, "inprocess", function_mode="inprocess"))
    manifest = runner.stack.manifest
    assert manifest is not None
    url = f"{manifest.websocket_url}?authorization={quote(token_for(runner, 'ben'))}"
    with connect(url, open_timeout=20, proxy=None) as socket:
        socket.send(json.dumps({"action": "ping"}))
        assert json.loads(socket.recv(timeout=20))["type"] == "pong"
