"""The local token issuer: an RS256 key, its JWKS, and tokens the authorizer accepts.

``sumu up`` creates the key once per state directory and keeps it there (``signing-key.json``,
readable by its owner only) so ``sumu token`` in another terminal signs with the same key and a
restarted stack still accepts tokens issued before the restart.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

SIGNING_KEY_FILE = "signing-key.json"
ALGORITHM = "RS256"
DEFAULT_TOKEN_TTL_SECONDS = 3600


class IssuerError(RuntimeError):
    """The signing key is missing or unreadable."""


@dataclass(frozen=True)
class TokenIssuer:
    key: RSAKey
    issuer: str
    audience: str

    @property
    def kid(self) -> str:
        return str(self.key.kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def token(
        self,
        subject: str,
        *,
        audience: str | None = None,
        ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS,
        claims: Mapping[str, Any] | None = None,
        now: float | None = None,
    ) -> str:
        issued_at = int(time.time() if now is None else now)
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience or self.audience,
            "sub": subject,
            "iat": issued_at,
            "exp": issued_at + ttl_seconds,
            **(claims or {}),
        }
        return jwt.encode({"alg": ALGORITHM, "kid": self.kid, "typ": "JWT"}, payload, self.key)


def load_or_create_key(state_dir: Path) -> tuple[RSAKey, Path]:
    path = state_dir / SIGNING_KEY_FILE
    if path.exists():
        return load_key(path), path
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM}, private=True)
    document = {**key.as_dict(private=True), "kid": key.thumbprint()}
    state_dir.mkdir(parents=True, exist_ok=True)
    # Created owner-only from the first byte: it is a private key, even if only a local one.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(document, file)
    return RSAKey.import_key(document), path


def load_key(path: Path) -> RSAKey:
    try:
        document = json.loads(path.read_text("utf-8"))
        key = RSAKey.import_key(document)
    except (OSError, ValueError, JoseError) as error:
        raise IssuerError(f"cannot read the signing key {path}: {error}") from error
    if not key.is_private or not key.kid:
        raise IssuerError(f"{path} is not a private RSA key with a kid")
    return key
