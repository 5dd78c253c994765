"""SUMU message contracts: the JSON Schemas every service and backend agrees on.

    from sumu_contracts import validate, ContractError
    validate("notification-request", {"users": ["alice"], "data": {"text": "hi"}})

Importing this module is cheap (no pydantic, no jsonschema): Lambda cold starts import it.
The pydantic models live in ``sumu_contracts.models`` (extra ``sumu-contracts[models]``).
"""

from sumu_contracts.errors import ContractError
from sumu_contracts.registry import CONTRACT_NAMES, contract_info, load_schema, schema_path
from sumu_contracts.validation import is_valid, preload, validate

__version__ = "0.5.0"

__all__ = [
    "CONTRACT_NAMES",
    "ContractError",
    "__version__",
    "contract_info",
    "is_valid",
    "load_schema",
    "preload",
    "schema_path",
    "validate",
]
