"""Why a frame was not served: everything an error frame tells the client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sumu_contracts.models import ErrorCode


@dataclass(frozen=True)
class Refusal:
    code: ErrorCode
    message: str
    status_code: int
    # True when sending the same frame again may succeed (the contract's ``retryable``).
    retryable: bool = False
    pointer: str | None = None
    action: str | None = None
