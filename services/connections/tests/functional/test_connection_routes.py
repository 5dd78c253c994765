"""$connect and $disconnect against DynamoDB in moto server."""

from __future__ import annotations

from typing import Any

import pytest
from sumu_connections.handler import handler
from sumu_connections.settings import SettingsError
from sumu_contracts import validate


def plain(item: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A DynamoDB item as the connection-record contract shows it."""
    return {name: int(value["N"]) if "N" in value else value["S"] for name, value in item.items()}


def test_connect_stores_a_typed_connection_record(stack, events):
    # GIVEN a $connect that the authorizer allowed for alice
    event = events.connect(connection_id="conn-1", principal_id="alice")

    # WHEN the handler runs
    response = handler(event, None)

    # THEN the upgrade is accepted and one record is stored, numbers as N (so TTL works)
    assert response == {"statusCode": 200}
    [item] = stack.items()
    assert item == {
        "user_id": {"S": "alice"},
        "connection_id": {"S": "conn-1"},
        "connected_at": {"N": "1795000000000"},
        "delete_at": {"N": str(1_795_000_000 + 7200)},
        "source_ip": {"S": "203.0.113.7"},
        "user_agent": {"S": "sumu-tests/1.0"},
    }
    validate("connection-record", plain(item))


@pytest.mark.usefixtures("fresh_container")
def test_connect_ttl_follows_connection_ttl_seconds(stack, events, monkeypatch):
    # GIVEN a longer connection lifetime than the default
    monkeypatch.setenv("CONNECTION_TTL_SECONDS", "10800")

    # WHEN alice connects
    handler(events.connect(), None)

    # THEN the record expires 10800 s after the connection opened
    [item] = stack.items()
    assert item["delete_at"] == {"N": str(1_795_000_000 + 10800)}


@pytest.mark.usefixtures("fresh_container")
def test_connect_with_a_short_ttl_allowed_for_emulation(stack, events, monkeypatch):
    # GIVEN the local-only opt-out and a 2 s lifetime (the local stack's TTL tests)
    monkeypatch.setenv("CONNECTION_TTL_SECONDS", "2")
    monkeypatch.setenv("CONNECTION_TTL_ALLOW_SHORT", "true")

    # WHEN alice connects
    handler(events.connect(), None)

    # THEN the record expires 2 s after the connection opened
    [item] = stack.items()
    assert item["delete_at"] == {"N": str(1_795_000_000 + 2)}


def test_connect_without_connected_at_uses_the_request_time(stack, events):
    # GIVEN an event without connectedAt (the local gateway may omit it)
    event = events.connect(connected_at_ms=None, request_time_ms=1_795_000_100_999)

    # WHEN the handler runs
    handler(event, None)

    # THEN the request time stands in for it
    [item] = stack.items()
    assert item["connected_at"] == {"N": "1795000100999"}
    assert item["delete_at"] == {"N": str(1_795_000_100 + 7200)}


def test_connect_without_a_principal_is_refused_and_stores_nothing(stack, events):
    # GIVEN a $connect that no authorizer vouched for
    event = events.connect(principal_id=None)

    # WHEN the handler runs
    response = handler(event, None)

    # THEN the upgrade is refused and the table stays empty
    assert response["statusCode"] == 401
    assert stack.items() == []


def test_connect_with_an_oversized_principal_is_refused(stack, events):
    # GIVEN a principalId longer than the connection-record contract allows
    event = events.connect(principal_id="u" * 1025)

    # WHEN the handler runs
    response = handler(event, None)

    # THEN the upgrade is refused, nothing stored
    assert response["statusCode"] == 403
    assert stack.items() == []


def test_disconnect_deletes_the_record_and_is_idempotent(stack, events):
    # GIVEN alice connected twice (two devices)
    handler(events.connect(connection_id="conn-1"), None)
    handler(events.connect(connection_id="conn-2"), None)

    # WHEN conn-1 disconnects, twice (a retry), with the replayed authorizer context
    first = handler(events.disconnect(connection_id="conn-1"), None)
    second = handler(events.disconnect(connection_id="conn-1"), None)

    # THEN only conn-1's record is gone and both answers are 200
    assert first == second == {"statusCode": 200}
    assert [item["connection_id"]["S"] for item in stack.items()] == ["conn-2"]


def test_disconnect_of_an_already_pruned_record_is_fine(stack, events):
    # GIVEN no record (expired by TTL or pruned by the pusher after a 410)
    # WHEN the connection closes
    response = handler(events.disconnect(connection_id="gone"), None)

    # THEN nothing fails
    assert response == {"statusCode": 200}


def test_disconnect_without_a_principal_logs_and_answers(stack, events, service_logs):
    # GIVEN a $disconnect event without the authorizer context
    handler(events.connect(), None)

    # WHEN the handler runs
    response = handler(events.disconnect(principal_id=None), None)

    # THEN it answers 200, keeps the record (its key is unknown) and says so in a JSON log line
    assert response == {"statusCode": 200}
    assert len(stack.items()) == 1
    [line] = service_logs()
    assert line["event"] == "disconnect_unkeyed"


def test_missing_table_variable_fails_with_its_name(aws_env, events, monkeypatch, fresh_container):
    # GIVEN a deployment without CONNECTIONS_TABLE_NAME
    monkeypatch.delenv("CONNECTIONS_TABLE_NAME", raising=False)

    # WHEN the first event arrives
    # THEN the error names the variable
    with pytest.raises(SettingsError, match="CONNECTIONS_TABLE_NAME"):
        handler(events.connect(), None)
