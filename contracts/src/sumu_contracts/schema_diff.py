"""The structural diff of two JSON Schemas (draft-07): every change, with its effect.

``diff_schemas(old, new)`` walks both trees at once, keyword by keyword. Keywords of one schema
are a conjunction, so each change is judged on its own: the schema as a whole accepts more (or
less) if that one constraint does. The walk follows local $refs at each use (a changed definition
is reported where it matters, once per pair of targets, which also ends recursion), flips the
direction of effects under ``not``, and treats ``oneOf`` as ``anyOf`` only when its branches are
proved disjoint (by type or by a const / enum discriminator): otherwise widening one branch can make
a message match two and be rejected, so such a change is UNKNOWN.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sumu_contracts.schema_change import Change, Effect
from sumu_contracts.schema_facts import (
    FALSE_SCHEMA,
    as_object,
    disjoint,
    escape,
    expanded,
    is_annotation,
    is_number,
    json_text,
    multiple_of_effect,
    openness,
    pair_branches,
    pattern_matches,
    references,
    resolve_pointer,
    set_effect,
    show,
    tuple_form,
    type_set,
    value_change,
    value_set,
)

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


def diff_schemas(old: Any, new: Any) -> list[Change]:
    """Every change between two schemas (parsed JSON), each with its effect."""
    walk = _Walk(old, new)
    walk.node(old, new, "#", positive=True)
    return walk.changes


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
        self,
        old: Any,
        new: Any,
        location: str,
        description: str,
        *,
        positive: bool,
        detailed: bool = True,
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
            change.description for change in inner if detailed and change.effect is not Effect.SAME
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
        old, new = as_object(old), as_object(new)
        if json_text(old) == json_text(new) and not references(old):
            return  # identical, and no $ref inside that could lead to a changed definition
        if old is FALSE_SCHEMA or new is FALSE_SCHEMA:
            effect = Effect.WIDER if old is FALSE_SCHEMA else Effect.NARROWER
            state = (
                "nothing was allowed here" if old is FALSE_SCHEMA else "nothing is allowed here now"
            )
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
            schema = resolve_pointer(root, reference)
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
            if is_annotation(keyword) or json_text(old.get(keyword)) == json_text(new.get(keyword)):
                continue
            self.report(
                f"{location}/{escape(keyword)}",
                f"keyword {keyword} changed and no rule covers it",
                Effect.UNKNOWN,
                positive=True,
            )

    def _annotations(self, old: dict[str, Any], new: dict[str, Any], location: str) -> None:
        for keyword in sorted(old.keys() | new.keys()):
            if is_annotation(keyword) and old.get(keyword) != new.get(keyword):
                self.report(
                    f"{location}/{escape(keyword)}",
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
            f"type {show(old.get('type', 'any'))} -> {show(new.get('type', 'any'))}",
            set_effect(type_set(old), type_set(new)),
            positive=positive,
        )

    def _values(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        if json_text([old.get("enum"), old.get("const")]) == json_text(
            [new.get("enum"), new.get("const")]
        ):
            return
        self.report(
            f"{location}/{'const' if 'const' in new else 'enum'}",
            value_change(old, new),
            set_effect(value_set(old), value_set(new)),
            positive=positive,
        )

    def _bounds(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        for keyword in (*_LOWER_BOUNDS, *_UPPER_BOUNDS):
            before, after = old.get(keyword), new.get(keyword)
            if json_text(before) == json_text(after):
                continue
            lower = keyword in _LOWER_BOUNDS
            where = f"{location}/{keyword}"
            if not all(value is None or is_number(value) for value in (before, after)):
                self.report(where, f"{keyword} is not a number", Effect.UNKNOWN, positive=True)
                continue
            if before is None or after is None:
                effect = Effect.NARROWER if before is None else Effect.WIDER
            else:
                raised = after > before
                effect = Effect.NARROWER if raised == lower else Effect.WIDER
            self.report(
                where, f"{keyword} {show(before)} -> {show(after)}", effect, positive=positive
            )
        before, after = old.get("multipleOf"), new.get("multipleOf")
        if before != after:
            self.report(
                f"{location}/multipleOf",
                f"multipleOf {show(before)} -> {show(after)}",
                multiple_of_effect(before, after),
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
            if json_text(before) == json_text(after):
                continue
            if before is None or after is None:
                effect = Effect.NARROWER if before is None else Effect.WIDER
            else:
                effect = on_change
            self.report(
                f"{location}/{keyword}",
                f"{keyword} {show(before)} -> {show(after)}",
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
                    f"{location}/patternProperties/{escape(pattern)}",
                    positive=positive,
                )
        patterns = [*old_patterns, *new_patterns]
        for name in sorted(old_properties.keys() | new_properties.keys()):
            where = f"{location}/properties/{escape(name)}"
            if name in old_properties and name in new_properties:
                self.node(old_properties[name], new_properties[name], where, positive=positive)
                continue
            if any(pattern_matches(pattern, name) for pattern in patterns):
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
                    f"property {name!r} added to {openness(old_rest)} object",
                    positive=positive,
                    detailed=as_object(old_rest) is not FALSE_SCHEMA,  # "was closed" says it all
                )
            else:
                self.summarised(
                    old_properties[name],
                    new_rest,
                    where,
                    f"property {name!r} removed from {openness(new_rest)} object",
                    positive=positive,
                    detailed=as_object(new_rest) is not FALSE_SCHEMA,
                )
        where = f"{location}/additionalProperties"
        if json_text(as_object(old_rest)) != json_text(as_object(new_rest)):
            self.summarised(
                old_rest,
                new_rest,
                where,
                f"additionalProperties: {openness(old_rest)} -> {openness(new_rest)} object",
                positive=positive,
            )
        else:  # the same text may still $ref a definition that changed
            self.node(old_rest, new_rest, where, positive=positive)

    def _dependencies(
        self, old: dict[str, Any], new: dict[str, Any], location: str, *, positive: bool
    ) -> None:
        before, after = old.get("dependencies", {}), new.get("dependencies", {})
        for name in sorted(before.keys() | after.keys()):
            where = f"{location}/dependencies/{escape(name)}"
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
                    f"properties required with {name!r}: {show(sorted(before_names))} -> "
                    f"{show(sorted(after_names))}",
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
        old_prefix, old_rest = tuple_form(old)
        new_prefix, new_rest = tuple_form(new)
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
            and disjoint(old_branches, self.old_root)
            and disjoint(new_branches, self.new_root)
        )
        outer = self.changes
        self.changes = []
        try:
            pairs, removed, added = pair_branches(
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
        if json_text(expanded(old["if"], self.old_root)) != json_text(
            expanded(new["if"], self.new_root)
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
        referenced = references(self.old_root) | references(self.new_root)
        for name in sorted(before.keys() | after.keys()):
            where = f"{location}/definitions/{escape(name)}"
            if name not in before or name not in after:
                state = "added" if name in after else "removed"
                self.report(where, f"definition {name!r} {state}", Effect.SAME, positive=True)
            elif before[name] != after[name] and where not in referenced:
                self.report(
                    where, f"definition {name!r} changed, unreferenced", Effect.SAME, positive=True
                )
