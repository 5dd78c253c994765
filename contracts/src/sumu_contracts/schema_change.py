"""The vocabulary of a schema diff: what a change does to the set of messages a schema accepts.

- ``SAME``: no effect (annotations such as title, description, $comment, examples, x-*; a
  reference to an identical definition).
- ``WIDER``: the new schema accepts everything the old one did, and maybe more.
- ``NARROWER``: the new schema accepts a subset of what the old one did.
- ``INCOMPARABLE``: it accepts some messages the old one rejected and rejects some it accepted.
- ``UNKNOWN``: no rule can tell (a changed regex, a changed ``if``, overlapping ``oneOf``
  branches, an unfamiliar keyword).

An effect is a safe bound, never a guess: WIDER may be reported where the sets are in fact equal,
never where the new schema rejects something the old one accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


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


@dataclass(frozen=True)
class Change:
    """One difference between the old and the new schema.

    ``location`` is a JSON pointer into the new schema (into the old one for what was removed),
    written as a URI fragment like a ``$ref``: ``#/properties/users``.
    """

    location: str
    description: str
    effect: Effect
