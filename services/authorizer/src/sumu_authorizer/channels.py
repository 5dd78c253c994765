"""The token's channel patterns (issue 17), passed through the authorizer context.

The claim (``JWT_CHANNELS_CLAIM``, default ``channels``) is a list of strings or one
space-separated string (the OAuth ``scope`` style). sumu-connections decides each subscribe
against these patterns; the authorizer only carries them. API Gateway accepts only string,
number and boolean context values ("You can't set a JSON object or array as a valid value of any
key in the context map"):
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
so they travel as the JSON text of a list under the context key ``channels``.
"""

from __future__ import annotations

import json

CONTEXT_KEY = "channels"
# Bounds on what one token can put in every event of its connection: at most 100 patterns (the
# default subscription limit per connection) of at most 128 characters (a channel name's
# maximum), so the encoded value stays under 14 KB however large the token.
MAX_PATTERNS = 100
MAX_PATTERN_LENGTH = 128
# A channel name's characters (letters, digits and _-:.@=) plus the wildcard *: a pattern with
# any other character could never match a channel name.
_PATTERN_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-:.@=*"
)


class BadChannelsClaim(ValueError):
    """The claim is present but neither a list of strings nor a string (the reason)."""


def channel_patterns(value: object) -> tuple[list[str], list[str]]:
    """(patterns kept, reasons for what was dropped); BadChannelsClaim for a claim of the wrong
    type (then the connection gets no patterns: a malformed grant never widens access)."""
    if isinstance(value, str):
        candidates = value.split()
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        candidates = list(value)
    else:
        raise BadChannelsClaim(
            f"the channels claim is a {type(value).__name__}, not a list of strings or a "
            "space-separated string"
        )
    dropped: list[str] = []
    kept: list[str] = []
    for pattern in dict.fromkeys(candidates):
        if not 0 < len(pattern) <= MAX_PATTERN_LENGTH or not set(pattern) <= _PATTERN_CHARACTERS:
            dropped.append("a pattern that no channel name can match")
        elif len(kept) == MAX_PATTERNS:
            dropped.append(f"patterns beyond the first {MAX_PATTERNS}")
            break
        else:
            kept.append(pattern)
    return kept, list(dict.fromkeys(dropped))


def encode(patterns: list[str]) -> str:
    return json.dumps(patterns, separators=(",", ":"))
