"""``sumu-contracts``: validate a message, list the contracts, gate schema changes in CI.

Exit status: 0 valid / compatible, 1 invalid / breaking / cannot classify, 2 the command could not
run (unreadable or non-JSON input, unknown contract, missing directory or git ref).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from sumu_contracts import __version__
from sumu_contracts.compat import Verdict
from sumu_contracts.errors import ContractError
from sumu_contracts.evolution import (
    REPOSITORY_SCHEMA_DIR,
    EvolutionReport,
    SchemaSourceError,
    compare,
    read_directory,
    read_git_ref,
    repository_root,
)
from sumu_contracts.registry import registry, schema_path
from sumu_contracts.validation import validate

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


class UsageError(Exception):
    """The command cannot run as asked; the message says why (exit 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        status: int = arguments.run(arguments)
    except (UsageError, SchemaSourceError) as error:
        print(f"sumu-contracts: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sumu-contracts", description="SUMU message contracts: validate, list, check-compat."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    validate_command = commands.add_parser(
        "validate", help="validate one JSON message against a contract"
    )
    validate_command.add_argument(
        "name",
        metavar="NAME",
        help="contract name, e.g. notification-request (or notification-request.v1)",
    )
    validate_command.add_argument(
        "file", metavar="FILE", help="a JSON file, or - for standard input"
    )
    validate_command.add_argument(
        "--all-errors",
        action="store_true",
        help="list every violation through jsonschema (extra: sumu-contracts[reference])",
    )
    validate_command.set_defaults(run=_validate)

    list_command = commands.add_parser("list", help="the contracts, who writes and reads them")
    list_command.add_argument("--json", action="store_true", help="print the registry as JSON")
    list_command.set_defaults(run=_list)

    compat_command = commands.add_parser(
        "check-compat",
        help="judge every schema change (exit 1 on a breaking or unclassifiable one)",
        description=(
            "Compare OLD and NEW schema directories, or the schemas committed at --base with a "
            "directory (default: the working tree's contracts/src/sumu_contracts/schemas)."
        ),
    )
    compat_command.add_argument(
        "directories", nargs="*", metavar="DIR", help="OLD NEW, or NEW with --base"
    )
    compat_command.add_argument(
        "--base", metavar="GIT_REF", help="compare the schemas at this git ref, e.g. origin/main"
    )
    compat_command.add_argument(
        "--allow-missing-base",
        action="store_true",
        help="when --base names no commit, say so and exit 0 instead of 2",
    )
    compat_command.set_defaults(run=_check_compat)
    return parser


# --- validate ---------------------------------------------------------------------------------


def _validate(arguments: argparse.Namespace) -> int:
    name: str = arguments.name
    try:
        path = schema_path(name)
    except (KeyError, ValueError) as error:
        raise UsageError(str(error).strip("'\"")) from None
    if not path.is_file():
        raise UsageError(f"contract {name!r} has no such version")
    payload = _read_json(arguments.file)
    if arguments.all_errors:
        return _validate_all(name, payload)
    try:
        validate(name, payload)
    except ContractError as error:
        print(error)
        return EXIT_FAILED
    print("valid")
    return EXIT_OK


def _validate_all(name: str, payload: Any) -> int:
    from sumu_contracts.reference import ReferenceUnavailable, all_errors  # noqa: PLC0415

    try:
        errors = all_errors(name, payload)
    except ReferenceUnavailable as error:
        raise UsageError(str(error)) from None
    if not errors:
        print("valid")
        return EXIT_OK
    print(f"{name}: {len(errors)} violation(s) (jsonschema Draft7Validator)")
    for violation in errors:
        print(violation)
    return EXIT_FAILED


def _read_json(source: str) -> Any:
    label = "standard input" if source == "-" else source
    try:
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {label}: {error.strerror or error}") from None
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{label} is not UTF-8 text: {error.reason} at byte {error.start}"
        ) from None
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{label} is not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except ValueError as error:  # NaN / Infinity, which Python's json would otherwise accept
        raise UsageError(f"{label} is not JSON: {error}") from None


def _reject_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


# --- list -------------------------------------------------------------------------------------


def _list(arguments: argparse.Namespace) -> int:
    contracts: dict[str, dict[str, Any]] = registry()["contracts"]
    if arguments.json:
        print(json.dumps(contracts, indent=2))
        return EXIT_OK
    rows = [("contract", "versions", "direction", "compatibility", "producers -> consumers")]
    for name, entry in contracts.items():
        versions = ", ".join(f"v{version}" for version in entry["versions"])
        flow = f"{', '.join(entry['producers'])} -> {', '.join(entry['consumers'])}"
        rows.append((name, versions, entry["direction"], entry["compatibility"], flow))
    _print_table(rows, sys.stdout)
    return EXIT_OK


def _print_table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]), file=out)


# --- check-compat -----------------------------------------------------------------------------


def _check_compat(arguments: argparse.Namespace) -> int:
    directories = [Path(directory) for directory in arguments.directories]
    if arguments.base is None:
        if len(directories) != 2:
            raise UsageError("check-compat needs OLD and NEW directories, or --base GIT_REF [NEW]")
        report = compare(read_directory(directories[0]), read_directory(directories[1]))
    else:
        if len(directories) > 1:
            raise UsageError("with --base, give at most one directory (the new schemas)")
        root = repository_root(Path.cwd())  # the ref belongs to the repository we are in
        new_directory = directories[0] if directories else root / REPOSITORY_SCHEMA_DIR
        try:
            old = read_git_ref(arguments.base, root)
        except SchemaSourceError as error:
            if arguments.allow_missing_base and "not found" in str(error):
                print(f"check-compat: {error}; nothing to compare (--allow-missing-base)")
                return EXIT_OK
            raise
        report = compare(old, read_directory(new_directory))
    _print_report(report, sys.stdout)
    return EXIT_FAILED if report.failed else EXIT_OK


def _print_report(report: EvolutionReport, out: TextIO) -> None:
    print(f"check-compat: {report.old} -> {report.new}", file=out)
    for file_report in report.files:
        if file_report.summary == "unchanged":
            continue
        mode = f" [{file_report.mode}]" if file_report.mode else ""
        print(f"{file_report.file}{mode}: {file_report.summary}", file=out)
        for judgement in file_report.judgements:
            change = judgement.change
            verdict = (
                judgement.verdict.value.upper()
                if judgement.verdict is not Verdict.COMPATIBLE
                else judgement.verdict.value
            )
            if judgement.verdict is Verdict.SEMANTIC:  # the note is the news; no reason after it
                print(f"  {verdict}: {change.location}: {change.description}", file=out)
                print(f"    ({judgement.reason})", file=out)
                continue
            print(
                f"  {verdict}: {change.location}: {change.description} ({judgement.reason})",
                file=out,
            )
    unchanged = sum(file_report.summary == "unchanged" for file_report in report.files)
    counts = ", ".join(
        f"{report.count(verdict)} {verdict.value}"
        for verdict in Verdict
        if verdict is not Verdict.SEMANTIC or report.count(verdict)
    )
    result = "FAIL" if report.failed else "OK"
    print(
        f"{len(report.files)} schema file(s), {unchanged} unchanged; changes: {counts} -> {result}",
        file=out,
    )
