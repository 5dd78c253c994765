from __future__ import annotations

import pytest
from sumu_connections.store import new_connection_record
from sumu_contracts import ContractError


def test_the_item_stores_numbers_as_n_so_ttl_works():
    record = new_connection_record(
        user_id="alice",
        connection_id="c-1",
        connected_at_ms=1_795_000_000_999,
        ttl_seconds=7200,
        source_ip=None,
        user_agent="ua",
    )
    assert record.as_item() == {
        "user_id": {"S": "alice"},
        "connection_id": {"S": "c-1"},
        "connected_at": {"N": "1795000000999"},
        "delete_at": {"N": str(1_795_000_000 + 7200)},
        "user_agent": {"S": "ua"},
    }


def test_a_record_breaking_the_contract_is_not_built():
    with pytest.raises(ContractError):
        new_connection_record(
            user_id="u" * 1025,
            connection_id="c-1",
            connected_at_ms=0,
            ttl_seconds=1,
            source_ip=None,
            user_agent=None,
        )
