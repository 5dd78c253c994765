"""Validate payloads against contracts, with validators compiled once per process.

fastjsonschema turns each schema into Python code, which keeps both validation and import fast
enough for Lambda handlers on the hot path. Its error names the offending value as
``data.users[0]``; we turn that into a JSON pointer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import cache
from importlib import import_module
from typing import Any, cast

import fastjsonschema

from sumu_contracts.errors import ContractError
from sumu_contracts.registry import load_schema, max_bytes, schema_path

_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\[\"((?:[^\"\\]|\\.)*)\"\]")


_COMPILED_NAMES: set[str] = set()


@cache
def _compiled(name: str) -> Callable[[Any], Any]:
    compiled: Callable[[Any], Any] = _precompiled(name) or fastjsonschema.compile(load_schema(name))
    _COMPILED_NAMES.add(name)
    return compiled


def _precompiled(name: str) -> Callable[[Any], Any] | None:
    """The validator generated ahead of time for this schema, if it is still the schema's own
    (see precompiled/__init__.py); None means compile it now."""
    path = schema_path(name)
    base, _, version = path.name.removesuffix(".schema.json").partition(".v")
    try:
        module = import_module(f"sumu_contracts.precompiled.{base.replace('-', '_')}_v{version}")
    except ImportError:
        return None
    if hashlib.sha256(path.read_bytes()).hexdigest() != module.SCHEMA_SHA256:
        return None
    return cast(Callable[[Any], Any], module.VALIDATE)


def preload(*names: str) -> None:
    """Compile these contracts' validators now (a Lambda's init phase, at import), so the first
    message does not pay for it. Unknown names raise KeyError."""
    for name in names:
        _compiled(name)
        max_bytes(name)


def compiled_contracts() -> frozenset[str]:
    """The contracts whose validators this process has compiled (tests of the init phase)."""
    return frozenset(_COMPILED_NAMES)


def _pointer(dotted_name: str) -> str:
    """``data.users[0]`` -> ``/users/0`` (RFC 6901 escaping of ``~`` and ``/``)."""
    rest = dotted_name[len("data") :] if dotted_name.startswith("data") else dotted_name
    parts = []
    for match in _PATH_PART.finditer(rest):
        token = next(group for group in match.groups() if group is not None)
        parts.append(token.replace("~", "~0").replace("/", "~1"))
    return "".join(f"/{part}" for part in parts)


def _reason(message: str, dotted_name: str) -> str:
    # fastjsonschema prefixes its message with the dotted name; the pointer already says where.
    return message.removeprefix(dotted_name).strip() or message


def validate(name: str, payload: Any, *, serialised_size: int | None = None) -> None:
    """Raise ContractError unless ``payload`` (parsed JSON) is a valid ``name`` message.

    ``name`` is a contract name, optionally with a version (``client-frame.v1``). Contracts that
    declare a size limit are also checked against the payload's serialised size; pass
    ``serialised_size`` when the caller already knows it (the raw frame length).
    """
    try:
        _compiled(name)(payload)
    except fastjsonschema.JsonSchemaValueException as error:
        dotted_name = error.name or "data"
        raise ContractError(
            name, _pointer(dotted_name), _reason(error.message, dotted_name)
        ) from None
    limit = max_bytes(name)
    if limit is not None:
        if serialised_size is None:
            serialised_size = serialised_size_of(payload)
        if serialised_size > limit:
            raise ContractError(name, "", f"is {serialised_size} bytes, over the limit of {limit}")


def serialised_size_of(payload: Any) -> int:
    """UTF-8 bytes of the compact JSON text of ``payload``, as it travels."""
    # What travels is UTF-8 text: ASCII escaping would count one emoji as 12 bytes, not 4.
    # A lone surrogate has no UTF-8 form; it travels as its 6-byte JSON escape, which is
    # exactly what backslashreplace counts.
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8", "backslashreplace"))


def fast_is_valid(name: str, payload: Any) -> bool:
    """fastjsonschema's verdict on the schema alone (no size limit): what the reference
    validator is compared with."""
    try:
        _compiled(name)(payload)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def is_valid(name: str, payload: Any) -> bool:
    try:
        validate(name, payload)
    except ContractError:
        return False
    return True
