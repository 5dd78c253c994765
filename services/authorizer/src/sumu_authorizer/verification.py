"""Verify a compact JWS token's signature with joserfc and return its claims.

The cheap checks come first (size, shape, header, algorithm allow-list) so that a malformed or
hostile token is denied before any key lookup or public-key operation.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import warnings
from collections.abc import Collection
from typing import NamedTuple

from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry

from sumu_authorizer.decision import Denied
from sumu_authorizer.key_set import VerificationKey
from sumu_authorizer.key_store import KeyStore

MAX_TOKEN_BYTES = 8192
MAX_KID_CHARS = 256
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# Header parameters we understand (RFC 7515 section 4.1). "crit" and "b64" (RFC 7797) change how a
# token must be processed, so a token using them is refused rather than half-understood; "jku",
# "x5u" and "jwk" are never followed: keys come from the configured JWKS only.
_REFUSED_HEADER_PARAMETERS = ("crit", "b64")


class TokenHeader(NamedTuple):
    alg: str
    kid: str | None


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


# Python's json accepts NaN and Infinity, which are not JSON (RFC 8259) and could reach the
# context; one decoder built once (json.loads with parse_constant builds one per call).
_STRICT_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def _json_segment(segment: str) -> object:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return _STRICT_JSON.decode(raw.decode("utf-8"))
    except (ValueError, binascii.Error, RecursionError):
        return None


def read_header(token: str, algorithms: Collection[str]) -> TokenHeader:
    if len(token) > MAX_TOKEN_BYTES:
        raise Denied(f"token larger than {MAX_TOKEN_BYTES} bytes")
    if not _COMPACT_JWS.fullmatch(token):
        raise Denied("token is not a compact JWS")
    header = _json_segment(token[: token.index(".")])
    if not isinstance(header, dict):
        raise Denied("token header is not a JSON object")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise Denied("alg not allowed")
    if any(name in header for name in _REFUSED_HEADER_PARAMETERS):
        raise Denied("token header uses crit or b64")
    kid = header.get("kid")
    if kid is not None and (not isinstance(kid, str) or len(kid) > MAX_KID_CHARS):
        raise Denied("kid is not a short string")
    return TokenHeader(alg, kid)


class TokenVerifier:
    def __init__(self, algorithms: Collection[str], key_store: KeyStore) -> None:
        self._algorithms = frozenset(algorithms)
        self._key_store = key_store
        registry = JWSRegistry(algorithms=list(self._algorithms))
        # joserfc warns that "EdDSA" is superseded by RFC 9864's "Ed25519"; issuers still sign
        # with EdDSA, and it is allowed on purpose, so the warning is silenced once, here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._models = {name: registry.get_alg(name) for name in self._algorithms}

    def verify(self, token: str) -> tuple[TokenHeader, dict[str, object]]:
        """The header and claims of a token signed by a key of the JWKS; Denied otherwise."""
        header = read_header(token, self._algorithms)
        candidates = self._key_store.candidates(header.kid)
        if not candidates:
            raise Denied("no signing key for this kid" if header.kid else "no signing key")
        signing_input, _, signature_segment = token.rpartition(".")
        try:
            signature = base64.urlsafe_b64decode(
                signature_segment + "=" * (-len(signature_segment) % 4)
            )
        except (ValueError, binascii.Error):
            raise Denied("signature is not base64url") from None
        if not any(
            self._signed_by(key, header.alg, signing_input.encode(), signature)
            for key in candidates
        ):
            raise Denied("bad signature")
        claims = _json_segment(signing_input[signing_input.index(".") + 1 :])
        if not isinstance(claims, dict):
            raise Denied("payload is not a JSON object")
        return header, claims

    def _signed_by(
        self, key: VerificationKey, alg: str, signing_input: bytes, signature: bytes
    ) -> bool:
        model = self._models[alg]
        try:
            # check_key: the key's type and curve fit the algorithm, and its "use"/"alg" allow it.
            model.check_key(key.key)
            return model.verify(signing_input, signature, key.key)
        except (JoseError, ValueError, TypeError):
            return False
