"""The authorizer's configuration: environment variables read and validated once per container."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

# Asymmetric JWS algorithms only (RFC 7518 section 3 and RFC 8037). HMAC ("HS*") would turn a
# public key from the JWKS into a shared secret anyone can sign with, and "none" signs nothing,
# so neither can be allowed whatever JWT_ALGORITHMS says.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
DEFAULT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
DEFAULT_LEEWAY_SECONDS = 60
# API Gateway puts principalId and integrationLatency beside the context keys in
# requestContext.authorizer, so a claim of that name would shadow them.
RESERVED_CONTEXT_KEYS = frozenset({"principalId", "integrationLatency"})
# The context key that carries the token's channel patterns (channels.py), whatever the claim's
# name: JWT_CONTEXT_CLAIMS cannot copy another value over it.
CHANNELS_CONTEXT_KEY = "channels"
DEFAULT_CHANNELS_CLAIM = "channels"
# Without an issuer or an audience, a signature from the JWKS would be enough to get in; some key
# sets sign for many tenants (Firebase's x509 map signs the tokens of every Firebase project), so
# that must be an explicit choice, never what an incomplete configuration does.
ALLOW_ANY_ISSUER_AND_AUDIENCE = "JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE"
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class SettingsError(ValueError):
    """The environment does not configure a usable authorizer; the message names the variable."""


# NamedTuple rather than frozen dataclasses, here and in the other modules: a dataclass writes and
# compiles its methods when it is defined, about 1 ms of every cold start each (8 of them: some
# 30 M instructions, callgrind), where a NamedTuple costs a tenth of that.
class Settings(NamedTuple):
    jwks_uri: str | None
    issuer: str | None
    audiences: frozenset[str]
    verify_expiration: bool
    algorithms: frozenset[str]
    leeway_seconds: int
    context_claims: tuple[str, ...]
    authorized_apis: tuple[str, ...]
    allow_any_issuer_and_audience: bool = False
    # The claim holding the token's channel patterns (issue 17).
    channels_claim: str = DEFAULT_CHANNELS_CLAIM
    # JWT_ISSUER_CA_CERTS: a PEM file or hashed directory of roots trusted for the key fetch
    # instead of the packaged ones (a private CA); tls.py.
    issuer_ca_certs: str | None = None


def _comma_list(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in environ.get(name, "").split(",") if item.strip())


def _http_url(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    if not value:
        return None
    if not value.startswith(("https://", "http://")):
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def _boolean(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def _algorithms(environ: Mapping[str, str]) -> frozenset[str]:
    names = _comma_list(environ, "JWT_ALGORITHMS") or DEFAULT_ALGORITHMS
    rejected = sorted(set(names) - ASYMMETRIC_ALGORITHMS)
    if rejected:
        raise SettingsError(
            f"JWT_ALGORITHMS may only name asymmetric algorithms "
            f"({', '.join(sorted(ASYMMETRIC_ALGORITHMS))}); rejected: {', '.join(rejected)}"
        )
    return frozenset(names)


def _leeway(environ: Mapping[str, str]) -> int:
    value = environ.get("JWT_LEEWAY_SECONDS", "").strip()
    if not value:
        return DEFAULT_LEEWAY_SECONDS
    try:
        leeway = int(value)
    except ValueError:
        raise SettingsError(f"JWT_LEEWAY_SECONDS must be an integer, got {value!r}") from None
    if not 0 <= leeway <= 3600:
        raise SettingsError(f"JWT_LEEWAY_SECONDS must be between 0 and 3600, got {leeway}")
    return leeway


def _existing_path(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    if not value:
        return None
    if not os.path.exists(value):
        raise SettingsError(f"{name} must name a PEM file or a directory, got {value!r}")
    return value


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read the authorizer's variables; raise SettingsError naming the first bad one."""
    jwks_uri = _http_url(environ, "JWT_ISSUER_JWKS_URI")
    issuer = environ.get("JWT_ISSUER", "").strip() or None
    if jwks_uri is None and issuer is None:
        raise SettingsError(
            "JWT_ISSUER_JWKS_URI is not set (nor JWT_ISSUER, to discover it from the issuer's "
            "/.well-known/openid-configuration)"
        )
    if jwks_uri is None:
        _http_url(environ, "JWT_ISSUER")  # discovery needs an http(s) issuer
    audiences = frozenset(_comma_list(environ, "JWT_AUTHORIZED_AUDIENCES"))
    allow_any = _boolean(environ, ALLOW_ANY_ISSUER_AND_AUDIENCE, default=False)
    if issuer is None and not audiences and not allow_any:
        raise SettingsError(
            "neither JWT_ISSUER nor JWT_AUTHORIZED_AUDIENCES is set: any token signed by the keys "
            "of JWT_ISSUER_JWKS_URI would be allowed, whoever it was issued by or for. Set one of "
            f"them, or {ALLOW_ANY_ISSUER_AND_AUDIENCE}=true if that is really wanted"
        )
    context_claims = tuple(
        name
        for name in _comma_list(environ, "JWT_CONTEXT_CLAIMS")
        if name not in {"sub", CHANNELS_CONTEXT_KEY} and name not in RESERVED_CONTEXT_KEYS
    )
    return Settings(
        jwks_uri=jwks_uri,
        issuer=issuer,
        audiences=audiences,
        verify_expiration=_boolean(environ, "JWT_VERIFY_EXPIRATION", default=True),
        algorithms=_algorithms(environ),
        leeway_seconds=_leeway(environ),
        context_claims=tuple(dict.fromkeys(context_claims)),
        authorized_apis=_comma_list(environ, "AUTHORIZED_APIS"),
        allow_any_issuer_and_audience=allow_any,
        channels_claim=environ.get("JWT_CHANNELS_CLAIM", "").strip() or DEFAULT_CHANNELS_CLAIM,
        issuer_ca_certs=_existing_path(environ, "JWT_ISSUER_CA_CERTS"),
    )
