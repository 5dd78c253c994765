"""Compatibility rules: Confluent's modes applied to a structural diff of two JSON Schemas.

``diff_schemas(old, new)`` (in schema_diff) lists every change between two schemas with its
effect on the set of messages the schema accepts (schema_change.Effect). ``judge(change, mode)``
applies the registry's mode (Confluent's names,
https://docs.confluent.io/platform/current/schema-registry/fundamentals/schema-evolution.html):
BACKWARD means the new reader accepts everything an old writer could send (no NARROWER);
FORWARD is BACKWARD with reader and writer swapped: old readers accept everything the new writer
sends (no WIDER); FULL is both, so only SAME passes. That is why adding a property to an *open*
object breaks FULL: the old schema let a writer put any value under that name, the new one
constrains it. A change no rule can classify (UNKNOWN) fails in every mode: the gate passes only
what it can prove.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from sumu_contracts.schema_change import Change, Effect
from sumu_contracts.schema_diff import diff_schemas

__all__ = [
    "MODES",
    "Change",
    "Effect",
    "Judgement",
    "Mode",
    "Verdict",
    "diff_schemas",
    "judge",
    "parse_mode",
    "stricter",
]

Mode = Literal["BACKWARD", "FORWARD", "FULL", "NONE"]
MODES: tuple[Mode, ...] = ("BACKWARD", "FORWARD", "FULL", "NONE")


class Verdict(Enum):
    COMPATIBLE = "compatible"
    BREAKING = "breaking"
    UNCLASSIFIED = "cannot classify"
    # The same messages validate but mean something else (declared in registry.json, see
    # evolution.py): no structural rule can see it, so it is reported, never silently SAME.
    SEMANTIC = "semantic change"

    @property
    def fails_gate(self) -> bool:
        return self in (Verdict.BREAKING, Verdict.UNCLASSIFIED)


@dataclass(frozen=True)
class Judgement:
    change: Change
    verdict: Verdict
    reason: str


ANNOTATION_ONLY = (
    "annotation only: the same messages validate; if the meaning changed, declare it in "
    "registry.json declared_changes (kind semantic)"
)
_ACCEPTS_LESS = "the new schema rejects some messages the old one accepted"
_ACCEPTS_MORE = "the new schema accepts messages the old one rejected"


def judge(change: Change, mode: Mode) -> Judgement:
    effect = change.effect
    if effect is Effect.UNKNOWN:
        return Judgement(change, Verdict.UNCLASSIFIED, "no rule can tell what this change does")
    if mode == "NONE" or effect is Effect.SAME:
        annotation = effect is Effect.SAME and change.description.startswith("annotation")
        reason = ANNOTATION_ONLY if annotation else "no reader is affected"
        return Judgement(change, Verdict.COMPATIBLE, reason)
    backward_broken = effect in (Effect.NARROWER, Effect.INCOMPARABLE)
    forward_broken = effect in (Effect.WIDER, Effect.INCOMPARABLE)
    if mode in ("BACKWARD", "FULL") and backward_broken:
        return Judgement(
            change,
            Verdict.BREAKING,
            f"{_ACCEPTS_LESS}: a new reader may refuse an old writer's message",
        )
    if mode in ("FORWARD", "FULL") and forward_broken:
        return Judgement(
            change,
            Verdict.BREAKING,
            f"{_ACCEPTS_MORE}: old readers may refuse the new writer's message",
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
