"""Where the schemas live and what the registry says about them.

The schemas ship as package data (``sumu_contracts/schemas/*.json``) so they are readable as
plain files by any language; ``contracts/schemas`` in the repository points at the same folder.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, cast

# Beside this module, as package data. Not importlib.resources.files(): that imports zipfile
# and friends (about 10 ms of every cold start) for zip imports, which Lambda does not use.
SCHEMA_DIR = Path(__file__).parent / "schemas"

CONTRACT_NAMES: tuple[str, ...] = (
    "notification-request",
    "client-frame",
    "server-frame",
    "user-message",
    "presence-event",
    "connection-record",
    "subscription-record",
    "authorizer-response",
    # Internal to sumu-pusher (0.4.0): the shares of a split broadcast, queue to pusher.
    "fanout-job",
)


def _split(name: str) -> tuple[str, int]:
    """``"client-frame"`` -> (client-frame, latest); ``"client-frame.v1"`` -> (client-frame, 1)."""
    base, _, version = name.partition(".v")
    if base not in CONTRACT_NAMES:
        raise KeyError(f"unknown contract {name!r}; known: {', '.join(CONTRACT_NAMES)}")
    if version:
        return base, int(version)
    return base, max(contract_info(base)["versions"])


def schema_path(name: str, schema_dir: Path | None = None) -> Path:
    base, version = _split(name)
    return (schema_dir or SCHEMA_DIR) / f"{base}.v{version}.schema.json"


@cache
def registry() -> dict[str, Any]:
    return cast(dict[str, Any], json.loads((SCHEMA_DIR / "registry.json").read_text("utf-8")))


def contract_info(name: str) -> dict[str, Any]:
    return cast(dict[str, Any], registry()["contracts"][name])


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema of a contract (latest version unless ``name`` ends in ``.vN``)."""
    return cast(dict[str, Any], json.loads(schema_path(name).read_text("utf-8")))


def max_bytes(name: str) -> int | None:
    """The serialised size limit a contract declares (``x-sumu-max-bytes``), if any."""
    limit = load_schema(name).get("x-sumu-max-bytes")
    return int(limit) if limit is not None else None
