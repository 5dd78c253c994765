"""Channel names and patterns: ``*`` is any run of characters, anchored, nothing else special."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sumu_connections.channels import (
    is_channel_name,
    matches,
    parse_public_patterns,
    patterns_from_context,
)
from sumu_contracts import is_valid

ALPHABET = "ab:-*.?[]"


def reference(pattern: str, channel: str) -> bool:
    """The same rule as a regular expression: every piece literal, ``*`` -> ``.*``, anchored."""
    regex = ".*".join(re.escape(piece) for piece in pattern.split("*"))
    return re.fullmatch(regex, channel, flags=re.DOTALL) is not None


@given(pattern=st.text(ALPHABET, max_size=8), channel=st.text(ALPHABET, max_size=10))
def test_matches_agrees_with_the_anchored_regex(pattern: str, channel: str) -> None:
    assert matches(pattern, channel) == reference(pattern, channel)


@pytest.mark.parametrize(
    ("pattern", "channel", "expected"),
    [
        ("public:*", "public:scores", True),
        ("public:*", "public:", True),
        ("public:*", "xpublic:a", False),
        ("room-*", "room-1", True),
        ("*", "anything", True),
        ("a*b*c", "abc", True),
        ("a*b*c", "acb", False),
        ("aa*aa", "aaa", False),
        ("room-?", "room-1", False),  # ? is a literal, not fnmatch's any-one-character
        ("room-[12]", "room-1", False),
    ],
)
def test_matches_examples(pattern: str, channel: str, expected: bool) -> None:
    assert matches(pattern, channel) is expected


@given(name=st.text(max_size=130) | st.integers() | st.none())
def test_is_channel_name_agrees_with_the_contract(name: object) -> None:
    frame = {"action": "subscribe", "channel": name}
    assert is_channel_name(name) == is_valid("client-frame", frame)


@pytest.mark.parametrize(
    ("encoded", "patterns"),
    [
        (json.dumps(["room-*", "public:x"]), ("room-*", "public:x")),
        (json.dumps(["room-*", 7, ""]), ("room-*",)),
        (json.dumps("room-*"), ()),
        ("not json", ()),
        (None, ()),
        (7, ()),
    ],
)
def test_patterns_from_context(encoded: object, patterns: tuple[str, ...]) -> None:
    assert patterns_from_context(encoded) == patterns


def test_parse_public_patterns() -> None:
    assert parse_public_patterns("public:*, news ,,") == ("public:*", "news")
    assert parse_public_patterns("") == ()
