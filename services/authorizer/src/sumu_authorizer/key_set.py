"""Turn a key document into verification keys: a JWKS (RFC 7517) or Firebase's x509 map.

Firebase publishes ``{"<kid>": "-----BEGIN CERTIFICATE-----..."}`` instead of a JWKS
(https://firebase.google.com/docs/auth/admin/verify-id-tokens#verify_id_tokens_using_a_third-party_jwt_library).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey, import_key

# Only signature key types: an "oct" key in a JWKS is never used, so an HMAC algorithm can never
# be verified with one (and JWT_ALGORITHMS cannot name one either).
SIGNATURE_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
MIN_RSA_BITS = 2048  # NIST SP 800-131A; anything shorter is refused, not silently trusted
MAX_KEYS = 100  # a provider publishes a handful; bounds the work a hostile document can cause


class KeyDocumentError(ValueError):
    """The document is neither a JWKS nor a Firebase certificate map."""


class VerificationKey(NamedTuple):
    kid: str | None
    key: Key


class KeyRing(NamedTuple):
    keys: tuple[VerificationKey, ...] = ()
    by_kid: Mapping[str, tuple[VerificationKey, ...]] = MappingProxyType({})
    without_kid: tuple[VerificationKey, ...] = ()

    @classmethod
    def of(cls, keys: list[VerificationKey]) -> KeyRing:
        by_kid: dict[str, list[VerificationKey]] = {}
        for key in keys:
            if key.kid is not None:
                by_kid.setdefault(key.kid, []).append(key)
        without_kid = tuple(key for key in keys if key.kid is None)
        return cls(tuple(keys), {kid: tuple(found) for kid, found in by_kid.items()}, without_kid)

    def candidates(self, kid: str | None) -> tuple[VerificationKey, ...]:
        """Keys that may have signed a token with this ``kid``.

        A token without kid may come from any key; a kid no key names may still come from a
        key published without one (RFC 7517 makes ``kid`` optional). Either way the signature
        decides, and only published keys are tried.
        """
        if kid is None:
            return self.keys
        return self.by_kid.get(kid, self.without_kid)


def _strong_enough(key: Key) -> bool:
    return not isinstance(key, RSAKey) or key.raw_value.key_size >= MIN_RSA_BITS


def _from_jwk(entry: object) -> VerificationKey | None:
    if not isinstance(entry, dict) or entry.get("kty") not in SIGNATURE_KEY_TYPES:
        return None
    if entry.get("use", "sig") != "sig":
        return None
    kid = entry.get("kid")
    if kid is not None and not isinstance(kid, str):
        return None
    public = {
        name: value
        for name, value in entry.items()
        if name not in {"d", "p", "q", "dp", "dq", "qi", "oth"}
    }
    try:
        key = import_key(public)
    except (JoseError, ValueError, TypeError, KeyError):
        return None
    return VerificationKey(kid, key) if _strong_enough(key) else None


def _from_certificate(kid: str, pem: str) -> VerificationKey | None:
    try:
        public_key = x509.load_pem_x509_certificate(pem.encode()).public_key()
    except ValueError:
        return None
    key_class: type[RSAKey | ECKey | OKPKey]
    if isinstance(public_key, rsa.RSAPublicKey):
        key_class = RSAKey
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        key_class = ECKey
    elif isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        key_class = OKPKey
    else:
        return None
    try:
        key = key_class.import_key(pem.encode())
    except (JoseError, ValueError, TypeError):
        return None
    return VerificationKey(kid, key) if _strong_enough(key) else None


def parse_key_document(document: object) -> KeyRing:
    """The usable keys of a JWKS or a Firebase certificate map; unusable entries are skipped."""
    if not isinstance(document, dict):
        raise KeyDocumentError("key document is not a JSON object")
    entries = document.get("keys")
    if isinstance(entries, list):
        found = [_from_jwk(entry) for entry in entries[:MAX_KEYS]]
    elif document and all(isinstance(value, str) for value in document.values()):
        certificates = list(document.items())[:MAX_KEYS]
        found = [_from_certificate(kid, pem) for kid, pem in certificates]
    else:
        raise KeyDocumentError("key document is neither a JWKS nor a map of x509 certificates")
    return KeyRing.of([key for key in found if key is not None])
