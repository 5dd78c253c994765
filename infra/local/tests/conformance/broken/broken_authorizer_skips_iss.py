"""A broken authorizer: the built-in one, but ``iss`` is never compared with JWT_ISSUER."""

from __future__ import annotations

from typing import Any

from sumu_authorizer import authorizer
from sumu_authorizer.handler import handler

_check_claims = authorizer.check_claims


def _check_claims_any_issuer(token_claims: dict[str, object], settings: Any, now: float) -> str:
    # Settings is a NamedTuple (sumu-authorizer 0.4.0): a copy without the issuer.
    return _check_claims(token_claims, settings._replace(issuer=None), now)


authorizer.check_claims = _check_claims_any_issuer  # type: ignore[assignment]

__all__ = ["handler"]
