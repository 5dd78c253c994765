"""signed_post.ManagementApiClient sends what an aiobotocore client sends, and fails as it fails.

Both are driven at the same frozen time with the same credentials: the property tests compare
the Authorization header and URL botocore's whole client pipeline builds (captured at
``before-send``) with ours; the wire tests compare what reaches a real socket on 127.0.0.1 (the
request line, the signed headers, the body) and how each client reads the same error answers.
"""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioRefreshableCredentials
from aiobotocore.session import AioSession
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import ClientError, NoCredentialsError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sumu_pusher.management_api import PostResult, classify
from sumu_pusher.signed_post import ManagementApiClient, Signer, connection_url

REGION = "eu-north-1"
ENDPOINTS = (
    "https://abc123.execute-api.eu-north-1.amazonaws.com/prod",
    "https://ws.example.com",
    "http://127.0.0.1:4510/mvp",
)
# Connection ids as API Gateway issues them (base64-like: "L0SM9cOFvHcCIhw="), and any text,
# with the characters a URI label must escape.
connection_ids = st.one_of(
    st.from_regex(r"[A-Za-z0-9+/=_-]{1,24}", fullmatch=True),
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40),
)
bodies = st.binary(max_size=300)
moments = st.datetimes(
    min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31)
)


def ours(url: str, data: bytes, credentials: Any, region: str = REGION) -> dict[str, str]:
    """The headers signed_post sends for this post."""
    return Signer(url.split("/@connections/", maxsplit=1)[0], region).headers(
        urlsplit(url).path, data, credentials
    )


def sigv4auth(url: str, data: bytes, credentials: Any, region: str = REGION) -> dict[str, str]:
    """botocore's SigV4Auth over the request botocore signs for the same post."""
    request = AWSRequest(method="POST", url=url, data=data)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())


class Stop(Exception):
    """Raised at before-send: the request is captured, nothing is sent."""


@dataclass
class BotocoreSide:
    """An aiobotocore management API client (as the runtime built it before) on its own loop."""

    runner: asyncio.Runner
    client: Any
    captured: dict[str, Any] = field(default_factory=dict)

    def request(self, connection_id: str, data: bytes) -> dict[str, Any]:
        def capture(request: Any, **_: Any) -> None:
            self.captured = {"url": request.url, "headers": dict(request.headers)}
            raise Stop

        self.client.meta.events.register("before-send", capture)
        try:
            self.runner.run(self.client.post_to_connection(ConnectionId=connection_id, Data=data))
        except Stop:
            pass
        finally:
            self.client.meta.events.unregister("before-send", capture)
        return self.captured


def session_with(key: str, secret: str, token: str | None) -> AioSession:
    session = AioSession()
    session.set_config_variable("region", REGION)
    session.set_credentials(key, secret, token)
    return session


@pytest.fixture(scope="module", params=[(endpoint, token) for endpoint in ENDPOINTS for token in ("session-token", None)])  # fmt: skip
def botocore_side(request: pytest.FixtureRequest) -> Iterator[tuple[BotocoreSide, str, Any]]:
    endpoint, token = request.param
    runner = asyncio.Runner()
    session = session_with("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    context = session.create_client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        config=AioConfig(retries={"total_max_attempts": 1}),
    )
    client = runner.run(context.__aenter__())
    credentials = runner.run(runner.run(session.get_credentials()).get_frozen_credentials())
    yield BotocoreSide(runner, client), endpoint, credentials
    runner.run(context.__aexit__(None, None, None))
    runner.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(connection_id=connection_ids, data=bodies, moment=moments)
def test_the_signature_is_the_one_botocore_computes(botocore_side, connection_id, data, moment):
    side, endpoint, credentials = botocore_side
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        expected = side.request(connection_id, data)
        url = connection_url(endpoint, connection_id)
        signed = ours(url, data, credentials)
        reference = sigv4auth(url, data, credentials)
    assert url == expected["url"]
    assert signed == reference
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
        theirs = expected["headers"].get(name)
        assert signed.get(name) == (theirs.decode() if theirs is not None else None), name


texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(
    endpoint=st.sampled_from([*ENDPOINTS, "https://WS.Example.com:443/a/../b//c", "http://h:80"]),
    path_tail=st.lists(st.sampled_from(["x", ".", "..", "", "%2F", "a%20b"]), max_size=4),
    connection_id=connection_ids,
    data=bodies,
    key=st.from_regex(r"[A-Z0-9]{4,20}", fullmatch=True),
    secret=texts,
    token=st.one_of(st.none(), st.just(""), texts),
    region=st.sampled_from(["eu-north-1", "us-east-1", "cn-north-1"]),
    moment=moments,
)
def test_the_signer_computes_sigv4auth_s_headers(  # noqa: PLR0917 - hypothesis's arguments
    endpoint, path_tail, connection_id, data, key, secret, token, region, moment
):
    # Any endpoint path (dot segments, empty segments, escapes), credentials with or without a
    # token (whitespace included), any region: SigV4Auth's exact headers.
    base = endpoint + "".join("/" + part for part in path_tail)
    url = connection_url(base, connection_id)
    credentials = ReadOnlyCredentials(key, secret, token)
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        assert ours(url, data, credentials, region) == sigv4auth(url, data, credentials, region)


def test_a_different_secret_time_or_region_changes_the_signature():
    # The comparison above would also pass if both sides ignored their inputs: they do not.
    url = connection_url(ENDPOINTS[0], "abc=")
    base = ReadOnlyCredentials("AKID", "secret", None)
    at = datetime.datetime(2026, 1, 1)
    signer = Signer(ENDPOINTS[0], REGION)
    path = urlsplit(url).path
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        reference = signer.headers(path, b"x", base)["Authorization"]
        assert signer.headers(path, b"x", ReadOnlyCredentials("AKID", "other", None))["Authorization"] != reference  # fmt: skip
        assert signer.headers(path, b"y", base)["Authorization"] != reference
        assert signer.headers(path + "x", b"x", base)["Authorization"] != reference
        assert ours(url, b"x", base, "us-east-1")["Authorization"] != reference
    with mock.patch("botocore.auth.get_current_datetime", return_value=at.replace(second=1)):
        assert signer.headers(path, b"x", base)["Authorization"] != reference
    with mock.patch("botocore.auth.get_current_datetime", return_value=at.replace(day=2)):
        # a new day: a new signing key (the cached one is the previous day's)
        assert signer.headers(path, b"x", base)["Authorization"] == ours(url, b"x", base)["Authorization"]  # fmt: skip


# --- on the wire ------------------------------------------------------------------------------


@dataclass
class Received:
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WireServer:
    """A minimal HTTP/1.1 server (keep-alive) on 127.0.0.1 that records each request and answers
    with ``answer`` (status, headers, body); ``hold`` delays every answer."""

    answer: tuple[int, dict[str, str], bytes] = (200, {}, b"")
    hold: float = 0.0
    received: list[Received] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    sockets: int = 0
    server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/mvp"

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sockets += 1
        try:
            for _ in range(10_000):  # bounded: one socket serves at most this many requests
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                target = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.received.append(Received(target, headers, body))
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                await asyncio.sleep(self.hold)
                self.in_flight -= 1
                status, extra, content = self.answer
                answer = [f"HTTP/1.1 {status} X", f"Content-Length: {len(content)}"]
                answer += [f"{name}: {value}" for name, value in extra.items()]
                writer.write(("\r\n".join(answer) + "\r\n\r\n").encode() + content)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def our_client(endpoint: str, credentials: Any, **overrides: Any) -> ManagementApiClient:
    options = {"pool_size": 4, "timeout_s": 2.0, **overrides}
    return ManagementApiClient(endpoint, credentials, REGION, **options)


def botocore_client(session: AioSession, endpoint: str) -> Any:
    config = AioConfig(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=2)
    return session.create_client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)


async def post_both(
    server: WireServer, endpoint: str, connection_id: str, data: bytes
) -> tuple[Any, Any]:
    """The same post through botocore's client then ours; what each raised (or None)."""
    session = session_with("AKIDWIRE", "wire-secret", "wire-token")
    outcomes: list[Any] = []
    async with botocore_client(session, endpoint) as theirs:
        try:
            await theirs.post_to_connection(ConnectionId=connection_id, Data=data)
            outcomes.append(None)
        except ClientError as error:
            outcomes.append(error)
    async with our_client(endpoint, await session.get_credentials()) as ours:
        try:
            await ours.post_to_connection(ConnectionId=connection_id, Data=data)
            outcomes.append(None)
        except ClientError as error:
            outcomes.append(error)
    return outcomes[0], outcomes[1]


@settings(max_examples=25, deadline=None)
@given(connection_id=connection_ids, data=bodies)
def test_the_request_on_the_wire_is_the_one_botocore_sends(connection_id, data):
    async def scenario() -> list[Received]:
        server = WireServer()
        endpoint = await server.start()
        moment = datetime.datetime(2026, 11, 28, 8, 0, 0)
        with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
            await post_both(server, endpoint, connection_id, data)
        await server.stop()
        return server.received

    theirs, ours = asyncio.run(scenario())
    assert ours.target == theirs.target
    assert ours.target.startswith("/mvp/@connections/")
    assert ours.body == theirs.body == data
    for name in ("host", "x-amz-date", "x-amz-security-token", "authorization"):
        assert ours.headers[name] == theirs.headers[name], name
    assert "content-type" not in ours.headers


ERROR_ANSWERS = [
    (410, {"x-amzn-ErrorType": "GoneException"}, b'{"message": null}'),
    (403, {"x-amzn-ErrorType": "ForbiddenException"}, b'{"message": "Forbidden"}'),
    (403, {}, b'{"message": "Missing Authentication Token"}'),
    (413, {"x-amzn-ErrorType": "PayloadTooLargeException:http://internal"}, b"{}"),
    (400, {}, b'{"__type": "com.amazon#BadRequestException", "message": "bad"}'),
    (429, {"x-amzn-ErrorType": "LimitExceededException"}, b""),
    (500, {}, b"<html>oops</html>"),
    (502, {}, b""),
    (503, {"x-amzn-ErrorType": "ServiceUnavailable"}, b'{"Message": "later"}'),
]


@pytest.mark.parametrize(("status", "headers", "body"), ERROR_ANSWERS)
def test_an_error_answer_reads_as_botocore_reads_it(status, headers, body):
    async def scenario() -> tuple[Any, Any]:
        server = WireServer(answer=(status, {"Content-Type": "application/json", **headers}, body))
        endpoint = await server.start()
        outcomes = await post_both(server, endpoint, "conn-1=", b"{}")
        await server.stop()
        return outcomes

    theirs, ours = asyncio.run(scenario())
    assert isinstance(theirs, ClientError)
    assert isinstance(ours, ClientError)
    assert ours.response["Error"]["Code"] == theirs.response["Error"]["Code"]
    assert ours.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert classify(ours) == classify(theirs)


def test_a_2xx_answer_delivers():
    async def scenario() -> Any:
        server = WireServer(answer=(200, {}, b""))
        endpoint = await server.start()
        outcomes = await post_both(server, endpoint, "c", b"x")
        await server.stop()
        return outcomes

    assert asyncio.run(scenario()) == (None, None)


def test_no_answer_is_a_retryable_timeout_within_the_post_timeout():
    async def scenario() -> tuple[BaseException | None, float]:
        server = WireServer(hold=5.0)
        endpoint = await server.start()
        credentials = ReadOnlyCredentials("AKID", "secret", None)
        source = mock.AsyncMock(**{"get_frozen_credentials.return_value": credentials})
        started = asyncio.get_running_loop().time()
        error: BaseException | None = None
        async with our_client(endpoint, source, timeout_s=0.3) as client:
            try:
                await client.post_to_connection(ConnectionId="c", Data=b"x")
            except Exception as raised:
                error = raised
        elapsed = asyncio.get_running_loop().time() - started
        await server.stop()
        return error, elapsed

    error, elapsed = asyncio.run(scenario())
    assert isinstance(error, asyncio.TimeoutError)
    assert classify(error) is None
    assert elapsed < 2.0


def test_a_refused_connection_is_retryable():
    async def scenario() -> BaseException | None:
        server = WireServer()
        endpoint = await server.start()
        await server.stop()  # nothing listens on that port any more
        source = mock.AsyncMock(**{"get_frozen_credentials.return_value": ReadOnlyCredentials("a", "b", None)})  # fmt: skip
        async with our_client(endpoint, source) as client:
            try:
                await client.post_to_connection(ConnectionId="c", Data=b"x")
            except Exception as raised:
                return raised
        return None

    error = asyncio.run(scenario())
    assert isinstance(error, aiohttp.ClientError)
    assert classify(error) is None


def test_without_credentials_each_post_fails_like_a_client_without_them():
    async def scenario() -> BaseException | None:
        async with our_client("http://127.0.0.1:9/mvp", None) as client:
            try:
                await client.post_to_connection(ConnectionId="c", Data=b"x")
            except Exception as raised:
                return raised
        return None

    error = asyncio.run(scenario())
    assert isinstance(error, NoCredentialsError)
    assert classify(error) is PostResult.FAILED


def test_refreshable_credentials_are_refreshed_between_posts():
    # GIVEN credentials that expire within botocore's mandatory refresh window, whose refresh
    # hands out a new key each time (as Lambda's container credentials rotate)
    keys = iter(f"AKIDROTATED{n}" for n in range(100))

    def metadata() -> dict[str, str]:
        expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1)
        return {"access_key": next(keys), "secret_key": "s", "token": "t", "expiry_time": expiry.isoformat()}  # fmt: skip

    async def refresh() -> dict[str, str]:
        return metadata()

    async def scenario() -> list[Received]:
        credentials = AioRefreshableCredentials.create_from_metadata(metadata(), refresh, "test")
        server = WireServer()
        endpoint = await server.start()
        async with our_client(endpoint, credentials) as client:
            for _ in range(2):
                await client.post_to_connection(ConnectionId="c", Data=b"x")
        await server.stop()
        return server.received

    # WHEN two posts go out
    first, second = asyncio.run(scenario())
    # THEN each is signed with the credentials current at its time
    assert key_of(first).startswith("AKIDROTATED")
    assert key_of(first) != key_of(second)


def key_of(received: Received) -> str:
    """The access key id of a request's Authorization header."""
    return received.headers["authorization"].split("Credential=")[1].split("/")[0]


def test_the_pool_bounds_the_sockets_and_reuses_them():
    async def scenario() -> WireServer:
        server = WireServer(hold=0.05)
        endpoint = await server.start()
        source = mock.AsyncMock(**{"get_frozen_credentials.return_value": ReadOnlyCredentials("a", "b", None)})  # fmt: skip
        async with our_client(endpoint, source, pool_size=3) as client:
            for _ in range(2):  # the second round finds the sockets of the first
                await asyncio.gather(
                    *(client.post_to_connection(ConnectionId=f"c{n}", Data=b"x") for n in range(12))
                )
        await server.stop()
        return server

    server = asyncio.run(scenario())
    assert len(server.received) == 24
    assert server.max_in_flight == 3
    assert server.sockets == 3


def test_the_error_carries_the_json_message():
    async def scenario() -> Any:
        server = WireServer(answer=(413, {"x-amzn-ErrorType": "PayloadTooLargeException"}, json.dumps({"message": "too big"}).encode()))  # fmt: skip
        endpoint = await server.start()
        outcomes = await post_both(server, endpoint, "c", b"x")
        await server.stop()
        return outcomes

    theirs, ours = asyncio.run(scenario())
    assert ours.response["Error"]["Message"] == theirs.response["Error"]["Message"] == "too big"
    assert classify(ours) is PostResult.REJECTED
