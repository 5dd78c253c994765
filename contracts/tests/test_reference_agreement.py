"""fastjsonschema (the hot path) and jsonschema's Draft7Validator (the reference) agree.

GIVEN every contract, messages generated from its schema (hypothesis-jsonschema ``from_schema``)
and the same messages mutated (a member replaced by other JSON, dropped, added; numbers swapped
for look-alikes such as 1.0 for 1 or True for 1) WHEN both validators judge them THEN their
verdicts are the same. The schema alone is compared: x-sumu-max-bytes is SUMU's keyword, which
jsonschema ignores by design (validate() checks it after the schema).
"""

from __future__ import annotations

from typing import Any

import pytest
from contract_strategies import bounded
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from sumu_contracts import CONTRACT_NAMES, load_schema
from sumu_contracts.reference import reference_is_valid
from sumu_contracts.validation import fast_is_valid

AGREEMENT = settings(
    max_examples=min(settings.default.max_examples, 25),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Generate the typed branches too, not only the whole schema (server-frame's whole schema is
# mostly plain pushed data).
BRANCHES = {"client-frame": ("ping", "message"), "server-frame": ("pong", "ack", "error")}
SHAPES = [(name, None) for name in CONTRACT_NAMES] + [
    (name, branch) for name, branches in BRANCHES.items() for branch in branches
]
_STRATEGIES: dict[tuple[str, str | None], st.SearchStrategy[Any]] = {}

LEAVES: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 1.0, -1, 0.5, True, False, "", "1", "1.0", "ONLINE", "presence"]),
    st.text(max_size=12),
)
ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def messages(name: str, branch: str | None) -> st.SearchStrategy[Any]:
    key = (name, branch)
    if key not in _STRATEGIES:
        root = load_schema(name)
        schema = (
            root
            if branch is None
            else {**root["definitions"][branch], "definitions": root.get("definitions", {})}
        )
        _STRATEGIES[key] = from_schema(bounded(schema))
    return _STRATEGIES[key]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``value`` (the root included)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, member in value.items():
            found += paths(member, (*prefix, key))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            found += paths(member, (*prefix, index))
    return found


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(value[head], rest, new)
    return copy


def look_alike(value: Any) -> Any:
    """A value of another JSON type that Python confuses with it."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("latin-1") + "\u0000"
    return None


@st.composite
def mutated(draw: st.DrawFn, name: str, branch: str | None) -> Any:
    message = draw(messages(name, branch))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(paths(message)))
        target: Any = message
        for part in path:
            target = target[part]
        operation = draw(st.sampled_from(["replace", "look-alike", "drop", "add"]))
        if operation == "replace":
            message = replaced(message, path, draw(ANY_JSON))
        elif operation == "look-alike":
            message = replaced(message, path, look_alike(target))
        elif operation == "drop" and isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target)))
            message = replaced(message, path, {k: v for k, v in target.items() if k != key})
        elif operation == "add" and isinstance(target, dict):
            key = draw(st.text(max_size=8))
            message = replaced(message, path, {**target, key: draw(ANY_JSON)})
    return message


def agree(name: str, message: Any) -> None:
    fast, reference = fast_is_valid(name, message), reference_is_valid(name, message)
    assert fast == reference, f"fastjsonschema says {fast}, jsonschema says {reference}"


@pytest.mark.parametrize(("name", "branch"), SHAPES)
@AGREEMENT
@given(data=st.data())
def test_both_accept_generated_messages(name: str, branch: str | None, data: st.DataObject) -> None:
    message = data.draw(messages(name, branch))
    assert reference_is_valid(name, message)
    agree(name, message)


@pytest.mark.parametrize(("name", "branch"), SHAPES)
@AGREEMENT
@given(data=st.data())
def test_both_give_the_same_verdict_on_mutated_messages(
    name: str, branch: str | None, data: st.DataObject
) -> None:
    agree(name, data.draw(mutated(name, branch)))


@pytest.mark.parametrize("name", CONTRACT_NAMES)
@AGREEMENT
@given(message=ANY_JSON)
@example(message={"users": [], "data": None})
@example(message={"action": "ping"})
@example(message={"type": "pong", "statusCode": 200.0, "connectionId": "x"})
def test_both_give_the_same_verdict_on_any_json(name: str, message: Any) -> None:
    agree(name, message)
