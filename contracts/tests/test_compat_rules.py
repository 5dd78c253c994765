"""The compatibility rules, table-driven: GIVEN an old and a new schema WHEN diffed THEN each
change has the expected effect, and each effect the expected verdict in each registry mode.

The table's effects are also checked against real validation: where a rule says the new schema
accepts everything the old one did, instances generated from the old schema must validate under
the new one (and the other way round), so a rule cannot claim more than is true.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

import fastjsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from sumu_contracts.compat import (
    Effect,
    Mode,
    Verdict,
    diff_schemas,
    judge,
    parse_mode,
    stricter,
)

SAME, WIDER, NARROWER = Effect.SAME, Effect.WIDER, Effect.NARROWER
INCOMPARABLE, UNKNOWN = Effect.INCOMPARABLE, Effect.UNKNOWN


def closed(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": False}


def opened(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def with_(schema: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**schema, **changes}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
USER = closed(name=STRING, role={"enum": ["admin", "member"]})
USER_REQUIRED = with_(USER, required=["name"])
FRAMES = {
    "oneOf": [
        closed(action={"const": "ping"}) | {"required": ["action"]},
        closed(action={"enum": ["send", "publish"]}, message={}) | {"required": ["action"]},
    ]
}
LIST = {"type": "array", "items": STRING}
REFERENCED = {
    "type": "object",
    "properties": {"user": {"$ref": "#/definitions/user_id"}},
    "definitions": {"user_id": {"type": "string", "maxLength": 64}},
}
LINKED = {
    "$ref": "#/definitions/node",
    "definitions": {
        "node": {
            "type": "object",
            "properties": {"value": INTEGER, "next": {"$ref": "#/definitions/node"}},
        }
    },
}


def frames_with_ping_values(values: list[str]) -> dict[str, Any]:
    ping = closed(action={"enum": values}) | {"required": ["action"]}
    return {"oneOf": [ping, FRAMES["oneOf"][1]]}


# id, old, new, the joined effect of every change found
RULES: list[tuple[str, Any, Any, Effect]] = [
    # annotations never matter
    ("title and description", USER, with_(USER, title="User", description="A user."), SAME),
    (
        "$comment, examples, x-owner",
        STRING,
        with_(STRING, **{"$comment": "c", "examples": ["a"], "x-owner": "me"}),
        SAME,
    ),
    ("definition added, unused", STRING, with_(STRING, definitions={"spare": INTEGER}), SAME),
    # required
    ("required property added", USER, USER_REQUIRED, NARROWER),
    ("required property removed", USER_REQUIRED, USER, WIDER),
    # enum / const
    ("enum narrowed", {"enum": ["a", "b"]}, {"enum": ["a"]}, NARROWER),
    ("enum widened", {"enum": ["a"]}, {"enum": ["a", "b"]}, WIDER),
    ("enum value replaced", {"enum": ["a", "b"]}, {"enum": ["a", "c"]}, INCOMPARABLE),
    ("const rewritten as a one-value enum", {"const": "a"}, {"enum": ["a"]}, SAME),
    ("const added", STRING, with_(STRING, const="a"), NARROWER),
    ("enum of 1 and 1.0 is one value", {"enum": [1]}, {"enum": [1.0]}, SAME),
    ("enum true is not 1", {"enum": [1]}, {"enum": [True]}, INCOMPARABLE),
    # type
    ("type widened with null", STRING, {"type": ["string", "null"]}, WIDER),
    ("type narrowed", {"type": ["string", "null"]}, STRING, NARROWER),
    ("integer widened to number", INTEGER, {"type": "number"}, WIDER),
    ("number narrowed to integer", {"type": "number"}, INTEGER, NARROWER),
    ("type replaced", STRING, INTEGER, INCOMPARABLE),
    ("type removed", STRING, {}, WIDER),
    # properties on closed and open objects
    (
        "optional property added to a closed object",
        USER,
        with_(USER, properties={**USER["properties"], "age": INTEGER}),
        WIDER,
    ),
    ("property removed from a closed object", USER, closed(name=STRING), NARROWER),
    (
        "typed property added to an open object",
        opened(name=STRING),
        opened(name=STRING, age=INTEGER),
        NARROWER,
    ),
    (
        "unconstrained property added to an open object",
        opened(name=STRING),
        opened(name=STRING, note={"description": "any"}),
        SAME,
    ),
    (
        "property removed from an open object",
        opened(name=STRING, age=INTEGER),
        opened(name=STRING),
        WIDER,
    ),
    ("property type widened", opened(age=INTEGER), opened(age={"type": "number"}), WIDER),
    ("closed object opened", closed(name=STRING), opened(name=STRING), WIDER),
    ("open object closed", opened(name=STRING), closed(name=STRING), NARROWER),
    (
        "extras constrained on a closed object",
        closed(name=STRING),
        with_(closed(name=STRING), additionalProperties=STRING),
        WIDER,
    ),
    # bounds
    (
        "maxLength raised",
        {"type": "string", "maxLength": 5},
        {"type": "string", "maxLength": 9},
        WIDER,
    ),
    (
        "maxLength lowered",
        {"type": "string", "maxLength": 9},
        {"type": "string", "maxLength": 5},
        NARROWER,
    ),
    ("minLength added", STRING, {"type": "string", "minLength": 1}, NARROWER),
    ("minimum removed", {"type": "integer", "minimum": 0}, INTEGER, WIDER),
    ("maximum added", INTEGER, {"type": "integer", "maximum": 10}, NARROWER),
    (
        "exclusiveMinimum lowered",
        {"type": "number", "exclusiveMinimum": 1},
        {"type": "number", "exclusiveMinimum": 0},
        WIDER,
    ),
    ("maxItems added", LIST, with_(LIST, maxItems=3), NARROWER),
    (
        "minProperties raised",
        {"type": "object", "minProperties": 1},
        {"type": "object", "minProperties": 2},
        NARROWER,
    ),
    (
        "x-sumu-max-bytes lowered",
        with_(STRING, **{"x-sumu-max-bytes": 100}),
        with_(STRING, **{"x-sumu-max-bytes": 50}),
        NARROWER,
    ),
    (
        "multipleOf 2 to 4",
        {"type": "integer", "multipleOf": 2},
        {"type": "integer", "multipleOf": 4},
        NARROWER,
    ),
    (
        "multipleOf 4 to 2",
        {"type": "integer", "multipleOf": 4},
        {"type": "integer", "multipleOf": 2},
        WIDER,
    ),
    (
        "multipleOf 2 to 3",
        {"type": "integer", "multipleOf": 2},
        {"type": "integer", "multipleOf": 3},
        INCOMPARABLE,
    ),
    ("uniqueItems added", LIST, with_(LIST, uniqueItems=True), NARROWER),
    # opaque keywords
    ("pattern added", STRING, with_(STRING, pattern="^a"), NARROWER),
    ("pattern removed", with_(STRING, pattern="^a"), STRING, WIDER),
    ("pattern changed", with_(STRING, pattern="^a"), with_(STRING, pattern="^(a|b)"), UNKNOWN),
    ("format added", STRING, with_(STRING, format="email"), NARROWER),
    # arrays
    ("items widened", LIST, {"type": "array", "items": {"type": ["string", "null"]}}, WIDER),
    (
        "items narrowed",
        LIST,
        {"type": "array", "items": {"type": "string", "maxLength": 3}},
        NARROWER,
    ),
    ("items removed", LIST, {"type": "array"}, WIDER),
    (
        "tuple item added, extras closed",
        {"type": "array", "items": [STRING], "additionalItems": False},
        {"type": "array", "items": [STRING, INTEGER], "additionalItems": False},
        WIDER,
    ),
    ("contains added", LIST, with_(LIST, contains={"const": "a"}), NARROWER),
    # $ref and definitions
    (
        "referenced definition narrowed",
        REFERENCED,
        {**REFERENCED, "definitions": {"user_id": {"type": "string", "maxLength": 8}}},
        NARROWER,
    ),
    (
        "inlined reference, same content",
        REFERENCED,
        opened(user={"type": "string", "maxLength": 64}),
        SAME,
    ),
    (
        "recursive definition widened",
        LINKED,
        {
            **LINKED,
            "definitions": {
                "node": {
                    **LINKED["definitions"]["node"],
                    "properties": {
                        "value": {"type": "number"},
                        "next": {"$ref": "#/definitions/node"},
                    },
                }
            },
        },
        WIDER,
    ),
    ("remote reference", {"$ref": "http://example.com/s.json"}, STRING, UNKNOWN),
    # combinators
    ("anyOf branch added", {"anyOf": [STRING]}, {"anyOf": [STRING, INTEGER]}, WIDER),
    ("anyOf branch removed", {"anyOf": [STRING, INTEGER]}, {"anyOf": [STRING]}, NARROWER),
    ("allOf branch added", {"allOf": [STRING]}, {"allOf": [STRING, {"maxLength": 3}]}, NARROWER),
    (
        "oneOf, discriminated, branch value added",
        FRAMES,
        frames_with_ping_values(["ping", "keepalive"]),
        WIDER,
    ),
    ("oneOf, overlapping once changed", FRAMES, frames_with_ping_values(["ping", "send"]), UNKNOWN),
    (
        "oneOf, disjoint by type, branch narrowed",
        {"oneOf": [STRING, {"type": "array"}]},
        {"oneOf": [{"type": "string", "minLength": 1}, {"type": "array"}]},
        NARROWER,
    ),
    ("oneOf added", STRING, with_(STRING, oneOf=[{"maxLength": 1}, {"minLength": 3}]), NARROWER),
    (
        "not widened (so the schema narrows)",
        {"not": STRING},
        {"not": {"type": ["string", "integer"]}},
        NARROWER,
    ),
    (
        "then narrowed",
        {"if": opened(kind={"const": "a"}), "then": opened(value=STRING)},
        {
            "if": opened(kind={"const": "a"}),
            "then": opened(value={"type": "string", "maxLength": 2}),
        },
        NARROWER,
    ),
    (
        "if changed",
        {"if": opened(kind={"const": "a"}), "then": opened(value=STRING)},
        {"if": opened(kind={"const": "b"}), "then": opened(value=STRING)},
        UNKNOWN,
    ),
    (
        "dependencies added",
        {"type": "object"},
        {"type": "object", "dependencies": {"a": ["b"]}},
        NARROWER,
    ),
    (
        "propertyNames constrained",
        {"type": "object"},
        {"type": "object", "propertyNames": {"maxLength": 3}},
        NARROWER,
    ),
    # whole-schema changes
    ("true to false", True, False, NARROWER),
    ("false to true", False, True, WIDER),
    (
        "$schema changed",
        {"$schema": "http://json-schema.org/draft-07/schema#"},
        {"$schema": "https://json-schema.org/draft/2020-12/schema"},
        UNKNOWN,
    ),
    (
        "unknown keyword changed",
        {"unevaluatedProperties": False},
        {"unevaluatedProperties": True},
        UNKNOWN,
    ),
]


def joined_effect(old: Any, new: Any) -> Effect:
    effect = Effect.SAME
    for change in diff_schemas(old, new):
        effect = effect.join(change.effect)
    return effect


@pytest.mark.parametrize(
    ("old", "new", "expected"), [pytest.param(*rule[1:], id=rule[0]) for rule in RULES]
)
def test_change_has_its_effect(old: Any, new: Any, expected: Effect) -> None:
    changes = diff_schemas(old, new)
    assert changes, "a rule in this table must find at least one change"
    assert joined_effect(old, new) is expected, [str(change) for change in changes]


@pytest.mark.parametrize(
    ("old", "new"), [pytest.param(rule[1], rule[1], id=rule[0]) for rule in RULES]
)
def test_a_schema_has_no_change_against_itself(old: Any, new: Any) -> None:
    assert diff_schemas(old, new) == []


VERDICTS: list[tuple[Effect, Mode, Verdict]] = [
    (SAME, "BACKWARD", Verdict.COMPATIBLE),
    (SAME, "FORWARD", Verdict.COMPATIBLE),
    (SAME, "FULL", Verdict.COMPATIBLE),
    (WIDER, "BACKWARD", Verdict.COMPATIBLE),
    (WIDER, "FORWARD", Verdict.BREAKING),
    (WIDER, "FULL", Verdict.BREAKING),
    (NARROWER, "BACKWARD", Verdict.BREAKING),
    (NARROWER, "FORWARD", Verdict.COMPATIBLE),
    (NARROWER, "FULL", Verdict.BREAKING),
    (INCOMPARABLE, "BACKWARD", Verdict.BREAKING),
    (INCOMPARABLE, "FORWARD", Verdict.BREAKING),
    (INCOMPARABLE, "NONE", Verdict.COMPATIBLE),
    (UNKNOWN, "NONE", Verdict.UNCLASSIFIED),
    (UNKNOWN, "BACKWARD", Verdict.UNCLASSIFIED),
    (UNKNOWN, "FULL", Verdict.UNCLASSIFIED),
]


@pytest.mark.parametrize(("effect", "mode", "expected"), VERDICTS)
def test_mode_judges_effect(effect: Effect, mode: Mode, expected: Verdict) -> None:
    change = diff_schemas(STRING, INTEGER)[0]
    assert judge(type(change)(change.location, "a change", effect), mode).verdict is expected


def verdicts(old: Any, new: Any, mode: Mode) -> set[Verdict]:
    return {judge(change, mode).verdict for change in diff_schemas(old, new)}


def test_adding_a_required_property_is_breaking() -> None:
    assert Verdict.BREAKING in verdicts(USER, USER_REQUIRED, "BACKWARD")
    assert Verdict.BREAKING in verdicts(
        opened(name=STRING), with_(opened(name=STRING), required=["name"]), "FULL"
    )


def test_narrowing_an_enum_is_breaking() -> None:
    assert verdicts({"enum": ["a", "b"]}, {"enum": ["a"]}, "BACKWARD") == {Verdict.BREAKING}


def test_an_optional_property_on_a_closed_inbound_object_is_compatible_backward() -> None:
    new = with_(USER, properties={**USER["properties"], "age": INTEGER})
    assert verdicts(USER, new, "BACKWARD") == {Verdict.COMPATIBLE}


def test_a_property_on_an_open_outbound_object_is_breaking_full() -> None:
    assert verdicts(opened(name=STRING), opened(name=STRING, age=INTEGER), "FULL") == {
        Verdict.BREAKING
    }


def test_forward_is_backward_with_reader_and_writer_swapped() -> None:
    for _, old, new, _ in RULES:
        forward = {
            change.effect
            for change in diff_schemas(old, new)
            if judge(change, "FORWARD").verdict is Verdict.BREAKING
        }
        backward = {
            change.effect
            for change in diff_schemas(new, old)
            if judge(change, "BACKWARD").verdict is Verdict.BREAKING
        }
        assert bool(forward) == bool(backward), (old, new)


def test_modes_parse_and_combine() -> None:
    assert parse_mode("backward_transitive") == "BACKWARD"
    assert stricter("BACKWARD", "FORWARD") == "FULL"
    assert stricter("NONE", "BACKWARD") == "BACKWARD"
    with pytest.raises(ValueError, match="unknown compatibility mode"):
        parse_mode("SIDEWAYS")


# --- the table against real validation -------------------------------------------------------

# hypothesis-jsonschema cannot generate from a recursive schema, nor from false.
NOT_GENERATABLE = {"recursive definition widened", "true to false", "false to true"}
SOUNDNESS = [
    pytest.param(json.dumps(writer), json.dumps(reader), id=f"{rule_id}: {direction}")
    for rule_id, old, new, effect in RULES
    if rule_id not in NOT_GENERATABLE
    for direction, writer, reader in (("old under new", old, new), ("new under old", new, old))
    if (effect in (SAME, WIDER) and direction == "old under new")
    or (effect in (SAME, NARROWER) and direction == "new under old")
]


@cache
def messages_of(schema_text: str) -> st.SearchStrategy[Any]:
    return from_schema(json.loads(schema_text))


@cache
def validator_of(schema_text: str) -> Callable[[Any], Any]:
    validator: Callable[[Any], Any] = fastjsonschema.compile(json.loads(schema_text))
    return validator


@pytest.mark.parametrize(("writer", "reader"), SOUNDNESS)
@settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_what_the_writer_sends_the_reader_accepts(
    writer: str, reader: str, data: st.DataObject
) -> None:
    # GIVEN a message the writer's schema allows WHEN the reader's schema checks it THEN it passes.
    validator_of(reader)(data.draw(messages_of(writer)))
