"""Functions as Lambda runs them: processes of their own that speak the Lambda Runtime API.

The public interface (also what ``sumu conformance`` uses to call an implementation)::

    spec = FunctionSpec(name="pusher", handler="app.main.handler", code=Path("src"))
    with Function(spec, environment={"AWS_ENDPOINT_URL": ...}) as function:
        result = function.invoke({"Records": [...]})       # from any thread
        result = await function.ainvoke(event)             # from any event loop

``start()`` starts one execution environment and waits for its init, so a handler that does not
import fails there (``FunctionError``), before anything depends on it. ``invoke`` hands the event
to an idle environment (starting one while fewer than ``spec.concurrency`` exist, else waiting
for one) and returns the function's JSON result, or raises ``FunctionError`` (the function
raised, crashed, or failed its init) / ``FunctionTimeout`` (it ran past ``timeout_seconds``; the
environment is killed, as Lambda does). ``close()`` kills every environment.

Each ``Function`` runs its own event loop on a thread: the Runtime API servers and the processes'
output pumps live there, whichever thread or loop invokes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from sumu_local.stack.environment import (
    ExecutionEnvironment,
    FunctionError,
    FunctionTimeout,
    LogSink,
    print_log_line,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_TIMEOUTS",
    "Function",
    "FunctionError",
    "FunctionSpec",
    "FunctionTimeout",
    "LogSink",
    "print_log_line",
]

T = TypeVar("T")

# Lambda timeouts as infra/terraform sets them (modules/*/main.tf), so code that times out on
# AWS times out here too.
DEFAULT_TIMEOUTS: dict[str, float] = {
    "authorizer": 10.0,
    "connections": 15.0,
    "pusher": 120.0,
    "presence": 30.0,
}
# Execution environments at most per function: enough for a burst of connects (each blocks on
# moto over HTTP) or for the SQS pollers' batches, few enough for a 2-core machine.
DEFAULT_CONCURRENCY: dict[str, int] = {
    "authorizer": 4,
    "connections": 8,
    "pusher": 4,
    "presence": 2,
}
ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class FunctionSpec:
    """One ``[functions.NAME]`` table of sumu.toml, paths already resolved.

    ``command`` (any program that speaks the Runtime API) or ``python`` + ``handler`` (run by
    sumu-local's bootstrap). ``python`` None is the stack's own interpreter; ``code`` None is the
    working directory.
    """

    name: str
    handler: str | None = None
    code: Path | None = None
    python: Path | None = None
    command: tuple[str, ...] | None = None
    timeout_seconds: float = 30.0
    concurrency: int = 1
    environment: Mapping[str, str] = field(default_factory=dict)
    memory_size_mb: int = 128

    @property
    def description(self) -> str:
        """What runs, for logs and errors."""
        if self.command is not None:
            return " ".join(self.command)
        return f"{self.handler} ({self.python or sys.executable})"


class Function:
    """A pool of at most ``spec.concurrency`` execution environments for one function."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        environment: Mapping[str, str] | None = None,
        region: str = "us-east-1",
        log_sink: LogSink = print_log_line,
    ) -> None:
        self.spec = spec
        self._environment = dict(environment or {})
        self._region = region
        self._log_sink = log_sink
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._idle: list[ExecutionEnvironment] = []
        self._all: set[ExecutionEnvironment] = set()
        self._count = 0
        self._changed: asyncio.Condition | None = None
        self._closed = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self._region}:{ACCOUNT_ID}:function:{self.spec.name}"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start the function's loop and one environment; raises FunctionError on init failure."""
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=serve, name=f"function-{self.name}", daemon=True)
        self._thread.start()
        ready.wait()
        self._loop = loop
        self._run(self._init_pool())
        try:
            self._run(self._prewarm())
        except BaseException:
            self.close()
            raise

    def invoke(self, event: Any) -> Any:
        """The function's result for ``event``; blocks the calling thread (not the loop's)."""
        return self._run(self._invoke(event))

    async def ainvoke(self, event: Any) -> Any:
        """``invoke`` for a caller on an event loop. A caller that gives up (its own deadline)
        does not cancel the invocation: it runs to its end, as on Lambda."""
        future = asyncio.run_coroutine_threadsafe(self._invoke(event), self._started_loop())
        return await asyncio.shield(asyncio.wrap_future(future))

    def close(self) -> None:
        """Kill every environment and stop the loop. Idempotent."""
        if self._closed or self._loop is None:
            self._closed = True
            return
        loop = self._loop
        with contextlib.suppress(Exception):
            self._run(self._kill_all())
        self._closed = True
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        if not loop.is_running():
            loop.close()

    # -- on the function's loop -------------------------------------------------------------

    async def _init_pool(self) -> None:
        self._changed = asyncio.Condition()

    async def _prewarm(self) -> None:
        environment = await self._acquire()
        await self._release(environment)

    async def _invoke(self, event: Any) -> Any:
        if self._closed:
            raise FunctionError("Runtime.Closed", f"function {self.name} is closed", [])
        payload = json.dumps(event).encode("utf-8")
        environment = await self._acquire()
        try:
            return await environment.invoke(payload)
        finally:
            await self._release(environment)

    async def _acquire(self) -> ExecutionEnvironment:
        changed = self._condition()
        async with changed:
            while True:
                while self._idle:
                    environment = self._idle.pop()  # the most recently used: the warmest
                    if environment.is_alive:
                        return environment
                    self._all.discard(environment)  # it exited while idle
                    self._count -= 1
                if self._count < self.spec.concurrency:
                    break
                await changed.wait()
            self._count += 1
        environment = ExecutionEnvironment(
            spec=self.spec,
            function_arn=self.arn,
            region=self._region,
            stack_environment=self._environment,
            log_sink=self._log_sink,
        )
        try:
            self._all.add(environment)
            await environment.start()
        except BaseException:
            await self._release(environment)
            raise
        return environment

    async def _release(self, environment: ExecutionEnvironment) -> None:
        changed = self._condition()
        async with changed:
            if environment.is_alive and not self._closed:
                self._idle.append(environment)
            else:
                self._all.discard(environment)
                self._count -= 1
                await environment.stop()
            changed.notify()

    async def _kill_all(self) -> None:
        environments = list(self._all)
        self._idle.clear()
        await asyncio.gather(
            *(environment.stop() for environment in environments), return_exceptions=True
        )
        # What is left (Runtime API requests of killed processes) ends with the loop.
        leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            raise RuntimeError(f"function {self.name} is not started")
        return self._changed

    def _started_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError(f"function {self.name} is not started")
        if self._closed:
            raise RuntimeError(f"function {self.name} is closed")
        return self._loop

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._started_loop()).result()


def open_functions(
    specs: Mapping[str, FunctionSpec],
    *,
    environment: Mapping[str, str],
    region: str,
    log_sink: LogSink = print_log_line,
) -> dict[str, Function]:
    """Start every function (their first environments concurrently); on any init failure, close
    the ones started and raise it."""
    functions = {
        name: Function(spec, environment=environment, region=region, log_sink=log_sink)
        for name, spec in specs.items()
    }
    errors: list[BaseException] = []

    def start(function: Function) -> None:
        try:
            function.start()
        except BaseException as error:  # noqa: BLE001 - re-raised below, after every start has finished
            errors.append(error)

    threads = [threading.Thread(target=start, args=(f,)) for f in functions.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        for function in functions.values():
            function.close()
        raise errors[0]
    return functions
