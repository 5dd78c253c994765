"""A fault-injecting HTTP proxy on 127.0.0.1, for the fault tests.

It stands in front of one upstream (the gateway's management API, moto, the JWKS) and, request by
request, either forwards it or applies the fault a test set: answer a status with a body, hang,
or refuse. The stack is pointed at it through `sumu.toml`'s `[environment]`
(`APIGW_ENDPOINT`, `AWS_ENDPOINT_URL_DYNAMODB`, `JWT_ISSUER_JWKS_URI`), so the services talk to it
exactly as they talk to AWS. Runs its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import ClientSession, ClientTimeout, web
from sumu_testkit import free_port

HOP_BY_HOP = {
    "connection",
    "content-length",
    "content-encoding",
    "host",
    "keep-alive",
    "transfer-encoding",
}


@dataclass(frozen=True)
class Fault:
    """What to do with a request instead of forwarding it."""

    status: int = 0
    body: bytes = b""
    content_type: str = "application/json"
    hang_seconds: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    target: str  # X-Amz-Target, for the JSON protocols (DynamoDB)
    at: float
    fault: Fault | None


Rule = Callable[[web.Request], Fault | None]


@dataclass
class FaultProxy:
    upstream: str = ""
    port: int = field(default_factory=free_port)
    rule: Rule | None = None
    seen: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _stopped: asyncio.Event | None = None
    _session: ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_rule(self, rule: Rule | None) -> None:
        with self._lock:
            self.rule = rule
            self.seen.clear()

    def requests(self, predicate: Callable[[Seen], bool] = lambda _: True) -> list[Seen]:
        with self._lock:
            return [seen for seen in self.seen if predicate(seen)]

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fault proxy did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.run(self._main(ready))

    async def _main(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        async with ClientSession(timeout=ClientTimeout(total=60)) as session:
            self._session = session
            ready.set()
            await self._stopped.wait()
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            rule = self.rule
        fault = rule(request) if rule is not None else None
        with self._lock:
            self.seen.append(
                Seen(
                    request.method,
                    request.path,
                    request.headers.get("X-Amz-Target", ""),
                    time.monotonic(),
                    fault,
                )
            )
        if fault is not None:
            if fault.hang_seconds:
                await asyncio.sleep(fault.hang_seconds)
            if fault.status:
                return web.Response(
                    status=fault.status,
                    body=fault.body,
                    content_type=fault.content_type,
                    headers=dict(fault.headers),
                )
        if not self.upstream:
            return web.Response(status=503, text="no upstream yet")
        return await self._forward(request)

    async def _forward(self, request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        body = await request.read()
        assert self._session is not None
        async with self._session.request(
            request.method,
            f"{self.upstream}{request.rel_url}",
            headers=headers,
            data=body,
            allow_redirects=False,
        ) as answer:
            payload = await answer.read()
            response_headers = {
                k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP
            }
            return web.Response(status=answer.status, body=payload, headers=response_headers)


def management_error(status: int, error_type: str) -> Fault:
    """The management API's error shape: JSON with a `message`, the type in x-amzn-ErrorType."""
    return Fault(
        status=status,
        body=b'{"message": "injected ' + error_type.encode() + b'"}',
        headers=(("x-amzn-ErrorType", error_type),),
    )


def dynamodb_throttle() -> Fault:
    """DynamoDB's throttling answer on the JSON protocol: HTTP 400 and the error `__type`."""
    return Fault(
        status=400,
        body=(
            b'{"__type": "com.amazonaws.dynamodb.v20120810#'
            b'ProvisionedThroughputExceededException", "message": "injected throttling"}'
        ),
        content_type="application/x-amz-json-1.0",
    )
