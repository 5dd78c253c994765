"""Check a verified token's claims (RFC 7519 section 4.1) and pick what goes into the context."""

from __future__ import annotations

import math

from sumu_authorizer.channels import CONTEXT_KEY, BadChannelsClaim, channel_patterns, encode
from sumu_authorizer.decision import ContextValue, Denied
from sumu_authorizer.settings import Settings

MAX_NUMERIC_DATE = 10**12  # year 33658; anything larger is not a date an issuer meant


def _number(claims: dict[str, object], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):  # bool is an int in Python
        raise Denied(f"{name} is not a NumericDate")
    # Also refuses NaN and infinities (every comparison with NaN is false) and integers too large
    # to become a float.
    if not -MAX_NUMERIC_DATE <= value <= MAX_NUMERIC_DATE:
        raise Denied(f"{name} is out of range")
    return value


def _check_times(claims: dict[str, object], settings: Settings, now: float) -> None:
    leeway = settings.leeway_seconds
    expires_at = _number(claims, "exp") if settings.verify_expiration else None
    if settings.verify_expiration:
        if expires_at is None:
            raise Denied("exp is missing")
        if now >= expires_at + leeway:
            raise Denied("token expired")
    not_before = _number(claims, "nbf")
    if not_before is not None and now + leeway < not_before:
        raise Denied("token not valid yet (nbf)")
    issued_at = _number(claims, "iat")
    if issued_at is not None and issued_at > now + leeway:
        raise Denied("token issued in the future (iat)")


def _token_audiences(claims: dict[str, object]) -> list[object]:
    audience = claims.get("aud")
    if audience is None:
        # Cognito access tokens carry no aud; their client_id names the app client instead.
        # https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html
        audience = claims.get("client_id")
    if isinstance(audience, list):
        return audience
    return [audience]


def check_claims(claims: dict[str, object], settings: Settings, now: float) -> str:
    """The token's subject, once every configured claim rule holds; Denied otherwise."""
    _check_times(claims, settings, now)
    if settings.issuer is not None and claims.get("iss") != settings.issuer:
        raise Denied("iss does not match JWT_ISSUER")
    if settings.audiences and not any(
        isinstance(audience, str) and audience in settings.audiences
        for audience in _token_audiences(claims)
    ):
        raise Denied("aud is not an authorized audience")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Denied("sub is missing")
    return subject


def authorizer_context(
    subject: str, claims: dict[str, object], settings: Settings
) -> tuple[dict[str, ContextValue], list[str]]:
    """``sub``, the JWT_CONTEXT_CLAIMS present as string, number or boolean, and ``channels``
    (the channels claim's patterns, JSON-encoded) when the token has that claim; with the
    problems of the channels claim, for a WARN line (the connection is allowed regardless).

    API Gateway rejects objects and arrays in the context, so such claims are left out.
    """
    context: dict[str, ContextValue] = {"sub": subject}
    for name in settings.context_claims:
        value = claims.get(name)
        if isinstance(value, str | bool | int) or (
            isinstance(value, float) and math.isfinite(value)
        ):
            context[name] = value
    problems: list[str] = []
    if settings.channels_claim in claims:
        try:
            patterns, problems = channel_patterns(claims[settings.channels_claim])
        except BadChannelsClaim as error:
            # No patterns at all, and the key left out: only the public channels remain.
            return context, [str(error)]
        context[CONTEXT_KEY] = encode(patterns)
    return context, problems
