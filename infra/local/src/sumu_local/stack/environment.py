"""One execution environment: a process running a function, and the Runtime API it polls.

Each environment gets its own Runtime API endpoint (``AWS_LAMBDA_RUNTIME_API``), as on Lambda,
so the stack always knows which process holds an invocation and can kill exactly that one when
it runs past its timeout. The contract (paths, headers, status codes) is AWS's:
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from sumu_local.stack.functions import FunctionSpec

LogSink = Callable[[str, str], None]  # (function name, one line of its output)

BOOTSTRAP = Path(__file__).with_name("runtime_bootstrap.py")
API = "/2018-06-01/runtime"
LOG_TAIL_LINES = 20
# Lambda gives init 10 s, then retries it within the function timeout on the first invocation:
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
INIT_SECONDS = 10.0
# Lambda's synchronous invocation payload quota, for the response as for the request.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
OUTPUT_LINE_LIMIT = 8 * 1024 * 1024
GRACE_SECONDS = 0.5
# Only what a process needs to run at all; Lambda starts functions with no inherited variables.
INHERITED_VARIABLES = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")

_print_lock = threading.Lock()


def print_log_line(function_name: str, line: str) -> None:
    """The default sink: ``sumu up``'s stdout, each line tagged with its function's name."""
    with _print_lock:
        sys.stdout.write(f"[{function_name}] {line}\n")
        sys.stdout.flush()


class FunctionError(Exception):
    """An invocation that did not return a result: the function raised (``Unhandled`` errors
    keep the function's own type and message, so the authorizer's ``Unauthorized`` still means
    401), crashed, failed its init, or timed out. ``log_tail``: its last lines of output."""

    def __init__(self, error_type: str, message: str, log_tail: list[str]) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.log_tail = log_tail

    def __str__(self) -> str:
        return self.message


class FunctionTimeout(FunctionError):
    """The function ran past its timeout; its environment was killed."""


def _with_tail(message: str, tail: list[str]) -> str:
    if not tail:
        return message + " (no output)"
    return message + "; last output:\n" + "\n".join(f"  {line}" for line in tail)


class _Invocation:
    def __init__(self, payload: bytes, timeout_seconds: float) -> None:
        self.request_id = str(uuid.uuid4())
        self.payload = payload
        self.deadline_ms = int((time.time() + timeout_seconds) * 1000)
        self.result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def settle(self, *, result: Any = None, error: BaseException | None = None) -> None:
        if self.result.done():
            return
        if error is not None:
            self.result.set_exception(error)
        else:
            self.result.set_result(result)


class ExecutionEnvironment:
    """A process of one function plus its Runtime API; lives on the function's event loop."""

    def __init__(
        self,
        *,
        spec: FunctionSpec,
        function_arn: str,
        region: str,
        stack_environment: Mapping[str, str],
        log_sink: LogSink,
    ) -> None:
        self.spec = spec
        self._arn = function_arn
        self._region = region
        self._stack_environment = stack_environment
        self._log_sink = log_sink
        self._tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        self._process: asyncio.subprocess.Process | None = None
        self._runner: web.AppRunner | None = None
        self._pending: asyncio.Queue[_Invocation] = asyncio.Queue()
        self._current: _Invocation | None = None
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._init_error: tuple[str, str] | None = None
        self._pumps: list[asyncio.Task[None]] = []
        self._watcher: asyncio.Task[None] | None = None
        self._dead = False

    @property
    def is_alive(self) -> bool:
        return not self._dead

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve the Runtime API, start the process, wait for its init to end (its first
        ``/next``). Raises FunctionError when the init fails, crashes or takes too long."""
        address = await self._serve()
        self._process = await asyncio.create_subprocess_exec(
            *self._argv(),
            cwd=str(self.spec.code) if self.spec.code else None,
            env=self._variables(address),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=OUTPUT_LINE_LIMIT,
            # Its own process group: a timeout kills the whole environment, children included.
            start_new_session=True,
        )
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                self._pumps.append(asyncio.create_task(self._pump(stream)))
        self._watcher = asyncio.create_task(self._watch())
        init_seconds = INIT_SECONDS + self.spec.timeout_seconds
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), init_seconds)
        except TimeoutError:
            await self.stop(graceful=False)
            raise FunctionError(
                "Runtime.InitTimeout",
                _with_tail(
                    f"{self.spec.name}: init did not finish within {init_seconds:.0f} s",
                    list(self._tail),
                ),
                list(self._tail),
            ) from None
        except FunctionError:
            await self.stop(graceful=False)
            raise

    async def invoke(self, payload: bytes) -> Any:
        timeout = self.spec.timeout_seconds
        invocation = _Invocation(payload, timeout)
        self._current = invocation
        self._pending.put_nowait(invocation)
        try:
            return await asyncio.wait_for(asyncio.shield(invocation.result), timeout)
        except TimeoutError:
            self._current = None  # the kill below must not settle it as a crash
            await self.stop(graceful=False)
            tail = list(self._tail)
            message = f"{self.spec.name}: Task timed out after {timeout:.2f} seconds"
            raise FunctionTimeout("Sandbox.Timedout", _with_tail(message, tail), tail) from None
        finally:
            self._current = None

    async def stop(self, *, graceful: bool = True) -> None:
        self._dead = True
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                await asyncio.wait_for(process.wait(), GRACE_SECONDS if graceful else 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        if self._watcher is not None and self._watcher is not asyncio.current_task():
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # -- the process --------------------------------------------------------------------------

    def _argv(self) -> list[str]:
        if self.spec.command is not None:
            return list(self.spec.command)
        return [str(self.spec.python or sys.executable), str(BOOTSTRAP)]

    def _variables(self, runtime_api: str) -> dict[str, str]:
        spec = self.spec
        today = datetime.now(UTC).strftime("%Y/%m/%d")
        task_root = str(spec.code) if spec.code else os.getcwd()
        # Lambda's reserved variables come last: a function's configuration cannot override them.
        # https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
        reserved = {
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "_HANDLER": spec.handler or "",
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
            "AWS_EXECUTION_ENV": "AWS_Lambda_sumu_local",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(max(1, round(spec.timeout_seconds))),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{today}/[$LATEST]{uuid.uuid4().hex}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": self._region,
            "AWS_DEFAULT_REGION": self._region,
            "TZ": ":UTC",
            # Lines reach the stack's output as they are written, as Lambda's log capture does.
            "PYTHONUNBUFFERED": "1",
        }
        inherited = {key: os.environ[key] for key in INHERITED_VARIABLES if key in os.environ}
        if spec.python is None and spec.command is None and "PYTHONPATH" in os.environ:
            # The stack's own interpreter imports what the stack can ([handlers] shorthand
            # pointing at a module on the stack's PYTHONPATH); a function's own venv does not.
            inherited["PYTHONPATH"] = os.environ["PYTHONPATH"]
        return {**inherited, **self._stack_environment, **spec.environment, **reserved}

    async def _pump(self, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line longer than the limit: take what is buffered
                raw = await stream.read(OUTPUT_LINE_LIMIT)
            if not raw:
                return
            # awslambdaric writes a multi-line record (a traceback) as one line joined by \r,
            # which CloudWatch shows as lines: so does the stack's output.
            for line in raw.decode("utf-8", "replace").rstrip("\r\n").split("\r"):
                self._tail.append(line)
                self._log_sink(self.spec.name, line)

    async def _watch(self) -> None:
        """When the process ends: fail its init or its invocation, with its last output."""
        assert self._process is not None
        status = await self._process.wait()
        # Read the rest of its output first: the traceback that explains the exit is in it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*self._pumps), 2)
        self._dead = True
        tail = list(self._tail)
        if not self._ready.done():
            if self._init_error is not None:
                error_type, message = self._init_error
            else:
                error_type = "Runtime.ExitError"
                message = f"Runtime exited with error: exit status {status} during init"
            self._ready.set_exception(
                FunctionError(error_type, _with_tail(f"{self.spec.name}: {message}", tail), tail)
            )
            self._ready.exception()  # retrieved here: start() may already have given up
        current = self._current
        if current is not None:
            message = f"RequestId: {current.request_id} Error: Runtime exited with error: exit status {status}"
            current.settle(
                error=FunctionError(
                    "Runtime.ExitError", _with_tail(f"{self.spec.name}: {message}", tail), tail
                )
            )

    # -- the Runtime API ----------------------------------------------------------------------

    async def _serve(self) -> str:
        app = web.Application(client_max_size=MAX_RESPONSE_BYTES + 1024)
        app.router.add_get(f"{API}/invocation/next", self._next)
        app.router.add_post(f"{API}/invocation/{{request_id}}/response", self._response)
        app.router.add_post(f"{API}/invocation/{{request_id}}/error", self._error)
        app.router.add_post(f"{API}/init/error", self._init_failed)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        return f"{host}:{port}"

    async def _next(self, request: web.Request) -> web.StreamResponse:
        if not self._ready.done():
            self._ready.set_result(None)  # its init is over: it asks for work
        invocation = await self._pending.get()
        return web.Response(
            body=invocation.payload,
            content_type="application/json",
            headers={
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": self._arn,
                "Lambda-Runtime-Trace-Id": _trace_id(),
            },
        )

    async def _response(self, request: web.Request) -> web.StreamResponse:
        invocation = self._invocation_for(request)
        if invocation is None:
            return _invalid_request_id(request)
        body = await request.read()
        if len(body) > MAX_RESPONSE_BYTES:
            invocation.settle(
                error=FunctionError(
                    "Function.ResponseSizeTooLarge",
                    f"{self.spec.name}: response payload size exceeded {MAX_RESPONSE_BYTES} bytes",
                    list(self._tail),
                )
            )
            return _error_response(413, "RequestEntityTooLarge", "payload size exceeded")
        invocation.settle(result=_decode(body))
        return web.json_response({"status": "OK"}, status=202)

    async def _error(self, request: web.Request) -> web.StreamResponse:
        invocation = self._invocation_for(request)
        if invocation is None:
            return _invalid_request_id(request)
        error_type, message = _error_fields(await request.read(), request)
        invocation.settle(error=FunctionError(error_type, message, list(self._tail)))
        return web.json_response({"status": "OK"}, status=202)

    async def _init_failed(self, request: web.Request) -> web.StreamResponse:
        self._init_error = _error_fields(await request.read(), request)
        # The runtime exits after reporting; make sure of it, as Lambda resets the environment.
        asyncio.get_running_loop().call_later(GRACE_SECONDS, self._kill_now)
        return web.json_response({"status": "OK"}, status=202)

    def _kill_now(self) -> None:
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)

    def _invocation_for(self, request: web.Request) -> _Invocation | None:
        current = self._current
        if current is None or current.request_id != request.match_info["request_id"]:
            return None
        return current


def _decode(body: bytes) -> Any:
    """The function's result: JSON, as every caller here expects; other bytes as text."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def _error_fields(body: bytes, request: web.Request) -> tuple[str, str]:
    """(errorType, errorMessage) from the runtime's error body, its header as a fallback."""
    header_type = request.headers.get("Lambda-Runtime-Function-Error-Type", "Unhandled")
    try:
        document = json.loads(body) if body else {}
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    error_type = document.get("errorType") or header_type
    message = document.get("errorMessage")
    return str(error_type), str(message) if message is not None else body.decode("utf-8", "replace")


def _invalid_request_id(request: web.Request) -> web.StreamResponse:
    request_id = request.match_info["request_id"]
    return _error_response(400, "InvalidRequestID", f"unknown or finished request {request_id}")


def _error_response(status: int, error_type: str, message: str) -> web.StreamResponse:
    return web.json_response({"errorMessage": message, "errorType": error_type}, status=status)


def _trace_id() -> str:
    # X-Ray's format: Root=1-<epoch seconds, hex>-<96 random bits, hex>.
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"
