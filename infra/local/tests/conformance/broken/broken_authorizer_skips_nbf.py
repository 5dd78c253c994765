"""A broken authorizer: the built-in one, but ``nbf`` is never checked."""

from __future__ import annotations

from typing import Any

from sumu_authorizer import claims
from sumu_authorizer.handler import handler

_check_times = claims._check_times


def _check_times_without_nbf(token_claims: dict[str, object], settings: Any, now: float) -> None:
    _check_times({k: v for k, v in token_claims.items() if k != "nbf"}, settings, now)


claims._check_times = _check_times_without_nbf

__all__ = ["handler"]
