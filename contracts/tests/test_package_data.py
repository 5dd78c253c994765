"""The schemas ship as package data: importlib.resources finds every one, as a backend would.

(The lead's cross-package tests open the built wheel; this checks the installed package.)
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from sumu_contracts import CONTRACT_NAMES, contract_info, load_schema


def test_every_schema_and_the_registry_are_package_resources() -> None:
    schemas = files("sumu_contracts") / "schemas"
    names = {resource.name for resource in schemas.iterdir()}
    assert "registry.json" in names
    for contract in CONTRACT_NAMES:
        for version in contract_info(contract)["versions"]:
            resource = schemas / f"{contract}.v{version}.schema.json"
            assert resource.name in names
            assert json.loads(resource.read_text("utf-8")) == load_schema(f"{contract}.v{version}")
            assert (schemas / f"{contract}.v{version}.examples.json").is_file()


def test_the_package_is_typed() -> None:
    assert (files("sumu_contracts") / "py.typed").is_file()


def test_every_precompiled_validator_is_its_schemas_own() -> None:
    """After a schema edit: python -m sumu_contracts.precompile (then ruff format contracts)."""
    from sumu_contracts import precompile  # noqa: PLC0415
    from sumu_contracts.registry import CONTRACT_NAMES, contract_info  # noqa: PLC0415
    from sumu_contracts.validation import _precompiled  # noqa: PLC0415

    for name in CONTRACT_NAMES:
        for version in contract_info(name)["versions"]:
            assert _precompiled(f"{name}.v{version}") is not None, (
                f"{name}.v{version}: precompiled validator missing or stale"
            )
    assert precompile.function_name("urn:sumu:contract:client-frame:v1") == (
        "validate_urn_sumu_contract_client_frame_v1"
    )


def test_a_stale_precompiled_validator_is_not_used(monkeypatch: Any) -> None:
    import sumu_contracts.precompiled.client_frame_v1 as module  # noqa: PLC0415
    from sumu_contracts import validation  # noqa: PLC0415

    monkeypatch.setattr(module, "SCHEMA_SHA256", "0" * 64)
    assert validation._precompiled("client-frame.v1") is None
