"""The event loop and aiobotocore clients, kept per thread for the life of the container.

Choice: a loop kept per thread (``asyncio.Runner``), not ``asyncio.run`` per invocation.
aiobotocore clients and their aiohttp connection pools are bound to the loop that created them;
keeping the loop keeps the clients, so a warm invocation reuses the TLS connections to the
management API and DynamoDB instead of paying a handshake per pooled socket on every batch.
Lambda calls the handler from one thread, so that is one loop per container. The local stack
calls it from worker threads, possibly several at once: each thread gets its own loop, session
and clients (botocore sessions and aiohttp pools are not shared across threads), so concurrent
calls never touch each other's loop. The handler must not be called from a thread that is
already running an event loop.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiobotocore.config import AioConfig

from sumu_pusher import sdk
from sumu_pusher.core import Adapters, BatchOutcome, process_batch
from sumu_pusher.history import HistoryTable
from sumu_pusher.idempotency import IdempotencyTable
from sumu_pusher.records import InboundRecord, compile_validator
from sumu_pusher.settings import Settings, SettingsError, load_settings
from sumu_pusher.signed_post import ManagementApiClient
from sumu_pusher.store import ConnectionsTable
from sumu_pusher.subscriptions import SubscriptionsTable
from sumu_pusher.telemetry import log_event


class ClientOnFirstUse:
    """An aiobotocore client created on the first call of one of its operations."""

    def __init__(self, create: Callable[[], Any], owner: contextlib.AsyncExitStack) -> None:
        self._create = create
        self._owner = owner
        self._client: Any = None
        self._lock = asyncio.Lock()

    def __getattr__(self, operation: str) -> Callable[..., Awaitable[Any]]:
        async def call(**parameters: Any) -> Any:
            async with self._lock:
                if self._client is None:
                    self._client = await self._owner.enter_async_context(self._create())
            return await getattr(self._client, operation)(**parameters)

        return call


class PusherRuntime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._runner = asyncio.Runner()
        self._clients = contextlib.AsyncExitStack()
        self._adapters: Adapters | None = None
        self._running = False
        self.closed = False

    def open(self) -> None:
        """Build the clients now (Lambda's init phase) rather than in the first invocation."""
        self._runner.run(self._open_adapters())

    def process(self, records: Sequence[InboundRecord], budget_s: float) -> BatchOutcome:
        """Process one batch; ``budget_s`` counts from now, and includes building the clients."""
        started = time.monotonic()
        self._running = True
        try:
            outcome = self._runner.run(self._process(records, started + budget_s))
        finally:
            self._running = False
        outcome.figures.duration_ms = round((time.monotonic() - started) * 1000, 1)
        return outcome

    async def _process(self, records: Sequence[InboundRecord], ends_at: float) -> BatchOutcome:
        adapters = await self._open_adapters()
        calls_before = adapters.dynamodb_calls()
        outcome = await process_batch(records, adapters, self.settings, ends_at)
        outcome.figures.dynamodb_calls = adapters.dynamodb_calls() - calls_before
        return outcome

    async def _open_adapters(self) -> Adapters:
        if self._adapters is not None:
            return self._adapters
        settings = self.settings
        session = sdk.new_session()
        # AWS services (DynamoDB, SQS): botocore's "standard" retry mode retries throttling,
        # 5xx and connection errors with jittered exponential backoff.
        # https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
        aws_config = AioConfig(
            retries={"mode": "standard", "total_max_attempts": 5},
            max_pool_connections=settings.concurrency,
            connect_timeout=5,
            read_timeout=10,
            http_session_cls=sdk.SharedTLSContextSession,
        )
        dynamodb = await self._clients.enter_async_context(
            session.create_client("dynamodb", config=aws_config)
        )
        # The CA bundle, loaded now (the init phase) when DynamoDB is reached over https.
        sdk.verify_context_for(dynamodb.meta.endpoint_url, session)
        # Management API: no SDK client (signed_post.py: the same signed request for a fraction
        # of its CPU), with the pool and timeouts such a client had; management_api.py owns the
        # retries. The pool matches the concurrency so every post holding a slot has a socket.
        management_api = await self._clients.enter_async_context(
            ManagementApiClient(
                settings.apigw_endpoint,
                await session.get_credentials(),
                sdk.region(session),
                pool_size=settings.concurrency,
                timeout_s=settings.post_timeout_s,
                ssl_context=sdk.verify_context_for(settings.apigw_endpoint, session),
            )
        )
        table = ConnectionsTable(
            dynamodb,
            settings.connections_table_name,
            scan_segments=settings.scan_segments,
            prune_retry=settings.retry,
        )
        # Building a botocore client costs hundreds of milliseconds of CPU; SQS is only needed
        # when a batch holds a rejected record, so it is built then, not at every cold start.
        sqs = ClientOnFirstUse(
            lambda: session.create_client("sqs", config=aws_config), self._clients
        )
        # The subscriptions table shares the DynamoDB client: no client more to build.
        subscriptions = (
            SubscriptionsTable(
                dynamodb,
                settings.subscriptions_table_name,
                retry=settings.retry,
                consistent=settings.history_table_name is not None,
            )
            if settings.subscriptions_table_name
            else None
        )
        history = (
            HistoryTable(dynamodb, settings.history_table_name, ttl_seconds=settings.history_ttl_s)
            if settings.history_table_name
            else None
        )
        idempotency = (
            IdempotencyTable(
                dynamodb, settings.idempotency_table_name, ttl_seconds=settings.idempotency_ttl_s
            )
            if settings.idempotency_table_name
            else None
        )
        self._adapters = Adapters(
            table=table,
            management_api=management_api,
            sqs=sqs,
            subscriptions=subscriptions,
            history=history,
            idempotency=idempotency,
        )
        return self._adapters

    @property
    def running(self) -> bool:
        return self._running

    def close(self) -> None:
        """Close the clients and the loop (tests, and threads that end; Lambda never needs it)."""
        if self.closed:
            return
        self.closed = True
        try:
            self._runner.run(self._clients.aclose())
        finally:
            self._runner.close()


_per_thread = threading.local()
# Every runtime ever opened, so that the ones of threads that ended are closed at exit instead of
# being garbage-collected with open sockets (aiohttp then logs "Unclosed connector").
_opened: list[PusherRuntime] = []
_opened_lock = threading.Lock()


def thread_runtime() -> PusherRuntime:
    runtime: PusherRuntime | None = getattr(_per_thread, "runtime", None)
    if runtime is None or runtime.closed:
        runtime = PusherRuntime(load_settings())
        _per_thread.runtime = runtime
        with _opened_lock:
            _opened.append(runtime)
    return runtime


def close_thread_runtime() -> None:
    """Forget this thread's runtime and the cached settings, so the next call starts afresh."""
    runtime: PusherRuntime | None = getattr(_per_thread, "runtime", None)
    _per_thread.runtime = None
    load_settings.cache_clear()
    if runtime is not None:
        with _opened_lock:
            if runtime in _opened:
                _opened.remove(runtime)
        runtime.close()


@atexit.register
def close_idle_runtimes() -> None:
    """Close the runtimes whose loop is not running (threads that ended or sit idle)."""
    with _opened_lock:
        idle = [runtime for runtime in _opened if not runtime.running]
        for runtime in idle:
            _opened.remove(runtime)
    for runtime in idle:
        with contextlib.suppress(Exception):  # best effort at exit: never mask the real exit
            runtime.close()


def init_phase() -> None:
    """Work every invocation needs, done at import: in Lambda's init phase, which provisioned
    concurrency and SnapStart run ahead of any request (and which gets a full vCPU).
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib

    The botocore data and the contract's validator are loaded for every thread; the importing
    thread's runtime builds its clients (no connection is opened: they connect on first use).
    Without a usable environment (tests, a missing variable) the clients wait for the first
    invocation, which then reports the error as it always has.
    """
    # The init work allocates a few hundred thousand long-lived objects (service models, rule
    # sets, clients): the cyclic GC would run full collections over them several times for
    # nothing. It is paused for the burst, and what the burst built is frozen (moved out of the
    # generations the collector scans), so later collections skip it too.
    # https://docs.python.org/3/library/gc.html#gc.freeze
    collecting = gc.isenabled()
    gc.disable()
    try:
        _prepare()
    finally:
        if collecting:
            gc.enable()
        gc.freeze()


def _prepare() -> None:
    sdk.preload()
    compile_validator()
    try:
        runtime = thread_runtime()
    except SettingsError:
        return
    try:
        runtime.open()
    except Exception as error:  # noqa: BLE001 - the first invocation retries and raises it
        log_event(
            "WARN", "clients not built at init; the first invocation builds them", error=repr(error)
        )


def budget_seconds(context: Any, default_ms: int) -> float:
    """Seconds this invocation may still run, from the Lambda context when there is one."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        try:
            return max(0, int(remaining())) / 1000
        except (TypeError, ValueError):
            pass
    return default_ms / 1000
