"""Fetch the issuer's key document over HTTP: a short timeout, a size cap, and its max-age.

stdlib urllib rather than an HTTP client library: one GET every hour or so does not need a pool,
and every module imported here is paid on a cold start.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

FETCH_TIMEOUT_SECONDS = 2.0  # a $connect waits for this; API Gateway gives the authorizer 29 s max
MAX_DOCUMENT_BYTES = 1 << 20
USER_AGENT = "sumu-authorizer/0.1.0"
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


class FetchError(Exception):
    """The document could not be fetched or is not JSON; the message says why (no secrets)."""


@dataclass(frozen=True)
class FetchedDocument:
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


# No file://, ftp:// or data: handlers: the URL (and a redirect's target) may only be http(s).
_OPENER = urllib.request.OpenerDirector()
for _handler in (
    urllib.request.ProxyHandler(),
    urllib.request.HTTPHandler(),
    urllib.request.HTTPSHandler(),
    urllib.request.HTTPRedirectHandler(),
    urllib.request.HTTPDefaultErrorHandler(),
    urllib.request.HTTPErrorProcessor(),
):
    _OPENER.add_handler(_handler)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def fetch_json(url: str, timeout: float = FETCH_TIMEOUT_SECONDS) -> FetchedDocument:
    """GET ``url`` as JSON within ``timeout`` seconds overall; FetchError on any failure."""
    if not url.startswith(("https://", "http://")):
        raise FetchError(f"refusing to fetch a non-http(s) URL: {url[:200]}")
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(  # noqa: S310 -- scheme checked above, handlers limited
        url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            body = bytearray()
            while chunk := response.read(65536):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise FetchError(f"{url} is larger than {MAX_DOCUMENT_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise FetchError(f"{url} took longer than {timeout} s")
            cache_control = response.headers.get("Cache-Control")
    except urllib.error.HTTPError as error:
        raise FetchError(f"{url} answered HTTP {error.code}") from None
    # http.client.HTTPException: a malformed answer (BadStatusLine, IncompleteRead) is an outage
    # of the key endpoint like any other, so the keys already known keep working.
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
        raise FetchError(f"{url} failed: {type(error).__name__}: {error}") from None
    try:
        document = json.loads(bytes(body), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise FetchError(f"{url} did not return JSON") from None
    return FetchedDocument(document, max_age(cache_control))


def discover_jwks_uri(issuer: str, timeout: float = FETCH_TIMEOUT_SECONDS) -> str:
    """The jwks_uri of an OpenID provider (OpenID Connect Discovery 1.0, sections 4 and 4.3)."""
    configuration = fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout)
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
