"""check-compat over synthetic schema folders and a throwaway git repository.

GIVEN an old and a new folder of schemas (only v1 of each contract exists today, so the evolutions
are made up here) WHEN check-compat compares them THEN it passes what is compatible under the
registry's mode, fails what breaks or what it cannot classify, and allows a new major version.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest
from hypothesis import given, settings
from hypothesis_jsonschema import from_schema
from sumu_contracts.cli import main
from sumu_contracts.evolution import compare, read_directory
from sumu_contracts.registry import SCHEMA_DIR

ORDER = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "urn:sumu:contract:order:v1",
    "title": "Order",
    "description": "A made-up inbound contract.",
    "type": "object",
    "properties": {"id": {"type": "string"}, "state": {"enum": ["open", "paid", "shipped"]}},
    "required": ["id"],
    "additionalProperties": False,
}
RECEIPT = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "urn:sumu:contract:receipt:v1",
    "title": "Receipt",
    "description": "A made-up outbound contract.",
    "type": "object",
    "properties": {"id": {"type": "string"}},
    "required": ["id"],
}
MODES = {"order": "BACKWARD", "receipt": "FULL"}


def schema_folder(folder: Path, schemas: dict[str, Any], modes: dict[str, str] = MODES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    contracts = {name: {"versions": [1], "compatibility": mode} for name, mode in modes.items()}
    (folder / "registry.json").write_text(json.dumps({"contracts": contracts}))
    for file, schema in schemas.items():
        (folder / file).write_text(json.dumps(schema))
    return folder


def evolved(schema: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**schema, **changes}


BASE = {"order.v1.schema.json": ORDER, "receipt.v1.schema.json": RECEIPT}


def check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, new: dict[str, Any], **kwargs: Any
) -> tuple[int, str]:
    old_folder = schema_folder(tmp_path / "old", BASE)
    new_folder = schema_folder(tmp_path / "new", new, **kwargs)
    status = main(["check-compat", str(old_folder), str(new_folder)])
    return status, capsys.readouterr().out


def test_the_real_schemas_have_no_change_against_themselves() -> None:
    report = compare(read_directory(SCHEMA_DIR), read_directory(SCHEMA_DIR))
    assert [file.summary for file in report.files] == ["unchanged"] * len(report.files)
    assert len(report.files) == len(list(SCHEMA_DIR.glob("*.schema.json")))


def test_identical_folders_pass(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out = check(capsys, tmp_path, BASE)
    assert status == 0
    assert (
        out.splitlines()[-1]
        == "2 schema file(s), 2 unchanged; changes: 0 compatible, 0 breaking, 0 cannot classify -> OK"
    )


def test_optional_property_on_closed_inbound_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    order = evolved(ORDER, properties={**ORDER["properties"], "note": {"type": "string"}})
    status, out = check(capsys, tmp_path, {**BASE, "order.v1.schema.json": order})
    assert status == 0
    assert "order.v1.schema.json [BACKWARD]: 1 change(s)" in out
    assert "compatible: #/properties/note: property 'note' added to a closed object" in out


def test_required_property_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    order = evolved(ORDER, required=["id", "state"])
    status, out = check(capsys, tmp_path, {**BASE, "order.v1.schema.json": order})
    assert status == 1
    assert "BREAKING: #/required: property 'state' is now required" in out
    assert out.rstrip().endswith("-> FAIL")


def test_narrowed_enum_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    order = evolved(ORDER, properties={**ORDER["properties"], "state": {"enum": ["open", "paid"]}})
    status, out = check(capsys, tmp_path, {**BASE, "order.v1.schema.json": order})
    assert status == 1
    assert """BREAKING: #/properties/state/enum: allowed values: removed ["shipped"]""" in out


def test_property_on_open_outbound_fails_full(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    receipt = evolved(RECEIPT, properties={**RECEIPT["properties"], "total": {"type": "number"}})
    status, out = check(capsys, tmp_path, {**BASE, "receipt.v1.schema.json": receipt})
    assert status == 1
    assert "receipt.v1.schema.json [FULL]" in out
    assert "BREAKING: #/properties/total: property 'total' added to an open object" in out


def test_breaking_change_as_a_new_major_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    order_v2 = evolved(ORDER, required=["id", "state"], **{"$id": "urn:sumu:contract:order:v2"})
    status, out = check(capsys, tmp_path, {**BASE, "order.v2.schema.json": order_v2})
    assert status == 0
    assert "order.v2.schema.json: new major version of an existing contract: allowed" in out


def test_removing_a_major_version_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    order_v2 = evolved(ORDER, **{"$id": "urn:sumu:contract:order:v2"})
    status, out = check(
        capsys, tmp_path, {"order.v2.schema.json": order_v2, "receipt.v1.schema.json": RECEIPT}
    )
    assert status == 1
    assert "order.v1.schema.json: major version file removed" in out


def test_new_contract_passes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    invoice = evolved(RECEIPT, **{"$id": "urn:sumu:contract:invoice:v1"})
    status, out = check(
        capsys,
        tmp_path,
        {**BASE, "invoice.v1.schema.json": invoice},
        modes={**MODES, "invoice": "FULL"},
    )
    assert status == 0
    assert "invoice.v1.schema.json: new contract: allowed" in out


ORDER_ID_A = evolved(ORDER, properties={"id": {"type": "string", "pattern": "^a"}})
ORDER_ID_B = evolved(ORDER, properties={"id": {"type": "string", "pattern": "^b"}})


# (old files, new files, registry modes for both, what the report says)
UNCLASSIFIABLE = [
    pytest.param(
        (
            {**BASE, "order.v1.schema.json": ORDER_ID_A},
            {**BASE, "order.v1.schema.json": ORDER_ID_B},
            MODES,
            "CANNOT CLASSIFY: #/properties/id/pattern",
        ),
        id="a changed pattern",
    ),
    pytest.param(
        (
            BASE,
            {**BASE, "Order.V1.json.schema.json": ORDER},
            MODES,
            "the file name is not <name>.v<major>.schema.json",
        ),
        id="a badly named file",
    ),
    pytest.param(
        (
            BASE,
            {**BASE, "order.v1.schema.json": evolved(ORDER, maxProperties=3)},
            {"receipt": "FULL"},
            "registry.json gives no compatibility mode for 'order'",
        ),
        id="no mode in the registry",
    ),
]


@pytest.mark.parametrize("case", UNCLASSIFIABLE)
def test_what_cannot_be_classified_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: tuple[Any, Any, Any, str]
) -> None:
    old, new, modes, expected = case
    old_folder = schema_folder(tmp_path / "old", old, modes=modes)
    new_folder = schema_folder(tmp_path / "new", new, modes=modes)
    status = main(["check-compat", str(old_folder), str(new_folder)])
    assert status == 1
    assert expected in capsys.readouterr().out


def test_loosening_the_mode_in_the_same_change_does_not_loosen_the_gate(tmp_path: Path) -> None:
    # GIVEN an outbound contract whose registry entry is relaxed to NONE in the same change
    old = schema_folder(tmp_path / "old", BASE)
    receipt = evolved(RECEIPT, required=["id", "total"])
    new = schema_folder(
        tmp_path / "new",
        {**BASE, "receipt.v1.schema.json": receipt},
        modes={**MODES, "receipt": "NONE"},
    )
    # WHEN compared THEN the old registry's FULL still applies
    report = compare(read_directory(old), read_directory(new))
    assert report.failed
    assert [file.mode for file in report.files if file.file == "receipt.v1.schema.json"] == ["FULL"]


@pytest.mark.parametrize(
    ("file", "content", "expected"),
    [
        ("order.v1.schema.json", b"{", "order.v1.schema.json is not JSON"),
        ("order.v1.schema.json", b'{"title": "\xff"}', "cannot read"),
        ("registry.json", b"[]", "registry.json has no contracts object"),
        (
            "registry.json",
            b'{"contracts": {"order": {"compatibility": "SIDEWAYS"}}}',
            "unknown compatibility mode 'SIDEWAYS'",
        ),
    ],
    ids=["broken JSON", "not UTF-8", "registry not an object", "unknown mode"],
)
def test_a_folder_that_cannot_be_read_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, file: str, content: bytes, expected: str
) -> None:
    old = schema_folder(tmp_path / "old", BASE)
    new = schema_folder(tmp_path / "new", BASE)
    (new / file).write_bytes(content)
    assert main(["check-compat", str(old), str(new)]) == 2
    assert expected in capsys.readouterr().err


# GIVEN an evolution the gate passes under BACKWARD WHEN an old writer's messages reach the new
# reader THEN they validate (the gate's verdict checked against real messages).
COMPATIBLE_ORDER = evolved(
    ORDER,
    properties={
        **ORDER["properties"],
        "state": {"enum": ["open", "paid", "shipped", "returned"]},
        "note": {"type": "string"},
    },
)


def test_compatible_order_evolution_passes_the_gate(tmp_path: Path) -> None:
    old = schema_folder(tmp_path / "old", BASE)
    new = schema_folder(tmp_path / "new", {**BASE, "order.v1.schema.json": COMPATIBLE_ORDER})
    assert not compare(read_directory(old), read_directory(new)).failed


@settings(max_examples=20)
@given(order=from_schema(ORDER))
def test_old_orders_are_valid_under_the_compatible_evolution(order: Any) -> None:
    fastjsonschema.compile(COMPATIBLE_ORDER)(order)


# --- --base GIT_REF ---------------------------------------------------------------------------

SCHEMAS_IN_REPOSITORY = Path("contracts/src/sumu_contracts/schemas")


def git(repository: Path, *arguments: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", *arguments],
        cwd=repository,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository with a README commit, then a commit adding the made-up schemas."""
    root = tmp_path / "repository"
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / "README.md").write_text("before contracts\n")
    git(root, "add", "README.md")
    git(root, "commit", "--quiet", "-m", "first")
    git(root, "tag", "before-contracts")
    schema_folder(root / SCHEMAS_IN_REPOSITORY, BASE)
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "contracts")
    return root


def check_base(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    repository: Path,
    *arguments: str,
) -> tuple[int, str, str]:
    monkeypatch.chdir(repository)
    status = main(["check-compat", *arguments])
    out, err = capsys.readouterr()
    return status, out, err


def test_base_ref_compares_with_the_working_tree(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, repository: Path
) -> None:
    (repository / SCHEMAS_IN_REPOSITORY / "order.v1.schema.json").write_text(
        json.dumps(evolved(ORDER, required=["id", "state"]))
    )
    status, out, _ = check_base(capsys, monkeypatch, repository, "--base", "main")
    assert status == 1
    assert out.startswith(
        f"check-compat: main:{SCHEMAS_IN_REPOSITORY} -> {repository / SCHEMAS_IN_REPOSITORY}"
    )
    assert "BREAKING: #/required: property 'state' is now required" in out


def test_base_ref_with_an_explicit_new_folder(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    repository: Path,
    tmp_path: Path,
) -> None:
    new = schema_folder(tmp_path / "elsewhere", {**BASE, "order.v1.schema.json": COMPATIBLE_ORDER})
    status, out, _ = check_base(capsys, monkeypatch, repository, "--base", "HEAD", str(new))
    assert status == 0
    assert out.rstrip().endswith("-> OK")


def test_base_ref_before_the_schemas_existed_sees_only_new_contracts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, repository: Path
) -> None:
    status, out, _ = check_base(capsys, monkeypatch, repository, "--base", "before-contracts")
    assert status == 0
    assert "order.v1.schema.json: new contract: allowed" in out


def test_missing_base_ref_exits_2_unless_allowed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, repository: Path
) -> None:
    status, out, err = check_base(capsys, monkeypatch, repository, "--base", "origin/main")
    assert (status, out) == (2, "")
    assert err == f"sumu-contracts: git ref 'origin/main' not found in {repository}\n"
    status, out, _ = check_base(
        capsys, monkeypatch, repository, "--base", "origin/main", "--allow-missing-base"
    )
    assert status == 0
    assert "nothing to compare (--allow-missing-base)" in out


def test_base_outside_a_git_repository_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    status, _, err = check_base(capsys, monkeypatch, outside, "--base", "main")
    assert status == 2
    assert "is not inside a git repository" in err
