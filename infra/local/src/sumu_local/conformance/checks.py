"""Effects checked against the contracts with the reference validator (jsonschema, draft-07).

The services validate with fastjsonschema (sumu_contracts); the kit deliberately uses another
implementation, so a quirk shared by a service and its own validator cannot hide a violation.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft7Validator  # type: ignore[import-untyped]
from sumu_contracts import load_schema

from sumu_local.conformance.report import CaseFailed


@cache
def validator(contract: str) -> Draft7Validator:
    schema = load_schema(contract)
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def contract_errors(contract: str, payload: Any) -> list[str]:
    errors = sorted(validator(contract).iter_errors(payload), key=lambda error: list(error.path))
    return [
        f"{'/' + '/'.join(str(p) for p in error.path) if error.path else '(root)'}: {error.message}"
        for error in errors
    ]


def require_valid(contract: str, payload: Any, what: str) -> None:
    errors = contract_errors(contract, payload)
    if errors:
        raise CaseFailed(f"{what} breaks {contract}: {errors[0]}; got {short(payload)}")


def require(condition: bool, observation: str) -> None:
    if not condition:
        raise CaseFailed(observation)


def short(value: Any, limit: int = 300) -> str:
    try:
        text = json.dumps(value, default=str, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
