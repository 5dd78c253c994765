"""The in-process design of 0.1 (``[stack] functions = "inprocess"``): a handler imported into
the stack's own process and called on its threads.

Kept so the load benchmark can compare it with functions in processes of their own
(``sumu_local.stack.functions``, the default). Here concurrent invocations are threads of one
process sharing one module, one ``os.environ`` and the GIL with moto and the gateway, which is
what Lambda never does.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

# The gateway already models Lambda's context object; both kinds of invocation share it.
from sumu_local.gateway import LambdaContext

Handler = Callable[[Any, Any], Any]


class Invocable(Protocol):
    """What the event sources call: a function by name, invoked from their threads."""

    @property
    def name(self) -> str: ...

    def invoke(self, event: Any) -> Any: ...


class HandlerLoadError(RuntimeError):
    """A dotted handler path that does not name a callable."""


def load_handler(dotted_path: str) -> Handler:
    module_name, _, attribute = dotted_path.rpartition(".")
    if not module_name:
        raise HandlerLoadError(f"handler {dotted_path!r} is not a dotted path module.function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise HandlerLoadError(
            f"handler {dotted_path!r}: cannot import {module_name}: {error}"
        ) from error
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise HandlerLoadError(
            f"handler {dotted_path!r}: {module_name} has no callable {attribute}"
        )
    return handler  # type: ignore[no-any-return]


@dataclass
class LocalFunction:
    """One Lambda function: a handler and its timeout, invoked by the stack's event sources."""

    name: str
    handler_path: str
    timeout_seconds: float
    region: str = "us-east-1"
    account_id: str = "123456789012"
    _handler: Handler | None = field(default=None, repr=False)

    def load(self) -> Handler:
        if self._handler is None:
            self._handler = load_handler(self.handler_path)
        return self._handler

    def invoke(self, event: Any) -> Any:
        handler = self.load()
        context = LambdaContext(
            function_name=self.name,
            invoked_function_arn=f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}",
            deadline_monotonic=time.monotonic() + self.timeout_seconds,
            log_group_name=f"/aws/lambda/{self.name}",
            log_stream_name=f"local/{self.name}",
        )
        return handler(event, context)
