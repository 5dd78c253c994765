"""Issue 2's "Done when", run as a user would: the sumu-contracts console script in a subprocess."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sumu_contracts import load_schema
from sumu_contracts.registry import SCHEMA_DIR


def cli() -> list[str]:
    script = Path(sys.executable).with_name("sumu-contracts")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sumu_contracts"]


def sumu_contracts(*arguments: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli(), *arguments], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def seed_readme_notifications() -> list[Any]:
    examples = json.loads((SCHEMA_DIR / "notification-request.v1.examples.json").read_text("utf-8"))
    seeds = [example for example in examples["valid"] if example["name"].startswith("seed README")]
    assert len(seeds) == 3  # selective, broadcast, the SNS / SQS snippet
    return [pytest.param(example["payload"], id=example["name"]) for example in seeds]


@pytest.mark.parametrize("notification", seed_readme_notifications())
def test_every_seed_readme_notification_is_accepted(notification: Any) -> None:
    done = sumu_contracts("validate", "notification-request", "-", stdin=json.dumps(notification))
    assert (done.returncode, done.stdout, done.stderr) == (0, "valid\n", "")


@pytest.mark.parametrize(
    ("message", "report"),
    [
        ('{"users": "alice", "data": {}}', "notification-request: /users: must be array\n"),
        ("{}", "notification-request: (root): must contain ['data'] properties\n"),
    ],
    ids=["users is a string", "empty object"],
)
def test_broken_notifications_are_rejected_with_pointer_and_reason(
    message: str, report: str
) -> None:
    done = sumu_contracts("validate", "notification-request", "-", stdin=message)
    assert (done.returncode, done.stdout) == (1, report)


def test_non_json_input_exits_2() -> None:
    done = sumu_contracts("validate", "notification-request", "-", stdin="users=alice")
    assert done.returncode == 2
    assert done.stderr.startswith("sumu-contracts: standard input is not JSON")


def evolve(tmp_path: Path, contract: str, change: Any) -> tuple[str, str]:
    """OLD = the real schemas; NEW = a copy with one contract changed by ``change(schema)``."""
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        folder.mkdir()
        for path in SCHEMA_DIR.glob("*.json"):
            (folder / path.name).write_text(path.read_text("utf-8"))
    schema = copy.deepcopy(load_schema(f"{contract}.v1"))
    change(schema)
    (new / f"{contract}.v1.schema.json").write_text(json.dumps(schema))
    return str(old), str(new)


def add_required_users(schema: dict[str, Any]) -> None:
    schema["required"].append("users")


def narrow_error_codes(schema: dict[str, Any]) -> None:
    schema["definitions"]["error"]["properties"]["code"]["enum"].remove("unauthorized")


def add_optional_priority(schema: dict[str, Any]) -> None:
    schema["properties"]["priority"] = {"enum": ["low", "high"]}


def add_open_record_property(schema: dict[str, Any]) -> None:
    schema["properties"]["device"] = {"type": "string"}


@pytest.mark.parametrize(
    ("contract", "change", "status", "verdict"),
    [
        (
            "notification-request",
            add_required_users,
            1,
            "BREAKING: #/required: property 'users' is now required",
        ),
        (
            "server-frame",
            narrow_error_codes,
            1,
            'BREAKING: #/definitions/error/properties/code/enum: allowed values: removed ["unauthorized"]',
        ),
        (
            "notification-request",
            add_optional_priority,
            0,
            "compatible: #/properties/priority: property 'priority' added to a closed object",
        ),
        (
            "connection-record",
            add_open_record_property,
            1,
            "BREAKING: #/properties/device: property 'device' added to an open object",
        ),
    ],
    ids=[
        "required property added: breaking",
        "enum narrowed: breaking",
        "optional property on a closed inbound object: compatible",
        "property on an open outbound object: breaking",
    ],
)
def test_check_compat_judges_the_issue_cases(
    tmp_path: Path, contract: str, change: Any, status: int, verdict: str
) -> None:
    old, new = evolve(tmp_path, contract, change)
    done = sumu_contracts("check-compat", old, new)
    assert done.returncode == status, done.stdout
    assert verdict in done.stdout
