"""Fetch the issuer's key document over HTTP(S): one deadline, one origin, a size cap, its max-age.

A $connect may be waiting on this fetch, and the key endpoint is outside our control: a socket
timeout alone bounds each read, not the fetch (an endpoint that sends a byte every half second
never trips it). So ONE deadline covers the name lookup, connect, TLS handshake, request, status
line, headers and body, and every redirect: each blocking step gets only the time left.

stdlib http.client rather than urllib or an HTTP library: one GET an hour needs no pool, every
module imported here is paid on a cold start, and owning the (short) redirect loop is what lets
the deadline and the origin rule hold across redirects. Proxy variables (HTTPS_PROXY) are not
honoured: the keys are fetched directly.
"""

from __future__ import annotations

import functools
import http.client
import io
import json
import os
import re
import socket
import ssl
import threading
import time
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from sumu_authorizer import __version__
from sumu_authorizer.tls import trust_roots

FETCH_TIMEOUT_SECONDS = 2.0  # the whole fetch; a $connect waits for it (API Gateway allows 29 s)
MAX_DOCUMENT_BYTES = 1 << 20
MAX_REDIRECTS = 3
USER_AGENT = f"sumu-authorizer/{__version__}"
# RFC 9110 section 15.4: the redirections that name a new target in Location.
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


class FetchError(Exception):
    """The document could not be fetched or is not JSON; the message says why (no secrets)."""


class FetchedDocument(NamedTuple):
    document: object
    max_age: int | None  # seconds, from Cache-Control; None when the server gave none


def max_age(cache_control: str | None) -> int | None:
    """max-age from a Cache-Control header (RFC 9111 section 5.2.2.1); no-store/no-cache = 0."""
    if not cache_control:
        return None
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return 0
    found = _MAX_AGE.search(cache_control)
    return int(found.group(1)) if found else None


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self._at = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; TimeoutError once there are none (an OSError, as a socket timeout is)."""
        left = self._at - time.monotonic()
        if left <= 0:
            raise TimeoutError("fetch deadline passed")
        return left


class _Origin(NamedTuple):
    """RFC 6454 section 4: scheme, host and port; a redirect may not leave it."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> _Origin | None:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # a port that is not a number, or out of range
            return None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        return cls(scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme])


@functools.cache
def tls_context(ca_certs: str | None) -> ssl.SSLContext:
    """Built once per container, on the first https fetch (the init-phase prefetch on Lambda);
    certificates and host names verified, roots as tls.py chooses them (a hashed directory, so
    building it parses none)."""
    return trust_roots(ca_certs, os.environ).context()


# getaddrinfo's entries: family, type, protocol, canonical name, socket address.
_AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]


def _resolve(host: bytes | str, port: int, deadline: _Deadline) -> list[_AddressInfo]:
    """getaddrinfo has no timeout of its own: a daemon thread lets the deadline bound it too."""
    answer: list[list[_AddressInfo] | OSError] = []

    def resolve() -> None:
        try:
            answer.append(list(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))
        except OSError as error:
            answer.append(error)

    resolver = threading.Thread(target=resolve, name="sumu-authorizer-dns", daemon=True)
    resolver.start()
    resolver.join(deadline.remaining())
    if not answer:
        raise TimeoutError("name lookup took the whole deadline")
    if isinstance(answer[0], OSError):
        raise answer[0]
    return answer[0]


def _open_socket(
    origin: _Origin, deadline: _Deadline, context: ssl.SSLContext | None
) -> socket.socket:
    failure: OSError = OSError(f"{origin.host} has no address")
    # A str host name goes through the "idna" codec, in getaddrinfo and again in ssl's SNI and
    # host name check: importing it (encodings.idna, stringprep, unicodedata) is some 6 M
    # instructions of the init. An ASCII name, every key URL in practice, needs no conversion,
    # so it is passed as bytes.
    name = origin.host.encode("ascii") if origin.host.isascii() else origin.host
    for family, kind, protocol, _, address in _resolve(name, origin.port, deadline):
        sock = socket.socket(family, kind, protocol)
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(address)
        except OSError as error:
            sock.close()
            failure = error
            continue
        if origin.scheme == "https":
            if context is None:  # fetch_json builds one for https; a redirect keeps the scheme
                sock.close()
                raise ssl.SSLError("no TLS context for an https origin")
            # CPython bounds the whole handshake by the socket's timeout, set to the time left.
            sock.settimeout(deadline.remaining())
            return context.wrap_socket(sock, server_hostname=name)
        return sock
    raise failure


class _DeadlineReader(io.RawIOBase):
    """The socket as http.client reads the answer: each read waits at most the time left."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        super().__init__()
        self._sock = sock
        # The socket's own reader: it keeps the descriptor open while http.client closes the
        # connection object under it (socket.close() waits for its readers).
        self._raw = sock.makefile("rb", buffering=0)
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        self._sock.settimeout(self._deadline.remaining())
        return self._raw.readinto(buffer) or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


class _DeadlineSocket:
    """What http.client.HTTPResponse is built on: it only ever calls makefile("rb")."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


class _Connection(http.client.HTTPConnection):
    """One GET to one origin within the deadline: connect, TLS, send and read all bounded."""

    def __init__(
        self, origin: _Origin, deadline: _Deadline, context: ssl.SSLContext | None
    ) -> None:
        super().__init__(origin.host, origin.port, timeout=deadline.remaining())
        self._origin = origin
        self._deadline = deadline
        self._context = context

    def connect(self) -> None:
        self.sock = _open_socket(self._origin, self._deadline, self._context)
        self.sock.settimeout(self._deadline.remaining())  # sendall: one deadline for all of it

    def getresponse(self) -> http.client.HTTPResponse:
        if self.sock is None:
            raise http.client.NotConnected()
        self.response_class = functools.partial(  # type: ignore[assignment]
            _response_through, _DeadlineSocket(self.sock, self._deadline)
        )
        return super().getresponse()


def _response_through(
    reader: _DeadlineSocket, sock: object, *args: object, **kwargs: object
) -> http.client.HTTPResponse:
    return http.client.HTTPResponse(reader, *args, **kwargs)  # type: ignore[arg-type]


def _read_body(response: http.client.HTTPResponse, url: str) -> bytes:
    # response.length is the parsed Content-Length (None when chunked or close-delimited).
    if response.length is not None:
        if response.length > MAX_DOCUMENT_BYTES:
            raise FetchError(f"{url} is larger than {MAX_DOCUMENT_BYTES} bytes")
        return response.read()  # exactly that many bytes, or IncompleteRead
    body = response.read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise FetchError(f"{url} is larger than {MAX_DOCUMENT_BYTES} bytes")
    return body


def _get(url: str, deadline: _Deadline, context: ssl.SSLContext | None) -> tuple[bytes, str | None]:
    """The body and Cache-Control of ``url``, following redirects that stay on its origin."""
    origin = _Origin.of(url)
    if origin is None:
        raise FetchError(f"refusing to fetch a non-http(s) URL: {url[:200]}")
    target = url
    for _ in range(MAX_REDIRECTS + 1):
        connection = _Connection(origin, deadline, context)
        try:
            parts = urlsplit(target)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request(
                "GET",
                path,
                headers={
                    "Accept": "application/json",
                    "User-Agent": USER_AGENT,
                    "Connection": "close",
                },
            )
            response = connection.getresponse()
            if response.status in _REDIRECT_STATUSES:
                location = urljoin(target, response.getheader("Location") or "")
                if _Origin.of(location) != origin:
                    raise FetchError(
                        f"{url} redirects to another origin ({location[:200]}); refused"
                    )
                target = location
                continue
            if response.status != 200:
                raise FetchError(f"{url} answered HTTP {response.status}")
            return _read_body(response, url), response.getheader("Cache-Control")
        finally:
            connection.close()
    raise FetchError(f"{url} redirects more than {MAX_REDIRECTS} times")


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def fetch_json(
    url: str, timeout: float = FETCH_TIMEOUT_SECONDS, ca_certs: str | None = None
) -> FetchedDocument:
    """GET ``url`` as JSON within ``timeout`` seconds in all; FetchError on any failure.

    ``ca_certs`` (JWT_ISSUER_CA_CERTS): a PEM file or hashed directory trusted instead of the
    default roots for an https URL (tls.py).
    """
    context = None
    if url[:8].lower() == "https://":
        # Building the TLS context is local work, once per container, not time the endpoint
        # takes: it happens before the clock starts.
        try:
            context = tls_context(ca_certs)
        except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
            raise FetchError(f"the trust roots cannot be loaded: {error}") from None
    try:
        body, cache_control = _get(url, _Deadline(timeout), context)
    except TimeoutError:
        raise FetchError(f"{url} took longer than {timeout} s") from None
    # http.client.HTTPException: a malformed answer (BadStatusLine, IncompleteRead) is an outage
    # of the key endpoint like any other, so the keys already known keep working.
    except (OSError, ValueError, http.client.HTTPException) as error:
        raise FetchError(f"{url} failed: {type(error).__name__}: {error}") from None
    try:
        document = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise FetchError(f"{url} did not return JSON") from None
    return FetchedDocument(document, max_age(cache_control))


def discover_jwks_uri(
    issuer: str, timeout: float = FETCH_TIMEOUT_SECONDS, ca_certs: str | None = None
) -> str:
    """The jwks_uri of an OpenID provider (OpenID Connect Discovery 1.0, sections 4 and 4.3)."""
    configuration = fetch_json(
        issuer.rstrip("/") + "/.well-known/openid-configuration", timeout, ca_certs
    )
    document = configuration.document
    if not isinstance(document, dict):
        raise FetchError("openid-configuration is not a JSON object")
    # Section 4.3: the issuer in the document MUST match the one it was fetched for.
    if document.get("issuer") != issuer:
        raise FetchError("openid-configuration names another issuer than JWT_ISSUER")
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
        raise FetchError("openid-configuration has no http(s) jwks_uri")
    return jwks_uri
