"""check-compat and the changes a schema diff cannot see or cannot prove (registry declarations).

GIVEN a change of meaning with the same accepted set (a description edit), or a property added to
an open object that no earlier producer ever wrote, WHEN check-compat compares the folders THEN
the first is reported as a SEMANTIC change when registry.json declares it (and described as
"annotation only" otherwise), and the second passes FULL only when the registry declares that
no producer of the earlier version wrote that name.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sumu_contracts.cli import main
from sumu_contracts.compat import Verdict
from sumu_contracts.evolution import compare, read_directory
from sumu_contracts.registry import SCHEMA_DIR

ORDER: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "urn:sumu:contract:order:v1",
    "title": "Order",
    "description": "A made-up inbound contract.",
    "type": "object",
    "properties": {"id": {"type": "string", "description": "The order."}},
    "required": ["id"],
    "additionalProperties": False,
}
RECEIPT: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "urn:sumu:contract:receipt:v1",
    "title": "Receipt",
    "description": "A made-up outbound contract.",
    "type": "object",
    "properties": {"id": {"type": "string"}},
    "required": ["id"],
}
MODES = {"order": "BACKWARD", "receipt": "FULL"}
BASE = {"order.v1.schema.json": ORDER, "receipt.v1.schema.json": RECEIPT}


def schema_folder(folder: Path, schemas: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    contracts = {name: {"versions": [1], "compatibility": mode} for name, mode in MODES.items()}
    (folder / "registry.json").write_text(json.dumps({"contracts": contracts}))
    for file, schema in schemas.items():
        (folder / file).write_text(json.dumps(schema))
    return folder


def evolved(schema: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**schema, **changes}


USERS_SEMANTIC = {
    "since": "0.2.0",
    "kind": "semantic",
    "location": "#/properties/id",
    "note": "an empty id now means nothing",
}


def with_declarations(folder: Path, contract: str, declarations: list[dict[str, str]]) -> None:
    registry = json.loads((folder / "registry.json").read_text())
    registry["contracts"][contract]["declared_changes"] = declarations
    (folder / "registry.json").write_text(json.dumps(registry))


def run(capsys: pytest.CaptureFixture[str], old: Path, new: Path) -> tuple[int, str]:
    status = main(["check-compat", str(old), str(new)])
    return status, capsys.readouterr().out


def test_an_undeclared_description_edit_is_annotation_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reworded = copy.deepcopy(ORDER)
    reworded["properties"]["id"]["description"] = "Reworded."
    old = schema_folder(tmp_path / "old", BASE)
    new = schema_folder(tmp_path / "new", {**BASE, "order.v1.schema.json": reworded})

    status, out = run(capsys, old, new)

    assert status == 0
    assert "annotation only: the same messages validate" in out
    assert "declared_changes" in out  # says how to declare a change of meaning


def test_a_declared_semantic_change_is_reported_as_such(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reworded = copy.deepcopy(ORDER)
    reworded["properties"]["id"]["description"] = "An empty id means nothing."
    old = schema_folder(tmp_path / "old", BASE)
    new = schema_folder(tmp_path / "new", {**BASE, "order.v1.schema.json": reworded})
    with_declarations(new, "order", [USERS_SEMANTIC])

    status, out = run(capsys, old, new)

    assert status == 0
    assert "SEMANTIC CHANGE: #/properties/id: since 0.2.0: an empty id now means nothing" in out
    assert "1 semantic change" in out.splitlines()[-1]


def test_a_semantic_declaration_already_in_the_old_registry_is_not_news(tmp_path: Path) -> None:
    old = schema_folder(tmp_path / "old", BASE)
    new = schema_folder(tmp_path / "new", BASE)
    with_declarations(old, "order", [USERS_SEMANTIC])
    with_declarations(new, "order", [USERS_SEMANTIC])

    report = compare(read_directory(old), read_directory(new))

    assert report.count(Verdict.SEMANTIC) == 0


OPEN_ADDITION = evolved(
    RECEIPT,
    properties={"id": {"type": "string"}, "total": {"type": "string", "pattern": "^[0-9]+$"}},
)
NEVER_WRITTEN = {
    "since": "0.2.0",
    "kind": "member-never-written",
    "location": "#/properties/total",
    "note": "no receipt producer wrote total before",
}


def test_a_property_added_to_an_open_object_breaks_full_without_a_declaration(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old = schema_folder(tmp_path / "old", BASE)
    new = schema_folder(tmp_path / "new", {**BASE, "receipt.v1.schema.json": OPEN_ADDITION})

    status, out = run(capsys, old, new)

    assert status == 1
    assert "BREAKING: #/properties/total" in out


def test_a_property_added_to_an_open_object_passes_full_when_never_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old = schema_folder(tmp_path / "old", BASE)
    new = schema_folder(tmp_path / "new", {**BASE, "receipt.v1.schema.json": OPEN_ADDITION})
    with_declarations(new, "receipt", [NEVER_WRITTEN])

    status, out = run(capsys, old, new)

    assert status == 0
    assert "compatible: #/properties/total" in out
    assert "no receipt producer wrote total before" in out


def test_a_never_written_declaration_does_not_excuse_another_change(tmp_path: Path) -> None:
    # The declaration covers an added property only: a tightened existing one still breaks.
    tightened = evolved(RECEIPT, properties={"id": {"type": "string", "minLength": 3}})
    old = schema_folder(tmp_path / "old", BASE)
    new = schema_folder(tmp_path / "new", {**BASE, "receipt.v1.schema.json": tightened})
    with_declarations(new, "receipt", [{**NEVER_WRITTEN, "location": "#/properties/id"}])

    report = compare(read_directory(old), read_directory(new))

    assert report.failed


def test_issue_13_changes_to_the_real_contracts_are_classified(tmp_path: Path) -> None:
    """The 0.1.0 schemas (the real ones minus this release's edits) -> the real ones."""
    old = tmp_path / "old"
    shutil.copytree(SCHEMA_DIR, old)
    registry = json.loads((old / "registry.json").read_text())
    for entry in registry["contracts"].values():
        entry.pop("declared_changes", None)
    (old / "registry.json").write_text(json.dumps(registry))
    presence_path = old / "presence-event.v1.schema.json"
    presence: dict[str, Any] = json.loads(presence_path.read_text())
    del presence["properties"]["body"]["properties"]["message"]["properties"]["sequence_number"]
    presence_path.write_text(json.dumps(presence))

    report = compare(read_directory(old), read_directory(SCHEMA_DIR))

    assert not report.failed
    semantic = [
        (file.file, judgement.change.location)
        for file in report.files
        for judgement in file.judgements
        if judgement.verdict is Verdict.SEMANTIC
    ]
    assert semantic == [("notification-request.v1.schema.json", "#/properties/users")]
    presence_report = next(f for f in report.files if f.file == "presence-event.v1.schema.json")
    assert [j.verdict for j in presence_report.judgements] == [Verdict.COMPATIBLE]
    assert "sequence_number" in presence_report.judgements[0].change.location
