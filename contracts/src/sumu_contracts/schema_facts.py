"""What one schema node allows, read without walking two trees: its types, its values, the
target of a $ref, whether oneOf branches can overlap. Used by the structural diff (schema_diff).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Hashable, Iterator
from fractions import Fraction
from typing import Any

from sumu_contracts.schema_change import Effect

ANNOTATIONS = frozenset(
    {"title", "description", "$comment", "examples", "default", "readOnly", "writeOnly", "$id"}
)
# Extension keywords are annotations, except the size limit sumu_contracts.validate enforces.
ASSERTED_EXTENSIONS = frozenset({"x-sumu-max-bytes"})
# The false schema, written the way the walk compares it.
FALSE_SCHEMA: dict[str, Any] = {"not": {}}


def as_object(schema: Any) -> Any:
    """Boolean schemas as objects: true is {}, false is {"not": {}} (the same identity each time)."""
    if schema is True:
        return {}
    if schema is False or schema == FALSE_SCHEMA:
        return FALSE_SCHEMA
    return schema


def is_annotation(keyword: str) -> bool:
    return keyword in ANNOTATIONS or (
        keyword.startswith("x-") and keyword not in ASSERTED_EXTENSIONS
    )


def expanded(schema: Any, root: Any, depth: int = 0) -> Any:
    """A schema with its $refs inlined and annotations dropped, to compare two for equality.

    A recursive schema is cut at depth 16 with a fresh object, so it never compares equal.
    """
    if depth > 16:
        return object()
    if isinstance(schema, dict):
        if "$ref" in schema:
            return expanded(resolve_pointer(root, schema["$ref"]), root, depth + 1)
        return {
            key: expanded(value, root, depth + 1)
            for key, value in schema.items()
            if not is_annotation(key) and key != "definitions"
        }
    if isinstance(schema, list):
        return [expanded(value, root, depth + 1) for value in schema]
    return schema


def json_text(value: Any) -> str:
    """Compare JSON as text: Python's == takes 1 for True, and JSON Schema does not."""
    return json.dumps(value, sort_keys=True, default=lambda cut: f"<cut {id(cut)}>")


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def resolve_pointer(root: Any, reference: Any) -> Any:
    """The target of a local ``$ref`` (``#/definitions/x``); None for anything else."""
    if not isinstance(reference, str) or not reference.startswith("#"):
        return None
    node = root
    pointer = reference[1:]
    if not pointer:
        return node
    if not pointer.startswith("/"):
        return None
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def references(schema: Any) -> set[str]:
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                found.add(node["$ref"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def type_set(schema: Any) -> frozenset[str] | None:
    """The JSON types a schema allows by its ``type`` keyword; None when it has none.

    "number" is split into integer and fraction so that integer -> number reads as a widening.
    """
    schema = as_object(schema)
    if schema is FALSE_SCHEMA:
        return frozenset()
    declared = schema.get("type") if isinstance(schema, dict) else None
    if declared is None:
        return None
    names = [declared] if isinstance(declared, str) else list(declared)
    types: set[str] = set()
    for name in names:
        types |= {"integer", "fraction"} if name == "number" else {name}
    return frozenset(types)


def canonical(value: Any) -> Hashable:
    """A key equal for equal JSON values (1 == 1.0, but true != 1, unlike Python's ==)."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | float):
        # NaN and infinities are not JSON; repr keeps them apart from real numbers.
        return ("number", Fraction(value) if math.isfinite(value) else repr(value))
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(canonical(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, canonical(item)) for key, item in value.items()))
    return ("other", repr(value))


def value_set(schema: dict[str, Any]) -> frozenset[Hashable] | None:
    """The values allowed by enum and const together; None when neither is there."""
    allowed: frozenset[Hashable] | None = None
    if "enum" in schema:
        allowed = frozenset(canonical(value) for value in schema["enum"])
    if "const" in schema:
        const = frozenset({canonical(schema["const"])})
        allowed = const if allowed is None else allowed & const
    return allowed


def set_effect(old: frozenset[Any] | None, new: frozenset[Any] | None) -> Effect:
    """Compare two sets of allowed things, None meaning "anything"."""
    if old == new:
        return Effect.SAME
    if old is None:
        return Effect.NARROWER
    if new is None:
        return Effect.WIDER
    if new >= old:
        return Effect.WIDER
    if new <= old:
        return Effect.NARROWER
    return Effect.INCOMPARABLE


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def multiple_of_effect(before: Any, after: Any) -> Effect:
    if before is None or after is None:
        return Effect.NARROWER if before is None else Effect.WIDER
    if not (is_number(before) and is_number(after)) or before <= 0 or after <= 0:
        return Effect.UNKNOWN
    ratio = Fraction(str(after)) / Fraction(str(before))
    if ratio.denominator == 1:
        return Effect.NARROWER  # every multiple of after is a multiple of before
    if ratio.numerator == 1:
        return Effect.WIDER
    return Effect.INCOMPARABLE


def pattern_matches(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return True  # cannot tell, so assume it applies (the caller then says unknown)


def openness(rest: Any) -> str:
    rest = as_object(rest)
    if rest is FALSE_SCHEMA:
        return "a closed"
    if rest == {}:
        return "an open"
    return "a constrained-extras"


def tuple_form(schema: dict[str, Any]) -> tuple[list[Any], Any]:
    items = schema.get("items", True)
    if isinstance(items, list):
        return items, schema.get("additionalItems", True)
    return [], items


def discriminators(branch: Any, root: Any) -> Iterator[tuple[str, frozenset[Hashable]]]:
    """(property, allowed values) for each required property pinned by const / enum."""
    if not isinstance(branch, dict) or type_set(branch) != frozenset({"object"}):
        return
    properties = branch.get("properties", {})
    for name in branch.get("required", []):
        subschema = properties.get(name)
        for _ in range(32):
            if not (isinstance(subschema, dict) and "$ref" in subschema):
                break
            subschema = resolve_pointer(root, subschema["$ref"])
        if isinstance(subschema, dict):
            values = value_set(subschema)
            if values is not None:
                yield name, values


def resolved(branch: Any, root: Any) -> Any:
    for _ in range(32):
        if not (isinstance(branch, dict) and "$ref" in branch):
            return as_object(branch)
        branch = resolve_pointer(root, branch["$ref"])
    return None


def disjoint(branches: list[Any], root: Any) -> bool:
    """True when no value can match two of the branches (proved by type or a discriminator)."""
    targets = [resolved(branch, root) for branch in branches]
    for index, first in enumerate(targets):
        for second in targets[index + 1 :]:
            if not pair_disjoint(first, second, root):
                return False
    return True


def pair_disjoint(first: Any, second: Any, root: Any) -> bool:
    if first is FALSE_SCHEMA or second is FALSE_SCHEMA:
        return True
    first_types, second_types = type_set(first), type_set(second)
    if first_types is not None and second_types is not None and not first_types & second_types:
        return True
    first_pins = dict(discriminators(first, root))
    for name, values in discriminators(second, root):
        if name in first_pins and not first_pins[name] & values:
            return True
    return False


def branch_key(branch: Any, root: Any) -> Hashable | None:
    pins = sorted(discriminators(resolved(branch, root), root), key=lambda pin: pin[0])
    return tuple(pins) if pins else None


def pair_branches(
    old: list[Any], new: list[Any], old_root: Any, new_root: Any
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Match old branches to new ones: identical first, then by discriminator, then in order."""
    pairs: list[tuple[int, int]] = []
    old_left, new_left = list(range(len(old))), list(range(len(new)))

    def take(matches: Any) -> None:
        for old_index in list(old_left):
            for new_index in new_left:
                if matches(old_index, new_index):
                    pairs.append((old_index, new_index))
                    old_left.remove(old_index)
                    new_left.remove(new_index)
                    break

    def same_text(old_index: int, new_index: int) -> bool:
        return canonical(old[old_index]) == canonical(new[new_index])

    def same_key(old_index: int, new_index: int) -> bool:
        key = branch_key(old[old_index], old_root)
        return key is not None and key == branch_key(new[new_index], new_root)

    take(same_text)
    take(same_key)
    if len(old_left) == len(new_left):
        pairs.extend(zip(old_left, new_left, strict=True))
        old_left, new_left = [], []
    return sorted(pairs), old_left, new_left


def show(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False)


def value_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    before, after = listed_values(old), listed_values(new)
    if before is None or after is None:
        shown = "any" if before is None else show(list(before.values()))
        return f"allowed values {shown} -> {'any' if after is None else show(list(after.values()))}"
    added = [value for key, value in after.items() if key not in before]
    removed = [value for key, value in before.items() if key not in after]
    parts = [
        f"added {show(added)}" if added else "",
        f"removed {show(removed)}" if removed else "",
    ]
    return "allowed values: " + ", ".join(part for part in parts if part)


def listed_values(schema: dict[str, Any]) -> dict[Hashable, Any] | None:
    allowed = value_set(schema)
    if allowed is None:
        return None
    listed = [schema["const"]] if "const" in schema else schema.get("enum", [])
    return {canonical(value): value for value in listed if canonical(value) in allowed}
