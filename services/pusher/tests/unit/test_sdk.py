"""The trimmed botocore data: the same as botocore's for the pusher's services, and clients built
on it resolve exactly the endpoints botocore's own data gives."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
from pathlib import Path

import pytest
from aiobotocore.session import get_session
from botocore import xform_name
from sumu_pusher import sdk


def test_the_trimmed_endpoints_match_the_installed_botocore():
    shipped = json.loads((sdk.DATA_DIR / "endpoints.json").read_text("utf-8"))
    # If this fails after a botocore upgrade: python -m sumu_pusher.sdk
    assert shipped == sdk.trimmed_endpoints(sdk.bundled_endpoints())


def test_the_trimmed_dynamodb_model_matches_the_installed_botocore():
    shipped = json.loads((sdk.DATA_DIR / sdk.DYNAMODB_MODEL).read_text("utf-8"))
    # If this fails after a botocore upgrade: python -m sumu_pusher.sdk
    assert shipped == sdk.trimmed_service_model(
        sdk.bundled_dynamodb_model(), sdk.DYNAMODB_OPERATIONS
    )


def test_every_dynamodb_operation_the_package_calls_is_in_the_trimmed_model():
    source = "\n".join(path.read_text("utf-8") for path in Path(sdk.__file__).parent.glob("*.py"))
    bundled = {xform_name(name) for name in sdk.bundled_dynamodb_model()["operations"]}
    called = {
        name
        for name in bundled
        if re.search(rf"\.{name}\(", source) or re.search(rf'_read_pages\(\s*"{name}"', source)
    }
    model = (
        sdk.new_session().get_component("data_loader").load_service_model("dynamodb", "service-2")
    )
    trimmed = {xform_name(name) for name in model["operations"]}
    # A new DynamoDB call: add its operation to sdk.DYNAMODB_OPERATIONS, python -m sumu_pusher.sdk
    assert called - trimmed == set()
    assert {"query", "scan", "batch_write_item", "delete_item"} <= called


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


def test_static_environment_credentials_are_read_like_botocores_env_provider():
    environ = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}
    assert sdk.environment_credentials(environ) == ("k", "s", "t", None)
    assert sdk.environment_credentials({**environ, "AWS_ACCOUNT_ID": "1"}) == ("k", "s", "t", "1")
    legacy = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SECURITY_TOKEN": "x"}
    assert sdk.environment_credentials(legacy) == ("k", "s", "x", None)


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"AWS_ACCESS_KEY_ID": "k"},
        # Expiring credentials need botocore's refreshing provider: the chain handles them.
        {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_CREDENTIAL_EXPIRATION": "x"},
    ],
)
def test_without_static_environment_credentials_botocores_chain_decides(environ):
    assert sdk.environment_credentials(environ) is None


def test_a_session_carries_the_environments_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)
    credentials = asyncio.run(sdk.new_session().get_credentials())
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        "key",
        "secret",
        None,
    )


def test_verifying_http_sessions_share_one_tls_context():
    first = sdk.SharedTLSContextSession(verify=True)._build_verify_context()
    second = sdk.SharedTLSContextSession(verify=True)._build_verify_context()
    assert first is second
    assert (first.check_hostname, first.verify_mode) == (True, ssl.CERT_REQUIRED)
    assert first.cert_store_stats()["x509_ca"] > 0
    unverified = sdk.SharedTLSContextSession(verify=False)._build_verify_context()
    assert unverified is not first
    assert unverified.verify_mode == ssl.CERT_NONE
