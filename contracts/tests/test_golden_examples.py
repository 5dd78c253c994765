"""GIVEN the golden examples beside each schema WHEN validated THEN each is what it says it is."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sumu_contracts import CONTRACT_NAMES, ContractError, is_valid, validate
from sumu_contracts.registry import SCHEMA_DIR


def _examples(kind: str) -> list[Any]:
    cases = []
    for name in CONTRACT_NAMES:
        examples = json.loads((SCHEMA_DIR / f"{name}.v1.examples.json").read_text("utf-8"))
        cases += [
            pytest.param(name, example, id=f"{name}: {example['name']}")
            for example in examples[kind]
        ]
    return cases


@pytest.mark.parametrize(("contract", "example"), _examples("valid"))
def test_valid_example_validates(contract: str, example: dict[str, Any]) -> None:
    validate(contract, example["payload"])
    assert is_valid(contract, example["payload"])


@pytest.mark.parametrize(("contract", "example"), _examples("invalid"))
def test_invalid_example_is_rejected_with_its_pointer_and_reason(
    contract: str, example: dict[str, Any]
) -> None:
    with pytest.raises(ContractError) as raised:
        validate(contract, example["payload"])
    assert raised.value.pointer == example["pointer"]
    assert raised.value.reason == example["reason"]
    assert not is_valid(contract, example["payload"])


def test_every_contract_has_golden_examples_of_both_kinds() -> None:
    for name in CONTRACT_NAMES:
        examples = json.loads((SCHEMA_DIR / f"{name}.v1.examples.json").read_text("utf-8"))
        assert examples["valid"], name
        assert examples["invalid"], name


def test_the_size_limit_counts_utf8_bytes_not_ascii_escapes() -> None:
    # GIVEN data of 65,000 unicorns: 260,000 bytes of UTF-8, but 780,000 once ASCII-escaped
    near_limit = {"data": "🦄" * 65_000}
    # WHEN validated THEN it fits the 256 KiB limit of notification-request
    validate("notification-request", near_limit)
    # AND one more kilobyte does not
    with pytest.raises(ContractError, match="over the limit of 262144"):
        validate("notification-request", {"data": "🦄" * 65_600})


def test_a_lone_surrogate_is_measured_not_a_crash() -> None:
    # GIVEN data holding a lone surrogate (valid JSON text "\ud800", no UTF-8 form)
    payload = {"data": "\ud800"}
    # WHEN validated THEN it is valid, counted as its JSON escape
    validate("notification-request", payload)
    assert is_valid("notification-request", {"data": "\ud800" * 50_000}) is False
