"""sumu-contracts validate and list, called in-process (the subprocess runs are in test_done_when)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sumu_contracts.cli import main
from sumu_contracts.registry import registry


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    status = main(list(arguments))
    out, err = capsys.readouterr()
    return status, out, err


def message_file(tmp_path: Path, content: bytes | str) -> str:
    path = tmp_path / "message.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


def from_stdin(monkeypatch: pytest.MonkeyPatch, content: bytes) -> None:
    class Stdin:
        buffer = io.BytesIO(content)

    monkeypatch.setattr("sys.stdin", Stdin)


def test_valid_file_prints_valid(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = message_file(tmp_path, '{"users": ["alice"], "data": {"text": "hi"}}')
    assert run(capsys, "validate", "notification-request", path) == (0, "valid\n", "")


def test_invalid_message_prints_contract_pointer_and_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = message_file(tmp_path, '{"action": "ping", "extra": 1}')
    status, out, _ = run(capsys, "validate", "client-frame.v1", path)
    assert status == 1
    assert (
        out
        == "client-frame.v1: (root): must be valid exactly by one definition (0 matches found)\n"
    )


def test_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from_stdin(monkeypatch, b'{"exclude_users": [""], "data": 1}')
    status, out, _ = run(capsys, "validate", "notification-request", "-")
    assert (status, out) == (
        1,
        "notification-request: /exclude_users/0: must be longer than or equal to 1 characters\n",
    )


def test_oversize_message_is_invalid(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = message_file(tmp_path, json.dumps({"data": "x" * 262144}))
    status, out, _ = run(capsys, "validate", "notification-request", path)
    assert status == 1
    assert out.startswith("notification-request: (root): is 262155 bytes, over the limit of 262144")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is not JSON: Expecting value (line 1, column 1)"),
        (b'{"data": 1', "is not JSON: Expecting ',' delimiter (line 1, column 11)"),
        (b'{"data": NaN}', "is not JSON: NaN is not a JSON number"),
        (b'{"data": "\xff"}', "is not UTF-8 text: invalid start byte at byte 10"),
    ],
    ids=["empty", "truncated", "NaN", "not UTF-8"],
)
def test_input_that_is_not_json_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, expected: str
) -> None:
    path = message_file(tmp_path, content)
    status, out, err = run(capsys, "validate", "notification-request", path)
    assert (status, out) == (2, "")
    assert err == f"sumu-contracts: {path} {expected}\n"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ("validate", "notification-request", "/nonexistent/message.json"),
            "cannot read /nonexistent/message.json: No such file or directory",
        ),
        (("validate", "no-such-contract", "-"), "unknown contract 'no-such-contract'"),
        (("validate", "client-frame.v9", "-"), "contract 'client-frame.v9' has no such version"),
        (("check-compat", "only-one-dir"), "check-compat needs OLD and NEW directories"),
        (("check-compat", "/nonexistent/a", "/nonexistent/b"), "/nonexistent/a is not a directory"),
    ],
    ids=["missing file", "unknown contract", "unknown version", "one directory", "not a directory"],
)
def test_a_command_that_cannot_run_exits_2(
    capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...], expected: str
) -> None:
    status, out, err = run(capsys, *arguments)
    assert (status, out) == (2, "")
    assert err.startswith(f"sumu-contracts: {expected}")


def test_unreadable_directory_as_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = run(capsys, "validate", "notification-request", str(tmp_path))
    assert status == 2
    assert err.startswith(f"sumu-contracts: cannot read {tmp_path}: ")


def test_list_shows_every_contract_with_its_flow(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "list")
    lines = out.splitlines()
    assert status == 0
    assert lines[0].split() == [
        "contract",
        "versions",
        "direction",
        "compatibility",
        "producers",
        "->",
        "consumers",
    ]
    assert any(
        line.split()[:4] == ["notification-request", "v1", "inbound", "BACKWARD"]
        and "backends -> sumu-pusher" in line
        for line in lines
    )
    assert len(lines) == 1 + len(registry()["contracts"])


def test_list_as_json_is_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "list", "--json")
    listed: Any = json.loads(out)
    assert (status, listed) == (0, registry()["contracts"])


def test_all_errors_lists_every_violation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Four violations; the default validate stops at the first.
    path = message_file(tmp_path, '{"users": "alice", "exclude_users": [""], "datum": 1}')
    status, out, _ = run(capsys, "validate", "--all-errors", "notification-request", path)
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == "notification-request: 4 violation(s) (jsonschema Draft7Validator)"
    assert "notification-request: (root): 'data' is a required property" in lines
    assert "notification-request: /users: 'alice' is not of type 'array'" in lines
    assert "notification-request: /exclude_users/0: '' should be non-empty" in lines
    assert any("'datum' was unexpected" in line for line in lines)


def test_all_errors_on_a_valid_message_prints_valid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = message_file(tmp_path, '{"users": [], "data": null}')
    assert run(capsys, "validate", "--all-errors", "notification-request", path) == (
        0,
        "valid\n",
        "",
    )


def test_all_errors_reports_the_size_limit_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = message_file(tmp_path, json.dumps({"data": "x" * 300_000}))
    status, out, _ = run(capsys, "validate", "--all-errors", "notification-request", path)
    assert status == 1
    assert "over the limit of 262144" in out


def test_all_errors_without_jsonschema_says_what_to_install(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys  # noqa: PLC0415

    from sumu_contracts import reference  # noqa: PLC0415

    reference._validator.cache_clear()
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import jsonschema -> ImportError
    path = message_file(tmp_path, '{"data": 1}')
    status, _, err = run(capsys, "validate", "--all-errors", "notification-request", path)
    reference._validator.cache_clear()
    assert status == 2
    assert 'pip install "sumu-contracts[reference]"' in err
