"""Compare two sets of contract schemas (a directory, or the schemas at a git ref).

Files pair up by name and major version (``<name>.v<major>.schema.json``). A pair's changes are
judged under the compatibility mode the registry gives the contract; when the old and the new
registry disagree, the stricter of the two applies, so a change cannot loosen its own gate. A new
major version file is allowed (that is how a breaking change ships); removing one is breaking
(its readers and writers lose their contract).

Two things a structural diff cannot know are declared per contract in registry.json, under
``declared_changes`` (each with ``since``, ``kind``, ``location`` and ``note``):

- ``semantic``: the same messages validate but mean something else (a description edit such as
  "an empty users list reaches nobody"). Reported as SEMANTIC when the declaration is new in this
  registry; it does not fail the gate, but it is never reported as "no reader is affected".
- ``member-never-written``: a property added to an open object. The old schema let a writer put
  any value under that name, so the new one is NARROWER and FULL's backward half cannot be proven
  from the schemas (Confluent's rule). When the contract's producers never wrote that name, every
  message that exists still validates; the declaration says so, and that one change passes. It
  excuses nothing else: only a "property added to an open object" change at exactly that location.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sumu_contracts.compat import (
    MODES,
    Change,
    Effect,
    Judgement,
    Mode,
    Verdict,
    diff_schemas,
    judge,
    parse_mode,
    stricter,
)

SCHEMA_FILE = re.compile(
    r"^(?P<name>[a-z][a-z0-9]*(?:-[a-z0-9]+)*)\.v(?P<major>[1-9][0-9]*)\.schema\.json$"
)
# Where the schemas live in the repository (contracts/schemas is a symlink to it).
REPOSITORY_SCHEMA_DIR = PurePosixPath("contracts/src/sumu_contracts/schemas")
_GIT_TIMEOUT_SECONDS = 30


class SchemaSourceError(Exception):
    """A schema set cannot be read: a missing directory, an unknown git ref, a file not JSON."""


DECLARATION_KINDS = ("semantic", "member-never-written")


@dataclass(frozen=True)
class Declaration:
    since: str
    kind: str
    location: str
    note: str


@dataclass(frozen=True)
class SchemaSet:
    label: str
    files: dict[str, str]  # file name -> text, for every *.json in the folder

    def schemas(self) -> dict[str, Any]:
        return {
            name: _parse(self.label, name, text)
            for name, text in self.files.items()
            if name.endswith(".schema.json")
        }

    def declarations(self) -> dict[str, list[Declaration]]:
        """Every contract's ``declared_changes`` in registry.json."""
        declared: dict[str, list[Declaration]] = {}
        for name, entry in self._registry_contracts().items():
            raw = entry.get("declared_changes", [])
            if not isinstance(raw, list) or not all(
                isinstance(item, dict)
                and set(item) == set(Declaration.__dataclass_fields__)
                and all(isinstance(value, str) for value in item.values())
                and item["kind"] in DECLARATION_KINDS
                for item in raw
            ):
                raise SchemaSourceError(
                    f"{self.label}/registry.json: {name}.declared_changes must be a list of "
                    f"{{since, kind ({' | '.join(DECLARATION_KINDS)}), location, note}} strings"
                )
            declared[name] = [Declaration(**item) for item in raw]
        return declared

    def _registry_contracts(self) -> dict[str, dict[str, Any]]:
        text = self.files.get("registry.json")
        if text is None:
            return {}
        parsed = _parse(self.label, "registry.json", text)
        contracts = parsed.get("contracts", {}) if isinstance(parsed, dict) else None
        if not isinstance(contracts, dict) or not all(
            isinstance(entry, dict) for entry in contracts.values()
        ):
            raise SchemaSourceError(f"{self.label}/registry.json has no contracts object")
        return contracts

    def modes(self) -> dict[str, Mode]:
        contracts = self._registry_contracts()
        try:
            return {
                name: parse_mode(entry["compatibility"])
                for name, entry in contracts.items()
                if "compatibility" in entry
            }
        except ValueError as error:
            raise SchemaSourceError(f"{self.label}/registry.json: {error}") from None


@dataclass(frozen=True)
class FileReport:
    """What happened to one schema file, with each change judged."""

    file: str
    summary: str
    mode: Mode | None = None
    judgements: list[Judgement] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(judgement.verdict.fails_gate for judgement in self.judgements)


@dataclass(frozen=True)
class EvolutionReport:
    old: str
    new: str
    files: list[FileReport]

    def count(self, verdict: Verdict) -> int:
        return sum(
            judgement.verdict is verdict for report in self.files for judgement in report.judgements
        )

    @property
    def failed(self) -> bool:
        return any(report.failed for report in self.files)


def read_directory(path: Path) -> SchemaSet:
    if not path.is_dir():
        raise SchemaSourceError(f"{path} is not a directory")
    files = {}
    for entry in sorted(path.glob("*.json")):
        try:
            files[entry.name] = entry.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SchemaSourceError(f"cannot read {entry}: {error}") from None
    return SchemaSet(str(path), files)


def read_git_ref(
    ref: str, repository: Path, folder: PurePosixPath = REPOSITORY_SCHEMA_DIR
) -> SchemaSet:
    """The schemas as committed at ``ref`` (nothing at all if the folder did not exist there)."""
    if _git(repository, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise SchemaSourceError(f"git ref {ref!r} not found in {repository}")
    listing = _git(repository, "ls-tree", "--name-only", ref, f"{folder}/")
    if listing.returncode != 0:
        raise SchemaSourceError(f"git ls-tree {ref} failed: {listing.stderr.strip()}")
    files = {}
    for path in listing.stdout.splitlines():
        name = PurePosixPath(path).name
        if name.endswith(".json"):
            shown = _git(repository, "show", f"{ref}:{path}")
            if shown.returncode != 0:
                raise SchemaSourceError(f"git show {ref}:{path} failed: {shown.stderr.strip()}")
            files[name] = shown.stdout
    return SchemaSet(f"{ref}:{folder}", files)


def repository_root(start: Path) -> Path:
    found = _git(start, "rev-parse", "--show-toplevel")
    if found.returncode != 0:
        raise SchemaSourceError(f"{start} is not inside a git repository")
    return Path(found.stdout.strip())


def compare(old: SchemaSet, new: SchemaSet) -> EvolutionReport:
    old_schemas, new_schemas = old.schemas(), new.schemas()
    old_modes, new_modes = old.modes(), new.modes()
    old_declared, new_declared = old.declarations(), new.declarations()
    latest = _latest_files(new_schemas)
    old_names = {_contract_of(file) for file in old_schemas} - {None}
    reports = []
    for file in sorted(old_schemas.keys() | new_schemas.keys()):
        name = _contract_of(file)
        if name is None:
            reports.append(_unclassified(file, "the file name is not <name>.v<major>.schema.json"))
        elif file not in new_schemas:
            reports.append(
                _breaking(
                    file, "major version file removed: its readers and writers lose their contract"
                )
            )
        elif file not in old_schemas:
            kind = (
                "new major version of an existing contract" if name in old_names else "new contract"
            )
            reports.append(FileReport(file, f"{kind}: allowed"))
        else:
            mode = _mode_for(name, old_modes, new_modes)
            report = _compare_pair(file, old_schemas[file], new_schemas[file], mode)
            # Declarations name no major version: they speak of the contract's latest file.
            if file == latest.get(name):
                report = _with_declarations(
                    report, new_declared.get(name, []), old_declared.get(name, [])
                )
            reports.append(report)
    return EvolutionReport(old.label, new.label, reports)


def _latest_files(schemas: dict[str, Any]) -> dict[str, str]:
    """Contract name -> the file of its highest major version."""
    latest: dict[str, tuple[int, str]] = {}
    for file in schemas:
        match = SCHEMA_FILE.match(file)
        if match and int(match["major"]) > latest.get(match["name"], (0, ""))[0]:
            latest[match["name"]] = (int(match["major"]), file)
    return {name: file for name, (_, file) in latest.items()}


def _with_declarations(
    report: FileReport, declared: list[Declaration], previously: list[Declaration]
) -> FileReport:
    """Apply the registry's declarations to one file's judgements (see the module docstring)."""
    if not declared:
        return report
    never_written = {d.location: d for d in declared if d.kind == "member-never-written"}
    judgements = []
    for judgement in report.judgements:
        change = judgement.change
        declaration = never_written.get(change.location)
        if (
            declaration is not None
            and judgement.verdict is Verdict.BREAKING
            and change.effect is Effect.NARROWER
            and "added to an open object" in change.description
        ):
            judgements.append(
                Judgement(
                    change,
                    Verdict.COMPATIBLE,
                    f"declared member-never-written since {declaration.since}: "
                    f"{declaration.note}; old readers accept it (the object is open)",
                )
            )
        else:
            judgements.append(judgement)
    for declaration in declared:
        if declaration.kind == "semantic" and declaration not in previously:
            change = Change(
                declaration.location,
                f"since {declaration.since}: {declaration.note}",
                Effect.SAME,
            )
            reason = "the same messages validate but mean something else; declared in registry.json"
            judgements.append(Judgement(change, Verdict.SEMANTIC, reason))
    if judgements == report.judgements:
        return report
    summary = report.summary if report.summary != "unchanged" else "semantic change(s) declared"
    return FileReport(report.file, summary, report.mode, judgements)


def _compare_pair(file: str, old: Any, new: Any, mode: Mode | str) -> FileReport:
    """``mode`` is the mode to judge under, or the reason there is none."""
    changes = diff_schemas(old, new)
    if not changes:
        return FileReport(file, "unchanged")
    if mode not in MODES:
        return _unclassified(file, mode)
    judgements = [judge(change, mode) for change in changes]
    return FileReport(file, f"{len(changes)} change(s)", mode, judgements)


def _mode_for(name: str, old_modes: dict[str, Mode], new_modes: dict[str, Mode]) -> Mode | str:
    modes = [mode for mode in (old_modes.get(name), new_modes.get(name)) if mode is not None]
    if not modes:
        return f"registry.json gives no compatibility mode for {name!r}"
    return modes[0] if len(modes) == 1 else stricter(modes[0], modes[1])


def _breaking(file: str, reason: str) -> FileReport:
    change = Change("#", reason, Effect.INCOMPARABLE)
    return FileReport(file, reason, None, [Judgement(change, Verdict.BREAKING, reason)])


def _unclassified(file: str, reason: str) -> FileReport:
    change = Change("#", reason, Effect.UNKNOWN)
    return FileReport(file, reason, None, [Judgement(change, Verdict.UNCLASSIFIED, reason)])


def _contract_of(file: str) -> str | None:
    match = SCHEMA_FILE.match(file)
    return match["name"] if match else None


def _parse(label: str, name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SchemaSourceError(f"{label}/{name} is not JSON: {error}") from None


def _git(cwd: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *arguments],
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired, UnicodeDecodeError) as error:
        raise SchemaSourceError(f"cannot run git in {cwd}: {error}") from None
