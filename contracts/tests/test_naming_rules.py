"""The naming and shape rules every schema file follows, as tests (sentry-kafka-schemas' habit)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from sumu_contracts import CONTRACT_NAMES
from sumu_contracts.evolution import SCHEMA_FILE
from sumu_contracts.registry import SCHEMA_DIR, registry

SCHEMA_FILES = sorted(SCHEMA_DIR.glob("*.schema.json"))
CONTRACTS: dict[str, Any] = registry()["contracts"]


def schema_of(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def object_schemas(schema: Any) -> Iterator[dict[str, Any]]:
    """Every subschema that describes an object (by type or by listing properties)."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            yield schema
        for value in schema.values():
            yield from object_schemas(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from object_schemas(value)


def references(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        if "$ref" in schema:
            yield schema["$ref"]
        for value in schema.values():
            yield from references(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from references(value)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda path: path.name)
def test_schema_file_is_named_id_ed_and_described(path: Path) -> None:
    match = SCHEMA_FILE.match(path.name)
    assert match, f"{path.name} is not <name>.v<major>.schema.json"
    schema = schema_of(path)
    assert schema["$id"] == f"urn:sumu:contract:{match['name']}:v{match['major']}"
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema.get("title", "").strip()
    assert schema.get("description", "").strip()
    Draft7Validator.check_schema(schema)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda path: path.name)
def test_schema_refers_only_to_itself(path: Path) -> None:
    # Local $refs keep each file readable alone, by any language, and let check-compat follow them.
    assert all(reference.startswith("#/") for reference in references(schema_of(path)))


def test_registry_and_files_match() -> None:
    listed = {
        f"{name}.v{version}.schema.json"
        for name, entry in CONTRACTS.items()
        for version in entry["versions"]
    }
    assert listed == {path.name for path in SCHEMA_FILES}
    assert set(CONTRACTS) == set(CONTRACT_NAMES)


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_registry_entry_is_complete(name: str) -> None:
    entry = CONTRACTS[name]
    assert entry["direction"] in {"inbound", "outbound"}
    # STYLE.md: inbound messages are read by SUMU (new reader, old writers: BACKWARD); outbound
    # ones are read by others that upgrade on their own schedule (FULL).
    assert entry["compatibility"] == {"inbound": "BACKWARD", "outbound": "FULL"}[entry["direction"]]
    assert entry["producers"]
    assert entry["consumers"]
    assert (SCHEMA_DIR / f"{name}.v{max(entry['versions'])}.examples.json").is_file()


def schemas_of(direction: str) -> list[Any]:
    return [
        pytest.param(
            schema_of(SCHEMA_DIR / f"{name}.v{version}.schema.json"), id=f"{name}.v{version}"
        )
        for name, entry in CONTRACTS.items()
        if entry["direction"] == direction
        for version in entry["versions"]
    ]


@pytest.mark.parametrize("schema", schemas_of("inbound"))
def test_inbound_objects_are_closed(schema: Any) -> None:
    objects = list(object_schemas(schema))
    assert objects
    assert all(subschema.get("additionalProperties") is False for subschema in objects)


@pytest.mark.parametrize("schema", schemas_of("outbound"))
def test_outbound_objects_are_open(schema: Any) -> None:
    assert all(
        subschema.get("additionalProperties") is not False for subschema in object_schemas(schema)
    )


def test_no_stray_files_in_the_schema_folder() -> None:
    allowed = re.compile(r"^(registry\.json|.+\.v[1-9][0-9]*\.(schema|examples)\.json)$")
    assert all(allowed.match(path.name) for path in SCHEMA_DIR.iterdir() if path.is_file())
