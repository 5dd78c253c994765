"""Every violation of a message, through ``jsonschema`` (the reference draft-07 implementation).

The hot path validates with fastjsonschema (validation.py), which stops at the first error.
This module lists them all, for people reading why a message was refused (``sumu-contracts
validate --all-errors``); property tests prove the two give the same verdict. jsonschema is an
optional extra (``pip install "sumu-contracts[reference]"``), imported only when called, so
services pay nothing for it.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import Any

from sumu_contracts.errors import ContractError
from sumu_contracts.registry import load_schema, max_bytes
from sumu_contracts.validation import serialised_size_of

INSTALL_HINT = 'jsonschema is not installed: pip install "sumu-contracts[reference]"'


class ReferenceUnavailable(RuntimeError):
    """jsonschema, the optional reference validator, is not installed."""


@cache
def _validator(name: str) -> Any:
    try:
        # Optional and imported only when asked; jsonschema ships no type stubs (Any is honest).
        draft7_validator: Any = import_module("jsonschema").Draft7Validator
    except ImportError:
        raise ReferenceUnavailable(INSTALL_HINT) from None
    schema = load_schema(name)
    draft7_validator.check_schema(schema)
    return draft7_validator(schema)


def reference_is_valid(name: str, payload: Any) -> bool:
    """jsonschema's verdict on the schema alone (no x-sumu-max-bytes, which it does not know)."""
    return bool(_validator(name).is_valid(payload))


def all_errors(
    name: str, payload: Any, *, serialised_size: int | None = None
) -> list[ContractError]:
    """Every violation (empty when valid), sorted by pointer, plus the size limit if exceeded."""
    errors = [
        ContractError(name, _pointer(error.absolute_path), error.message)
        for error in _validator(name).iter_errors(payload)
    ]
    errors.sort(key=lambda error: (error.pointer, error.reason))
    limit = max_bytes(name)
    if limit is not None:
        size = serialised_size if serialised_size is not None else serialised_size_of(payload)
        if size > limit:
            errors.append(ContractError(name, "", f"is {size} bytes, over the limit of {limit}"))
    return errors


def _pointer(path: Any) -> str:
    """jsonschema's path (a deque of keys and indexes) -> RFC 6901 pointer."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)
