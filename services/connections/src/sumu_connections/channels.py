"""Channel names and who may subscribe to what (issue 17).

A channel name is 1..128 letters, digits and ``_-:.@=`` (the contracts' channel_name). A
connection may subscribe to a channel that matches one of its patterns: those of its token's
channels claim (passed by the authorizer as the JSON-encoded list ``channels`` in its context)
or the deployment's public patterns (``SUMU_PUBLIC_CHANNELS``). In a pattern ``*`` matches any
run of characters (also none) and nothing else is special, so no fnmatch (whose ``?`` and
``[...]`` would widen what a token allows) and no regular expression built from user input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

_NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-:.@=")
MAX_NAME_LENGTH = 128


def is_channel_name(name: object) -> bool:
    """The contracts' pattern ``^[A-Za-z0-9_\\-:.@=]{1,128}$``, without a regex compile."""
    return (
        isinstance(name, str)
        and 0 < len(name) <= MAX_NAME_LENGTH
        and all(character in _NAME_CHARACTERS for character in name)
    )


def matches(pattern: str, channel: str) -> bool:
    """Anchored glob with ``*`` only: the pattern's literal pieces in order, the first at the
    start and the last at the end. Taking each middle piece at its leftmost place is exact:
    a later place could only leave less room for the pieces after it."""
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return pattern == channel
    first, *middle, last = pieces
    if len(channel) < len(first) + len(last):
        return False
    if not channel.startswith(first) or not channel.endswith(last):
        return False
    position, end = len(first), len(channel) - len(last)
    for piece in middle:
        found = channel.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def allowed(channel: str, patterns: Iterable[str]) -> bool:
    return any(matches(pattern, channel) for pattern in patterns)


def patterns_from_context(encoded: object) -> tuple[str, ...]:
    """The authorizer context's ``channels``: a JSON list of strings, encoded because API
    Gateway allows only string, number and boolean context values. Anything else (absent, not
    JSON, not a list of strings) allows no channel: a malformed grant never widens access."""
    if not isinstance(encoded, str):
        return ()
    try:
        decoded = json.loads(encoded)
    except ValueError:
        return ()
    if not isinstance(decoded, list):
        return ()
    return tuple(pattern for pattern in decoded if isinstance(pattern, str) and pattern)


def parse_public_patterns(text: str) -> tuple[str, ...]:
    """``SUMU_PUBLIC_CHANNELS``: a comma-separated list; blanks dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())
