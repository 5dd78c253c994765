"""The local token issuer's key: created once, owner-only, reused by `sumu token`."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.errors import InvalidClaimError
from joserfc.jwk import KeySet
from sumu_local.stack.issuer import IssuerError, TokenIssuer, load_key, load_or_create_key


def test_the_key_is_created_once_and_kept_private(tmp_path: Path) -> None:
    key, path = load_or_create_key(tmp_path / ".sumu")
    again, _ = load_or_create_key(tmp_path / ".sumu")
    assert key.kid == again.kid
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_token_carries_the_claims_and_verifies_with_the_jwks(tmp_path: Path) -> None:
    key, _ = load_or_create_key(tmp_path)
    issuer = TokenIssuer(key=key, issuer="http://127.0.0.1:3001", audience="sumu-local")
    token = issuer.token("alice", ttl_seconds=60, claims={"role": "admin"}, now=1_000)
    decoded = jwt.decode(token, KeySet.import_key_set(issuer.jwks()))
    assert decoded.header["kid"] == key.kid
    assert decoded.claims == {
        "iss": "http://127.0.0.1:3001",
        "aud": "sumu-local",
        "sub": "alice",
        "iat": 1_000,
        "exp": 1_060,
        "role": "admin",
    }
    with pytest.raises(InvalidClaimError):
        jwt.JWTClaimsRegistry(aud={"essential": True, "value": "other"}).validate(decoded.claims)
    assert "d" not in issuer.jwks()["keys"][0]  # never the private part


def test_an_unreadable_key_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.json"
    path.write_text("{}")
    with pytest.raises(IssuerError, match="signing key"):
        load_key(path)
