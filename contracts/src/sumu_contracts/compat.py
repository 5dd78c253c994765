"""Compatibility rules: a structural diff of two JSON Schemas (draft-07) and Confluent's modes.

``diff_schemas(old, new)`` walks both schema trees at once and returns every change it finds with
its effect on the set of messages the schema accepts:

- ``SAME``: no effect (annotations such as title, description, $comment, examples, x-*; a
  reference to an identical definition).
- ``WIDER``: the new schema accepts everything the old one did, and maybe more.
- ``NARROWER``: the new schema accepts a subset of what the old one did.
- ``INCOMPARABLE``: it accepts some messages the old one rejected and rejects some it accepted.
- ``UNKNOWN``: no rule here can tell (a changed regex, a changed ``if``, overlapping ``oneOf``
  branches, an unfamiliar keyword). The gate fails on these: it only passes what it can prove.

An effect is a safe bound, never a guess: WIDER may be reported where the sets are in fact equal,
never where the new schema rejects something the old one accepted. Keywords of one schema are a
conjunction, so judging each change on its own is sound: a change is breaking in a mode if its own
effect is.

``judge(change, mode)`` applies the registry's mode (Confluent's names,
https://docs.confluent.io/platform/current/schema-registry/fundamentals/schema-evolution.html):
BACKWARD means the new reader accepts everything an old writer could send (no NARROWER);
FORWARD is BACKWARD with reader and writer swapped: old readers accept everything the new writer
sends (no WIDER); FULL is both, so only SAME passes. That is why adding a property to an *open*
object breaks FULL: the old schema let a writer put any value under that name, the new one
constrains it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum
from fractions import Fraction
from typing import Any, Literal

Mode = Literal["BACKWARD", "FORWARD", "FULL", "NONE"]
MODES: tuple[Mode, ...] = ("BACKWARD", "FORWARD", "FULL", "NONE")


class Effect(Enum):
    SAME = "same"
    WIDER = "wider"
    NARROWER = "narrower"
    INCOMPARABLE = "incomparable"
    UNKNOWN = "unknown"

    def flipped(self) -> Effect:
        """The effect seen through ``not``: accepting more there means accepting less overall."""
        if self is Effect.WIDER:
            return Effect.NARROWER
        if self is Effect.NARROWER:
            return Effect.WIDER
        return self

    def join(self, other: Effect) -> Effect:
        """The effect of two changes together."""
        if Effect.UNKNOWN in (self, other):
            return Effect.UNKNOWN
        if self is other or other is Effect.SAME:
            return self
        if self is Effect.SAME:
            return other
        return Effect.INCOMPARABLE


class Verdict(Enum):
    COMPATIBLE = "compatible"
    BREAKING = "breaking"
    UNCLASSIFIED = "cannot classify"


@dataclass(frozen=True)
class Change:
    """One difference between the old and the new schema.

    ``location`` is a JSON pointer into the new schema (into the old one for what was removed),
    written as a URI fragment like a ``$ref``: ``#/properties/users``.
    """

    location: str
    description: str
    effect: Effect


@dataclass(frozen=True)
class Judgement:
    change: Change
    verdict: Verdict
    reason: str


_ACCEPTS_LESS = "the new schema rejects some messages the old one accepted"
_ACCEPTS_MORE = "the new schema accepts messages the old one rejected"


def judge(change: Change, mode: Mode) -> Judgement:
    effect = change.effect
    if effect is Effect.UNKNOWN:
        return Judgement(change, Verdict.UNCLASSIFIED, "no rule can tell what this change does")
    if mode == "NONE" or effect is Effect.SAME:
        return Judgement(change, Verdict.COMPATIBLE, "no reader is affected")
    backward_broken = effect in (Effect.NARROWER, Effect.INCOMPARABLE)
    forward_broken = effect in (Effect.WIDER, Effect.INCOMPARABLE)
    if mode in ("BACKWARD", "FULL") and backward_broken:
        return Judgement(
            change, Verdict.BREAKING, f"{_ACCEPTS_LESS}: a new reader fails on an old writer's"
        )
    if mode in ("FORWARD", "FULL") and forward_broken:
        return Judgement(
            change, Verdict.BREAKING, f"{_ACCEPTS_MORE}: old readers fail on the new writer's"
        )
    if effect is Effect.WIDER:
        return Judgement(change, Verdict.COMPATIBLE, "accepts more; allowed by " + mode)
    return Judgement(change, Verdict.COMPATIBLE, "accepts less; allowed by " + mode)


def parse_mode(text: str) -> Mode:
    """A registry compatibility mode; Confluent's *_TRANSITIVE modes check the same here because
    each major version has exactly one schema file, so there is only ever one previous schema."""
    base = text.upper().removesuffix("_TRANSITIVE")
    for mode in MODES:
        if mode == base:
            return mode
    raise ValueError(f"unknown compatibility mode {text!r}; known: {', '.join(MODES)}")


def stricter(first: Mode, second: Mode) -> Mode:
    """The mode that checks both directions either one checks (a change cannot loosen its own gate)."""
    directions = _DIRECTIONS[first] | _DIRECTIONS[second]
    for mode, checked in _DIRECTIONS.items():
        if checked == directions:
            return mode
    raise AssertionError(directions)  # pragma: no cover - the table covers every union


_DIRECTIONS: dict[Mode, frozenset[str]] = {
    "NONE": frozenset(),
    "BACKWARD": frozenset({"backward"}),
    "FORWARD": frozenset({"forward"}),
    "FULL": frozenset({"backward", "forward"}),
}


def diff_schemas(old: Any, new: Any) -> list[Change]:
    """Every change between two schemas (parsed JSON), each with its effect."""
    walk = _Walk(old, new)
    walk.node(old, new, "#", positive=True)
    return walk.changes


# --- the walk ---------------------------------------------------------------------------------

_ANNOTATIONS = frozenset(
    {"title", "description", "$comment", "examples", "default", "readOnly", "writeOnly", "$id"}
)
# Extension keywords are annotations, except the size limit sumu_contracts.validate enforces.
_ASSERTED_EXTENSIONS = frozenset({"x-sumu-max-bytes"})
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = (
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
    "x-sumu-max-bytes",
)
# Keywords whose value is opaque to these rules: adding one restricts, removing one relaxes,
# changing one is unknown (regexes) or incomparable (two different formats).
_OPAQUE_ON_CHANGE: dict[str, Effect] = {
    "pattern": Effect.UNKNOWN,
    "format": Effect.INCOMPARABLE,
    "contentMediaType": Effect.INCOMPARABLE,
    "contentEncoding": Effect.INCOMPARABLE,
}
_HANDLED = frozenset(
    {
        "$ref",
        "$schema",
        "type",
        "enum",
        "const",
        "multipleOf",
        "uniqueItems",
        "required",
        "properties",
        "patternProperties",
        "additionalProperties",
        "propertyNames",
        "dependencies",
        "items",
        "additionalItems",
        "contains",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "definitions",
        *_LOWER_BOUNDS,
        *_UPPER_BOUNDS,
        *_OPAQUE_ON_CHANGE,
    }
)
_ALL_TYPES = frozenset({"null", "boolean", "object", "array", "string", "integer", "fraction"})
_FALSE: dict[str, Any] = {"not": {}}


@dataclass
class _Walk:
    old_root: Any
    new_root: Any
    changes: list[Change] = field(default_factory=list)
    _visited: set[tuple[str, str, bool]] = field(default_factory=set)

    # -- reporting

    def report(self, location: str, description: str, effect: Effect, *, positive: bool) -> None:
        self.changes.append(Change(location, description, effect if positive else effect.flipped()))

    def summarised(
        self, old: Any, new: Any, location: str, description: str, *, positive: bool
    ) -> None:
        """Compare two subschemas and report the result as the single change ``description``."""
        outer = self.changes
        self.changes = []
        try:
            self.node(old, new, location, positive=positive)
            inner = self.changes
        finally:
            self.changes = outer
        effect = Effect.SAME
        for change in inner:
            effect = effect.join(change.effect)
        details = "; ".join(
            change.description for change in inner if change.effect is not Effect.SAME
        )
        self.changes.append(
            Change(location, f"{description} ({details})" if details else description, effect)
        )

    # -- schemas

    def node(self, old: Any, new: Any, location: str, *, positive: bool) -> None:
        old, old_ref = self._resolve(old, self.old_root)
        new, new_ref = self._resolve(new, self.new_root)
        if old is None or new is None:
            # A remote or broken $ref: its target is outside this diff. Unchanged, it is the
            # same text; changed, nothing here can say what it now points to.
            if old_ref != new_ref or old is not new:
                self.report(
                    location, "a $ref this diff cannot resolve", Effect.UNKNOWN, positive=True
                )
            return
        if old_ref or new_ref:
            key = (old_ref or f"inline:{location}", new_ref or f"inline:{location}", positive)
            if key in self._visited:
                return  # already compared (or being compared, for a recursive schema)
            self._visited.add(key)
            if old_ref != new_ref:
                self.report(
                    location,
                    f"reference {old_ref or 'inline schema'} -> {new_ref or 'inline schema'}, "
                    "compared by content",
                    Effect.SAME,
                    positive=True,
                )
            location = new_ref or location
        old, new = _as_object(old), _as_object(new)
        if _json_text(old) == _json_text(new) and not _references(old):
            return  # identical, and no $ref inside that could lead to a changed definition
        if old is _FALSE or new is _FALSE:
            effect = Effect.WIDER if old is _FALSE else Effect.NARROWER
            state = "nothing was allowed here" if old is _FALSE else "nothing is allowed here now"
            self.report(location, state, effect, positive=positive)
            return
        self._keywords(old, new, location, positive=positive)

    def _resolve(self, schema: Any, root: Any) -> tuple[Any, str | None]:
        reference = None
        for _ in range(32):  # a chain of $ref to $ref; bounded so a cycle cannot hang us
            if not (isinstance(schema, dict) and "$ref" in schema):
                return schema, reference
            # draft-07: keywords beside $ref are ignored (fastjsonschema agrees).
            reference = schema["$ref"]
            schema = _resolve_pointer(root, reference)
            if schema is None:
                return None, reference
        return None, reference

    def _keywords(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        self._annotations(old, new, location)
        self._types(old, new, location, positive=positive)
        self._values(old, new, location, positive=positive)
        self._bounds(old, new, location, positive=positive)
        self._opaque(old, new, location, positive=positive)
        self._required(old, new, location, positive=positive)
        self._object_shape(old, new, location, positive=positive)
        self._dependencies(old, new, location, positive=positive)
        self._array_shape(old, new, location, positive=positive)
        self._optional_subschema("propertyNames", old, new, location, positive=positive)
        self._optional_subschema("contains", old, new, location, positive=positive)
        self._branches("allOf", old, new, location, positive=positive)
        self._branches("anyOf", old, new, location, positive=positive)
        self._branches("oneOf", old, new, location, positive=positive)
        self._negation(old, new, location, positive=positive)
        self._conditional(old, new, location, positive=positive)
        self._definitions(old, new, location)
        for keyword in sorted((old.keys() | new.keys()) - _HANDLED):
            if _is_annotation(keyword) or _json_text(old.get(keyword)) == _json_text(
                new.get(keyword)
            ):
                continue
            self.report(
                f"{location}/{_escape(keyword)}",
                f"keyword {keyword} changed and no rule covers it",
                Effect.UNKNOWN,
                positive=True,
            )

    def _annotations(self, old: dict[str, Any], new: dict[str, Any], location: str) -> None:
        for keyword in sorted(old.keys() | new.keys()):
            if _is_annotation(keyword) and old.get(keyword) != new.get(keyword):
                self.report(
                    f"{location}/{_escape(keyword)}",
                    f"annotation {keyword} changed",
                    Effect.SAME,
                    positive=True,
                )
        if old.get("$schema") != new.get("$schema"):
            self.report(
                f"{location}/$schema",
                f"$schema changed to {new.get('$schema')!r}: another draft means other rules",
                Effect.UNKNOWN,
                positive=True,
            )

    def _types(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        if old.get("type") == new.get("type"):
            return
        self.report(
            f"{location}/type",
            f"type {_show(old.get('type', 'any'))} -> {_show(new.get('type', 'any'))}",
            _set_effect(_type_set(old), _type_set(new)),
            positive=positive,
        )

    def _values(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        if _json_text([old.get("enum"), old.get("const")]) == _json_text(
            [new.get("enum"), new.get("const")]
        ):
            return
        self.report(
            f"{location}/{'const' if 'const' in new else 'enum'}",
            _value_change(old, new),
            _set_effect(_value_set(old), _value_set(new)),
            positive=positive,
        )

    def _bounds(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        for keyword in (*_LOWER_BOUNDS, *_UPPER_BOUNDS):
            before, after = old.get(keyword), new.get(keyword)
            if _json_text(before) == _json_text(after):
                continue
            lower = keyword in _LOWER_BOUNDS
            where = f"{location}/{keyword}"
            if not all(value is None or _is_number(value) for value in (before, after)):
                self.report(where, f"{keyword} is not a number", Effect.UNKNOWN, positive=True)
                continue
            if before is None or after is None:
                effect = Effect.NARROWER if before is None else Effect.WIDER
            else:
                raised = after > before
                effect = Effect.NARROWER if raised == lower else Effect.WIDER
            self.report(
                where, f"{keyword} {_show(before)} -> {_show(after)}", effect, positive=positive
            )
        before, after = old.get("multipleOf"), new.get("multipleOf")
        if before != after:
            self.report(
                f"{location}/multipleOf",
                f"multipleOf {_show(before)} -> {_show(after)}",
                _multiple_of_effect(before, after),
                positive=positive,
            )
        if bool(old.get("uniqueItems")) != bool(new.get("uniqueItems")):
            effect = Effect.NARROWER if new.get("uniqueItems") else Effect.WIDER
            self.report(f"{location}/uniqueItems", "uniqueItems changed", effect, positive=positive)

    def _opaque(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        for keyword, on_change in _OPAQUE_ON_CHANGE.items():
            before, after = old.get(keyword), new.get(keyword)
            if _json_text(before) == _json_text(after):
                continue
            if before is None or after is None:
                effect = Effect.NARROWER if before is None else Effect.WIDER
            else:
                effect = on_change
            self.report(
                f"{location}/{keyword}",
                f"{keyword} {_show(before)} -> {_show(after)}",
                effect,
                positive=positive,
            )

    def _required(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        before, after = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(after - before):
            self.report(
                f"{location}/required",
                f"property {name!r} is now required",
                Effect.NARROWER,
                positive=positive,
            )
        for name in sorted(before - after):
            self.report(
                f"{location}/required",
                f"property {name!r} is no longer required",
                Effect.WIDER,
                positive=positive,
            )

    def _object_shape(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        # properties, patternProperties and additionalProperties decide together which schema
        # applies to a member name, so they are compared as one unit: a name only one side
        # declares is compared with what the other side applies to undeclared names.
        old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
        old_patterns, new_patterns = (
            old.get("patternProperties", {}),
            new.get("patternProperties", {}),
        )
        old_rest = old.get("additionalProperties", True)
        new_rest = new.get("additionalProperties", True)
        if old_patterns.keys() != new_patterns.keys():
            self.report(
                f"{location}/patternProperties",
                "patternProperties patterns changed",
                Effect.UNKNOWN,
                positive=True,
            )
        else:
            for pattern in sorted(new_patterns):
                self.node(
                    old_patterns[pattern],
                    new_patterns[pattern],
                    f"{location}/patternProperties/{_escape(pattern)}",
                    positive=positive,
                )
        patterns = [*old_patterns, *new_patterns]
        for name in sorted(old_properties.keys() | new_properties.keys()):
            where = f"{location}/properties/{_escape(name)}"
            if name in old_properties and name in new_properties:
                self.node(old_properties[name], new_properties[name], where, positive=positive)
                continue
            if any(_pattern_matches(pattern, name) for pattern in patterns):
                self.report(
                    where,
                    f"property {name!r} added or removed where a patternProperties entry applies",
                    Effect.UNKNOWN,
                    positive=True,
                )
            elif name in new_properties:
                self.summarised(
                    old_rest,
                    new_properties[name],
                    where,
                    f"property {name!r} added to {_openness(old_rest)} object",
                    positive=positive,
                )
            else:
                self.summarised(
                    old_properties[name],
                    new_rest,
                    where,
                    f"property {name!r} removed from {_openness(new_rest)} object",
                    positive=positive,
                )
        where = f"{location}/additionalProperties"
        if _json_text(_as_object(old_rest)) != _json_text(_as_object(new_rest)):
            self.summarised(
                old_rest,
                new_rest,
                where,
                f"additionalProperties: {_openness(old_rest)} -> {_openness(new_rest)} object",
                positive=positive,
            )
        else:  # the same text may still $ref a definition that changed
            self.node(old_rest, new_rest, where, positive=positive)

    def _dependencies(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        before, after = old.get("dependencies", {}), new.get("dependencies", {})
        for name in sorted(before.keys() | after.keys()):
            where = f"{location}/dependencies/{_escape(name)}"
            old_dependency, new_dependency = before.get(name), after.get(name)
            if old_dependency is None or new_dependency is None:
                effect = Effect.NARROWER if old_dependency is None else Effect.WIDER
                self.report(where, f"dependency of {name!r} changed", effect, positive=positive)
            elif isinstance(old_dependency, list) and isinstance(new_dependency, list):
                before_names, after_names = set(old_dependency), set(new_dependency)
                if before_names == after_names:
                    continue
                # More properties demanded alongside name: fewer objects pass.
                if after_names > before_names:
                    effect = Effect.NARROWER
                elif after_names < before_names:
                    effect = Effect.WIDER
                else:
                    effect = Effect.INCOMPARABLE
                self.report(
                    where,
                    f"properties required with {name!r}: {_show(sorted(before_names))} -> "
                    f"{_show(sorted(after_names))}",
                    effect,
                    positive=positive,
                )
            elif not isinstance(old_dependency, list) and not isinstance(new_dependency, list):
                self.node(old_dependency, new_dependency, where, positive=positive)
            else:
                self.report(where, "dependency form changed", Effect.UNKNOWN, positive=True)

    def _array_shape(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        # items as one schema is the tuple form with no prefix: [] then items for the rest.
        old_prefix, old_rest = _tuple_form(old)
        new_prefix, new_rest = _tuple_form(new)
        for index in range(max(len(old_prefix), len(new_prefix))):
            where = f"{location}/items/{index}"
            if index < len(old_prefix) and index < len(new_prefix):
                self.node(old_prefix[index], new_prefix[index], where, positive=positive)
            elif index < len(new_prefix):
                self.summarised(
                    old_rest,
                    new_prefix[index],
                    where,
                    f"tuple item {index} added",
                    positive=positive,
                )
            else:
                self.summarised(
                    old_prefix[index],
                    new_rest,
                    where,
                    f"tuple item {index} removed",
                    positive=positive,
                )
        rest = "additionalItems" if isinstance(new.get("items"), list) else "items"
        self.node(old_rest, new_rest, f"{location}/{rest}", positive=positive)

    def _optional_subschema(
        self,
        keyword: str,
        old: dict[str, Any],
        new: dict[str, Any],
        location: str,
        *,
        positive: bool,
    ) -> None:
        # Absent means no constraint, the same as {} (contains: {} needs one item, a real change).
        if keyword not in old and keyword not in new:
            return
        where = f"{location}/{keyword}"
        if keyword == "contains" and (keyword not in old or keyword not in new):
            effect = Effect.NARROWER if keyword not in old else Effect.WIDER
            self.report(
                where,
                f"{keyword} {'added' if keyword in new else 'removed'}",
                effect,
                positive=positive,
            )
            return
        self.node(old.get(keyword, True), new.get(keyword, True), where, positive=positive)

    def _branches(
        self,
        keyword: str,
        old: dict[str, Any],
        new: dict[str, Any],
        location: str,
        *,
        positive: bool,
    ) -> None:
        if keyword not in old and keyword not in new:
            return
        where = f"{location}/{keyword}"
        if keyword not in old or keyword not in new:
            # Adding any combinator adds a conjunct: it can only restrict.
            effect = Effect.NARROWER if keyword not in old else Effect.WIDER
            state = "added" if keyword in new else "removed"
            self.report(where, f"{keyword} {state}", effect, positive=positive)
            return
        old_branches, new_branches = old[keyword], new[keyword]
        # oneOf is anyOf when no message can match two branches; otherwise widening one branch
        # can make a message match two and be rejected, so its changes cannot be classified.
        union = keyword == "anyOf" or (
            keyword == "oneOf"
            and _disjoint(old_branches, self.old_root)
            and _disjoint(new_branches, self.new_root)
        )
        outer = self.changes
        self.changes = []
        try:
            pairs, removed, added = _pair_branches(
                old_branches, new_branches, self.old_root, self.new_root
            )
            for old_index, new_index in pairs:
                self.node(
                    old_branches[old_index],
                    new_branches[new_index],
                    f"{where}/{new_index}",
                    positive=positive,
                )
            # A union widens with a branch added; an intersection (allOf) narrows.
            grows = Effect.WIDER if keyword != "allOf" else Effect.NARROWER
            for index in removed:
                self.report(
                    f"{where}/{index}",
                    f"{keyword} branch {index} removed",
                    grows.flipped(),
                    positive=positive,
                )
            for index in added:
                self.report(
                    f"{where}/{index}", f"{keyword} branch {index} added", grows, positive=positive
                )
            inner = self.changes
        finally:
            self.changes = outer
        for change in inner:
            overlapping = keyword == "oneOf" and not union and change.effect is not Effect.SAME
            self.changes.append(
                replace(
                    change,
                    description=f"{change.description}, under a oneOf whose branches may overlap",
                    effect=Effect.UNKNOWN,
                )
                if overlapping
                else change
            )

    def _negation(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        if "not" not in old and "not" not in new:
            return
        if "not" in old and "not" in new:
            self.node(old["not"], new["not"], f"{location}/not", positive=not positive)
            return
        effect = Effect.NARROWER if "not" in new else Effect.WIDER
        self.report(
            f"{location}/not",
            "not added" if "not" in new else "not removed",
            effect,
            positive=positive,
        )

    def _conditional(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        # then / else without if are no-ops in draft-07.
        if "if" not in old and "if" not in new:
            return
        if "if" not in old or "if" not in new:
            effect = Effect.NARROWER if "if" not in old else Effect.WIDER
            self.report(
                f"{location}/if",
                "if / then / else " + ("added" if "if" in new else "removed"),
                effect,
                positive=positive,
            )
            return
        if _json_text(_expanded(old["if"], self.old_root)) != _json_text(
            _expanded(new["if"], self.new_root)
        ):
            self.report(f"{location}/if", "the if condition changed", Effect.UNKNOWN, positive=True)
            return
        for keyword in ("then", "else"):
            self.node(
                old.get(keyword, True),
                new.get(keyword, True),
                f"{location}/{keyword}",
                positive=positive,
            )

    def _definitions(self, old: dict[str, Any], new: dict[str, Any], location: str) -> None:
        # Definitions matter only through $ref, which the walk follows at each use; what is left
        # here is bookkeeping: added, removed or unreferenced definitions have no effect.
        before, after = old.get("definitions", {}), new.get("definitions", {})
        referenced = _references(self.old_root) | _references(self.new_root)
        for name in sorted(before.keys() | after.keys()):
            where = f"{location}/definitions/{_escape(name)}"
            if name not in before or name not in after:
                state = "added" if name in after else "removed"
                self.report(where, f"definition {name!r} {state}", Effect.SAME, positive=True)
            elif before[name] != after[name] and where not in referenced:
                self.report(
                    where, f"definition {name!r} changed, unreferenced", Effect.SAME, positive=True
                )


# --- small pure helpers -----------------------------------------------------------------------


def _as_object(schema: Any) -> Any:
    """Boolean schemas as objects: true is {}, false is {"not": {}} (the same identity each time)."""
    if schema is True:
        return {}
    if schema is False or schema == _FALSE:
        return _FALSE
    return schema


def _is_annotation(keyword: str) -> bool:
    return keyword in _ANNOTATIONS or (
        keyword.startswith("x-") and keyword not in _ASSERTED_EXTENSIONS
    )


def _expanded(schema: Any, root: Any, depth: int = 0) -> Any:
    """A schema with its $refs inlined and annotations dropped, to compare two for equality.

    A recursive schema is cut at depth 16 with a fresh object, so it never compares equal.
    """
    if depth > 16:
        return object()
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _expanded(_resolve_pointer(root, schema["$ref"]), root, depth + 1)
        return {
            key: _expanded(value, root, depth + 1)
            for key, value in schema.items()
            if not _is_annotation(key) and key != "definitions"
        }
    if isinstance(schema, list):
        return [_expanded(value, root, depth + 1) for value in schema]
    return schema


def _json_text(value: Any) -> str:
    """Compare JSON as text: Python's == takes 1 for True, and JSON Schema does not."""
    return json.dumps(value, sort_keys=True, default=lambda cut: f"<cut {id(cut)}>")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _resolve_pointer(root: Any, reference: Any) -> Any:
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


def _references(schema: Any) -> set[str]:
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


def _type_set(schema: Any) -> frozenset[str] | None:
    """The JSON types a schema allows by its ``type`` keyword; None when it has none.

    "number" is split into integer and fraction so that integer -> number reads as a widening.
    """
    schema = _as_object(schema)
    if schema is _FALSE:
        return frozenset()
    declared = schema.get("type") if isinstance(schema, dict) else None
    if declared is None:
        return None
    names = [declared] if isinstance(declared, str) else list(declared)
    types: set[str] = set()
    for name in names:
        types |= {"integer", "fraction"} if name == "number" else {name}
    return frozenset(types)


def _canonical(value: Any) -> Hashable:
    """A key equal for equal JSON values (1 == 1.0, but true != 1, unlike Python's ==)."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | float):
        # NaN and infinities are not JSON; repr keeps them apart from real numbers.
        return ("number", Fraction(value) if math.isfinite(value) else repr(value))
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, _canonical(item)) for key, item in value.items()))
    return ("other", repr(value))


def _value_set(schema: dict[str, Any]) -> frozenset[Hashable] | None:
    """The values allowed by enum and const together; None when neither is there."""
    allowed: frozenset[Hashable] | None = None
    if "enum" in schema:
        allowed = frozenset(_canonical(value) for value in schema["enum"])
    if "const" in schema:
        const = frozenset({_canonical(schema["const"])})
        allowed = const if allowed is None else allowed & const
    return allowed


def _set_effect(old: frozenset[Any] | None, new: frozenset[Any] | None) -> Effect:
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


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _multiple_of_effect(before: Any, after: Any) -> Effect:
    if before is None or after is None:
        return Effect.NARROWER if before is None else Effect.WIDER
    if not (_is_number(before) and _is_number(after)) or before <= 0 or after <= 0:
        return Effect.UNKNOWN
    ratio = Fraction(str(after)) / Fraction(str(before))
    if ratio.denominator == 1:
        return Effect.NARROWER  # every multiple of after is a multiple of before
    if ratio.numerator == 1:
        return Effect.WIDER
    return Effect.INCOMPARABLE


def _pattern_matches(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return True  # cannot tell, so assume it applies (the caller then says unknown)


def _openness(rest: Any) -> str:
    rest = _as_object(rest)
    if rest is _FALSE:
        return "a closed"
    if rest == {}:
        return "an open"
    return "a constrained-extras"


def _tuple_form(schema: dict[str, Any]) -> tuple[list[Any], Any]:
    items = schema.get("items", True)
    if isinstance(items, list):
        return items, schema.get("additionalItems", True)
    return [], items


def _discriminators(branch: Any, root: Any) -> Iterator[tuple[str, frozenset[Hashable]]]:
    """(property, allowed values) for each required property pinned by const / enum."""
    if not isinstance(branch, dict) or _type_set(branch) != frozenset({"object"}):
        return
    properties = branch.get("properties", {})
    for name in branch.get("required", []):
        subschema = properties.get(name)
        for _ in range(32):
            if not (isinstance(subschema, dict) and "$ref" in subschema):
                break
            subschema = _resolve_pointer(root, subschema["$ref"])
        if isinstance(subschema, dict):
            values = _value_set(subschema)
            if values is not None:
                yield name, values


def _resolved(branch: Any, root: Any) -> Any:
    for _ in range(32):
        if not (isinstance(branch, dict) and "$ref" in branch):
            return _as_object(branch)
        branch = _resolve_pointer(root, branch["$ref"])
    return None


def _disjoint(branches: list[Any], root: Any) -> bool:
    """True when no value can match two of the branches (proved by type or a discriminator)."""
    resolved = [_resolved(branch, root) for branch in branches]
    for index, first in enumerate(resolved):
        for second in resolved[index + 1 :]:
            if not _pair_disjoint(first, second, root):
                return False
    return True


def _pair_disjoint(first: Any, second: Any, root: Any) -> bool:
    if first is _FALSE or second is _FALSE:
        return True
    first_types, second_types = _type_set(first), _type_set(second)
    if first_types is not None and second_types is not None and not first_types & second_types:
        return True
    first_pins = dict(_discriminators(first, root))
    for name, values in _discriminators(second, root):
        if name in first_pins and not first_pins[name] & values:
            return True
    return False


def _branch_key(branch: Any, root: Any) -> Hashable | None:
    pins = sorted(_discriminators(_resolved(branch, root), root), key=lambda pin: pin[0])
    return tuple(pins) if pins else None


def _pair_branches(
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
        return _canonical(old[old_index]) == _canonical(new[new_index])

    def same_key(old_index: int, new_index: int) -> bool:
        key = _branch_key(old[old_index], old_root)
        return key is not None and key == _branch_key(new[new_index], new_root)

    take(same_text)
    take(same_key)
    if len(old_left) == len(new_left):
        pairs.extend(zip(old_left, new_left, strict=True))
        old_left, new_left = [], []
    return sorted(pairs), old_left, new_left


def _show(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False)


def _value_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    before, after = _listed_values(old), _listed_values(new)
    if before is None or after is None:
        shown = "any" if before is None else _show(list(before.values()))
        return (
            f"allowed values {shown} -> {'any' if after is None else _show(list(after.values()))}"
        )
    added = [value for key, value in after.items() if key not in before]
    removed = [value for key, value in before.items() if key not in after]
    parts = [
        f"added {_show(added)}" if added else "",
        f"removed {_show(removed)}" if removed else "",
    ]
    return "allowed values: " + ", ".join(part for part in parts if part)


def _listed_values(schema: dict[str, Any]) -> dict[Hashable, Any] | None:
    allowed = _value_set(schema)
    if allowed is None:
        return None
    listed = [schema["const"]] if "const" in schema else schema.get("enum", [])
    return {_canonical(value): value for value in listed if _canonical(value) in allowed}
