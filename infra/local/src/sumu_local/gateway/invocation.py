"""Running a route's handler the way Lambda would: one event, one context, a deadline.

Synchronous handlers run on a bounded thread pool so a slow handler never stalls the event
loop that serves every other connection; coroutine functions are awaited on the loop.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sumu_local.gateway.config import Handler, HandlerRef
from sumu_local.gateway.events import new_uuid

# Lambda's own default; handlers read it to size their work.
MEMORY_LIMIT_IN_MB = 128
# Enough threads for the thread-bound handlers of a local stack (each blocks on moto over HTTP)
# without letting a burst of connects create one thread per client.
HANDLER_THREADS = 32


class HandlerTimeoutError(Exception):
    """The handler did not return within API Gateway's integration timeout."""


def resolve_handler(reference: HandlerRef, *, route_key: str) -> Handler:
    """A callable from `pkg.module.function` (or `pkg.module:function`), or the callable itself."""
    if callable(reference):
        return reference
    module_name, separator, attribute = reference.replace(":", ".").rpartition(".")
    if not separator or not module_name:
        raise ValueError(f"route {route_key!r}: {reference!r} is not a dotted path module.function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"route {route_key!r}: cannot import {module_name!r}: {error}") from error
    target = getattr(module, attribute, None)
    if not callable(target):
        raise ValueError(f"route {route_key!r}: {module_name}.{attribute} is not a callable")
    return cast(Handler, target)


def function_name_for(reference: HandlerRef) -> str:
    """A Lambda-legal function name (64 chars of [A-Za-z0-9-_]) derived from the handler."""
    if isinstance(reference, str):
        raw = reference
    else:
        raw = f"{getattr(reference, '__module__', 'handler')}.{getattr(reference, '__qualname__', 'handler')}"
    return re.sub(r"[^A-Za-z0-9_-]", "-", raw)[:64]


@dataclass
class LambdaContext:
    """The attributes and method of AWS Lambda's Python context object that handlers use.

    https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
    """

    function_name: str
    invoked_function_arn: str
    deadline_monotonic: float
    aws_request_id: str = field(default_factory=new_uuid)
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = MEMORY_LIMIT_IN_MB
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_monotonic - time.monotonic()) * 1000))


@dataclass(frozen=True)
class BoundHandler:
    """A route's handler with the Lambda identity it runs under."""

    handler: Handler
    function_name: str
    region: str
    account_id: str
    timeout_seconds: float

    def new_context(self) -> LambdaContext:
        timeout_seconds = self.timeout_seconds
        today = datetime.now(UTC).strftime("%Y/%m/%d")
        return LambdaContext(
            function_name=self.function_name,
            invoked_function_arn=(
                f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"
            ),
            deadline_monotonic=time.monotonic() + timeout_seconds,
            log_group_name=f"/aws/lambda/{self.function_name}",
            log_stream_name=f"{today}/[$LATEST]{new_uuid().replace('-', '')}",
        )


class HandlerRunner:
    """Invokes bound handlers off the event loop, each bounded by its integration timeout."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=HANDLER_THREADS, thread_name_prefix="sumu-handler"
            )
        return self._executor

    async def invoke(self, bound: BoundHandler, event: dict[str, Any]) -> Any:
        """The handler's return value; its exception as raised; HandlerTimeoutError on timeout."""
        context = bound.new_context()
        if inspect.iscoroutinefunction(bound.handler):
            pending: Awaitable[Any] = bound.handler(event, context)
        else:
            loop = asyncio.get_running_loop()
            pending = loop.run_in_executor(self._pool(), bound.handler, event, context)
        try:
            return await asyncio.wait_for(pending, bound.timeout_seconds)
        except TimeoutError as error:
            raise HandlerTimeoutError(
                f"{bound.function_name} did not return within {bound.timeout_seconds}s"
            ) from error

    def shutdown(self) -> None:
        # A handler thread still running past its timeout cannot be killed; do not wait for it.
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
