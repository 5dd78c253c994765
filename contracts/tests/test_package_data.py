"""The schemas ship as package data: importlib.resources finds every one, as a backend would.

(The lead's cross-package tests open the built wheel; this checks the installed package.)
"""

from __future__ import annotations

import json
from importlib.resources import files

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
