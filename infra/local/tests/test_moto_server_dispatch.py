"""moto's server with sumu-local's cached listing of moto's own packages: the dispatcher picks
the same backend for every host, without listing moto's folder on each request."""

from __future__ import annotations

import os

import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from sumu_local.stack import moto_server

HOSTS = [
    None,
    "moto_api",
    "sqs",
    "dynamodb",
    "sns",
    "dynamodbstreams",
    "sqs.us-east-1.amazonaws.com",
    "dynamodb.us-east-1.amazonaws.com",
    "streams.dynamodb.us-east-1.amazonaws.com",
    "sns.eu-west-1.amazonaws.com",
    "lambda.us-east-1.amazonaws.com",
    "s3.amazonaws.com",
    "bucket.s3.amazonaws.com",
    "example.com",
    "__pycache__",
    "core",
]


def test_the_cached_listing_is_motos_own_in_the_same_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    original = list(moto_server._original_list_of_moto_modules())
    moto_server.cache_moto_modules()
    assert list(backends.list_of_moto_modules()) == original
    assert "sqs" in original
    assert "dynamodb" in original


@pytest.mark.parametrize("host", HOSTS)
def test_every_host_gets_the_same_backend(
    host: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatcher = DomainDispatcherApplication(create_backend_app)
    monkeypatch.setattr(
        backends, "list_of_moto_modules", moto_server._original_list_of_moto_modules
    )
    expected = dispatcher.get_backend_for_host(host)
    moto_server.cache_moto_modules()
    listed: list[str] = []

    def listdir(path: str) -> list[str]:
        listed.append(path)
        return []

    monkeypatch.setattr(os, "listdir", listdir)
    assert dispatcher.get_backend_for_host(host) == expected
    # and the answer came without listing moto's folder
    assert listed == []
