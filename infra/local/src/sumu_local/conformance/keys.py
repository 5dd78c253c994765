"""A JWKS endpoint with keys the kit controls, and tokens signed (or forged) with them.

The server can publish any key set, fail with 500, or hang, so the cases can rotate keys and
take the issuer away. Forged tokens (``none``, HMAC keyed with a public key, tampered payloads)
are built by hand: no JOSE library would sign them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from joserfc import jwt
from joserfc.jwk import RSAKey

from sumu_local.conformance.http_servers import LoopbackServer, QuietHandler

Mode = Literal["ok", "error", "hang"]
HANG_SECONDS = 6.0


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(
        2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True
    )


class KeyServer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: list[RSAKey] = []
        self.mode: Mode = "ok"
        self.fetches = 0
        self._stopping = threading.Event()
        self._server = LoopbackServer(_Handler, self)

    @property
    def jwks_uri(self) -> str:
        return f"{self._server.url}/.well-known/jwks.json"

    @property
    def issuer(self) -> str:
        return f"{self._server.url}/"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._stopping.set()
        self._server.stop()

    def publish(self, *keys: RSAKey) -> None:
        with self._lock:
            self._keys = list(keys)

    def document(self) -> dict[str, Any]:
        with self._lock:
            return {"keys": [key.as_dict(private=False) for key in self._keys]}


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        owner: KeyServer = self.server.owner  # type: ignore[attr-defined]
        owner.fetches += 1
        if owner.mode == "hang":
            owner._stopping.wait(HANG_SECONDS)
            self.close_connection = True
            return
        if owner.mode == "error":
            self.answer(500, b"issuer unavailable")
            return
        body = json.dumps(owner.document()).encode()
        self.answer(
            200, body, {"Content-Type": "application/json", "Cache-Control": "max-age=3600"}
        )


def sign(key: RSAKey, claims: dict[str, Any], *, kid: str | None = None) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": kid if kid is not None else key.kid}
    return jwt.encode(header, claims, key)


def unsigned_token(claims: dict[str, Any], kid: str | None) -> str:
    header: dict[str, Any] = {"alg": "none", "typ": "JWT"}
    if kid:
        header["kid"] = kid
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}."


def hmac_with_public_key(key: RSAKey, claims: dict[str, Any]) -> str:
    """The classic algorithm confusion: HS256 keyed with the issuer's public key (PEM)."""
    pem = key.get_op_key("verify").public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def tampered(token: str, claims: dict[str, Any]) -> str:
    """The same header and signature with another payload."""
    header, _, signature = token.split(".")
    return f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"


def claims_for(
    issuer: str, audience: str | list[str], subject: str, **extra: Any
) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(extra)
    return {name: value for name, value in claims.items() if value is not None}
