"""The trimmed botocore data: the same as botocore's for the pusher's services, and clients built
on it resolve exactly the endpoints botocore's own data gives."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiobotocore.session import get_session
from sumu_pusher import sdk


def test_the_trimmed_endpoints_match_the_installed_botocore():
    shipped = json.loads((sdk.DATA_DIR / "endpoints.json").read_text("utf-8"))
    # If this fails after a botocore upgrade: python -m sumu_pusher.sdk
    assert shipped == sdk.trimmed_endpoints(sdk.bundled_endpoints())


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1"])
@pytest.mark.parametrize("service", ["dynamodb", "sqs"])
def test_clients_resolve_the_same_endpoints_as_with_botocores_own_data(
    region, service, monkeypatch
):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")

    async def endpoint(session):
        async with session.create_client(service, region_name=region) as client:
            # The endpoint a request goes to (private, but the one place that shows the
            # ruleset's answer: a custom endpoints.json would feed it the legacy endpoint).
            request = await client._resolve_endpoint_ruleset(
                client.meta.service_model.operation_model(
                    "Query" if service == "dynamodb" else "ListQueues"
                ),
                {},
                {},
            )
            return client.meta.endpoint_url, client.meta.region_name, request[0]

    assert asyncio.run(endpoint(sdk.new_session())) == asyncio.run(endpoint(get_session()))


def test_the_loader_knows_only_the_pusher_services():
    assert sdk.new_session().get_component("data_loader").list_available_services("service-2") == [
        "apigatewaymanagementapi",
        "dynamodb",
        "sqs",
    ]
