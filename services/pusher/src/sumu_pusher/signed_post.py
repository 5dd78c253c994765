"""PostToConnection without the SDK's request pipeline: one SigV4-signed POST through aiohttp.

A post through an aiobotocore client costs ~1.4 ms of CPU here, and almost none of it is the
signature: the client runs a chain of event hooks, validates and serializes the parameters
against the service model, resolves the endpoint through the rule set, builds the user-agent
string and a prepared request, then parses the answer, for a call whose request is always the
same: ``POST {endpoint}/@connections/{escaped connection id}`` with the data as the body.
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html

``ManagementApiClient`` keeps what matters and skips the rest:

- the URL is the one botocore builds: the endpoint (``APIGW_ENDPOINT``, with its stage path)
  followed by ``/@connections/`` and the connection id escaped as botocore escapes a URI label
  (``percent_encode``, only ``-._~`` left as they are);
- the signature is SigV4 (service ``execute-api``, the session's region) over the request
  botocore signs (host, X-Amz-Date, X-Amz-Security-Token, the body's SHA-256), computed by
  ``Signer``: botocore's ``SigV4Auth`` steps for this one request shape, without its generic
  request object, header maps and URL parsing (half of a post's remaining CPU when it signed
  through ``SigV4Auth``), and with the day's signing key kept between posts. The credentials are
  frozen for each post from the session's provider, so refreshable credentials refresh as in a
  client. Tests prove the Authorization header equal to ``SigV4Auth``'s and to a client's at the
  same frozen time, and the request on the wire equal to a client's
  (``tests/unit/test_signed_post.py``);
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
- one aiohttp session, its pool bounded like the client's (``limit``), with the client's
  timeouts (connect and read, no total) and keep-alive, and no Content-Type (botocore sends none);
- an answer other than 2xx raises botocore's ``ClientError`` carrying the status and the error
  code as botocore's rest-json parser reads them (``x-amzn-ErrorType``, else the body's code, else
  the status), and network failures raise aiohttp's errors, so ``management_api.classify`` sees
  what it saw before.

Not carried over: proxies from ``HTTPS_PROXY`` (botocore honours them; Lambda has none unless a
team sets them) and botocore's own retries (already off: ``management_api`` owns the retries).
"""

from __future__ import annotations

import hmac
import json
import ssl
from hashlib import sha256
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import aiohttp
from botocore import auth as botocore_auth
from botocore.auth import SIGV4_TIMESTAMP, _host_from_url
from botocore.exceptions import ClientError, NoCredentialsError
from botocore.utils import normalize_url_path, percent_encode
from yarl import URL

# The management API's SigV4 service name (its model's ``signingName``).
SIGNING_NAME = "execute-api"
OPERATION = "PostToConnection"
# aiobotocore's keep-alive for pooled sockets (aiobotocore._constants.DEFAULT_KEEPALIVE_TIMEOUT).
KEEPALIVE_SECONDS = 12.0


class CredentialSource(Protocol):
    """botocore's credentials object of a session (static or refreshable)."""

    async def get_frozen_credentials(self) -> Any: ...


def connection_url(endpoint: str, connection_id: str) -> str:
    """The URL botocore builds for PostToConnection (the ``{connectionId}`` label escaped)."""
    return f"{endpoint.rstrip('/')}/@connections/{percent_encode(connection_id)}"


class Signer:
    """SigV4 headers for ``POST <endpoint path>/@connections/<id>`` with a body, as
    ``botocore.auth.SigV4Auth.add_auth`` computes them for the same request (tested equal)."""

    def __init__(self, endpoint: str, region: str) -> None:
        parts = urlsplit(endpoint)
        if parts.query or parts.fragment:
            raise ValueError(f"a management API endpoint has no query or fragment: {endpoint!r}")
        self.host = _host_from_url(endpoint)  # lowercase, without a default port
        self.region = region
        self._scope_tail = f"/{region}/{SIGNING_NAME}/aws4_request"
        self._key: tuple[str, str, bytes] = ("", "", b"")  # (secret, day, signing key)

    def _signing_key(self, secret: str, day: str) -> bytes:
        cached_secret, cached_day, key = self._key
        if cached_secret != secret or cached_day != day:
            key = hmac.new(f"AWS4{secret}".encode(), day.encode(), sha256).digest()
            for part in (self.region, SIGNING_NAME, "aws4_request"):
                key = hmac.new(key, part.encode(), sha256).digest()
            self._key = (secret, day, key)
        return key

    def headers(self, path: str, payload: bytes, credentials: Any) -> dict[str, str]:
        """X-Amz-Date, X-Amz-Security-Token (with a session token) and Authorization.
        ``path`` is the URL's path, escaped as sent."""
        # botocore.auth's clock, looked up at each call (tests freeze it there for both sides).
        timestamp: str = botocore_auth.get_current_datetime().strftime(SIGV4_TIMESTAMP)
        day = timestamp[:8]
        token = credentials.token
        if token:
            signed = "host;x-amz-date;x-amz-security-token"
            # SigV4's Trimall of a header value, as botocore applies it.
            canonical_headers = (
                f"host:{self.host}\nx-amz-date:{timestamp}\n"
                f"x-amz-security-token:{' '.join(token.split())}"
            )
        else:
            signed = "host;x-amz-date"
            canonical_headers = f"host:{self.host}\nx-amz-date:{timestamp}"
        # Method, canonical URI (dot segments and empty segments removed, then escaped again:
        # every service but S3 signs the escaped path escaped once more), empty query string,
        # headers, signed header names, payload hash.
        canonical_path = quote(normalize_url_path(path), safe="/~")
        canonical_request = (
            f"POST\n{canonical_path}\n\n{canonical_headers}\n\n{signed}\n"
            f"{sha256(payload).hexdigest()}"
        )
        string_to_sign = (
            f"AWS4-HMAC-SHA256\n{timestamp}\n{day}{self._scope_tail}\n"
            f"{sha256(canonical_request.encode()).hexdigest()}"
        )
        key = self._signing_key(credentials.secret_key, day)
        signature = hmac.new(key, string_to_sign.encode(), sha256).hexdigest()
        headers = {"X-Amz-Date": timestamp}
        if token:
            headers["X-Amz-Security-Token"] = token
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{day}{self._scope_tail}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        return headers


def client_error(status: int, headers: Any, body: bytes) -> ClientError:
    """The ClientError botocore raises for an error answer, as far as ``classify`` reads it."""
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {}
    document = parsed if isinstance(parsed, dict) else {}
    code = str(
        headers.get("x-amzn-ErrorType")
        or document.get("code")
        or document.get("Code")
        or document.get("__type")
        or status
    )
    message = document.get("message", document.get("Message", ""))
    response = {
        "Error": {"Code": code.split(":", 1)[0].rsplit("#", 1)[-1], "Message": str(message)},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": dict(headers)},
    }
    return ClientError(response, OPERATION)


class ManagementApiClient:
    """``post_to_connection`` for one management API endpoint; an async context manager that
    owns its aiohttp session (built inside the running loop, closed on exit)."""

    def __init__(
        self,
        endpoint: str,
        credentials: CredentialSource | None,
        region: str,
        *,
        pool_size: int,
        timeout_s: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.signer = Signer(self.endpoint, region)
        self._path = urlsplit(self.endpoint).path + "/@connections/"
        # Where the escaped id starts in connection_url's answer.
        self._id_offset = len(self.endpoint) + len("/@connections/")
        self._credentials = credentials
        self._pool_size = pool_size
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=timeout_s, sock_read=timeout_s
        )
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ManagementApiClient:
        connector = aiohttp.TCPConnector(
            limit=self._pool_size,
            keepalive_timeout=KEEPALIVE_SECONDS,
            ssl=self._ssl if self._ssl is not None else True,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            skip_auto_headers=("Content-Type",),
            # The management API sets no cookie; a jar would only cost CPU on every answer.
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # The SDK's parameter names: callers (and their test doubles) treat both clients alike.
    async def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> None:
        """One attempt. Raises ClientError for an answer other than 2xx, aiohttp's errors (and
        asyncio.TimeoutError) when no answer came."""
        session = self._session
        if session is None:
            raise RuntimeError("ManagementApiClient used outside its async with block")
        if self._credentials is None:  # as a client without credentials fails each request
            raise NoCredentialsError
        url = connection_url(self.endpoint, ConnectionId)
        credentials = await self._credentials.get_frozen_credentials()
        headers = self.signer.headers(self._path + url[self._id_offset :], Data, credentials)
        headers["Accept-Encoding"] = "identity"
        # encoded=True: the path is already escaped exactly as signed; yarl must not requote it.
        # No redirects: the management API sends none, and a redirect would carry the signature.
        async with session.post(
            URL(url, encoded=True), data=Data, headers=headers, allow_redirects=False
        ) as response:
            body = await response.read()
            if response.status >= 300:
                raise client_error(response.status, response.headers, body)
