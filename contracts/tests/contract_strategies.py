"""Generation helpers shared by the property tests: a narrower schema to generate from.

hypothesis-jsonschema spends seconds on deep random JSON where a contract allows any value
(data, message, body), so those members are generated as small JSON values instead.
"""

from __future__ import annotations

from typing import Any

SCALAR: dict[str, Any] = {
    "type": ["null", "boolean", "integer", "number", "string"],
    "maxLength": 8,
}
BOUNDED_JSON: dict[str, Any] = {
    "anyOf": [
        SCALAR,
        {"type": "array", "maxItems": 3, "items": SCALAR},
        {
            "type": "object",
            "maxProperties": 3,
            "propertyNames": {"maxLength": 5},
            "additionalProperties": SCALAR,
        },
    ]
}
_ANNOTATIONS = {"title", "description", "$comment", "examples", "default"}
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "definitions")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
# Positions where a narrower subschema narrows the whole. Not "not" (it flips) nor "if" (it
# decides which branch applies); oneOf only because every oneOf in the contracts has disjoint
# branches, where it is anyOf. Each test also validates what it draws against the real schema.
_SUBSCHEMAS = (
    "additionalProperties",
    "additionalItems",
    "then",
    "else",
    "contains",
    "propertyNames",
)


def bounded(schema: Any) -> Any:
    """A narrower schema to generate from: every message it allows, the original allows too.

    Free-form members ({}: any JSON) become small JSON values, and open objects get small extra
    members, so hypothesis-jsonschema does not spend seconds on deep random JSON.
    """
    if not isinstance(schema, dict):
        return schema
    if set(schema) <= _ANNOTATIONS:
        return BOUNDED_JSON
    narrowed = dict(schema)
    for keyword in _SUBSCHEMA_MAPS:
        if keyword in schema:
            narrowed[keyword] = {name: bounded(sub) for name, sub in schema[keyword].items()}
    for keyword in _SUBSCHEMA_LISTS:
        if keyword in schema:
            narrowed[keyword] = [bounded(sub) for sub in schema[keyword]]
    for keyword in _SUBSCHEMAS:
        if keyword in schema:
            narrowed[keyword] = bounded(schema[keyword])
    if "items" in schema:
        items = schema["items"]
        narrowed["items"] = (
            [bounded(sub) for sub in items] if isinstance(items, list) else bounded(items)
        )
    if schema.get("type") == "object" or "properties" in schema:
        narrowed.setdefault("additionalProperties", SCALAR)
        narrowed.setdefault("maxProperties", len(schema.get("properties", {})) + 2)
    return narrowed
