"""Which TLS contexts the pusher builds: the CA bundle is loaded for https endpoints (the one a
botocore client would verify against) and never for a plain-http one, where no TLS happens."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.session import AioSession
from botocore.awsrequest import AWSRequest
from botocore.httpsession import get_cert_path
from sumu_pusher import sdk


def first_certificate(target: Path) -> Path:
    """A CA bundle holding one certificate of botocore's default bundle."""
    text = Path(get_cert_path(True)).read_text("ascii")
    end = "-----END CERTIFICATE-----"
    start = text.index("-----BEGIN CERTIFICATE-----")
    target.write_text(text[start : text.index(end, start) + len(end)] + "\n", "ascii")
    return target


def test_an_http_endpoint_needs_no_tls_context():
    assert sdk.verify_context_for("http://127.0.0.1:4510/mvp", AioSession()) is None


def test_an_https_endpoint_verifies_against_botocore_s_bundle():
    context = sdk.verify_context_for("https://abc.execute-api.eu-north-1.amazonaws.com/p", AioSession())  # fmt: skip
    assert context is not None
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert len(context.get_ca_certs()) > 100  # botocore's default bundle
    # the same context for every https endpoint and client of the process
    assert sdk.verify_context_for("https://other.example.com", AioSession()) is context


def test_the_session_s_ca_bundle_is_honoured(tmp_path, monkeypatch):
    # AWS_CA_BUNDLE is what a botocore client would verify against: so does the management API
    monkeypatch.setenv("AWS_CA_BUNDLE", str(first_certificate(tmp_path / "one.pem")))
    context = sdk.verify_context_for("https://ws.example.com/prod", AioSession())
    assert context is not None
    assert len(context.get_ca_certs()) == 1


@pytest.mark.parametrize(
    ("url", "roots_loaded"),
    [("http://127.0.0.1:9/", False), ("https://127.0.0.1:9/", True)],
)
def test_an_sdk_session_loads_the_bundle_only_for_a_first_request_over_https(url, roots_loaded):
    built: list[ssl.SSLContext] = []

    class Recording(sdk.SharedTLSContextSession):
        def _build_verify_context(self) -> ssl.SSLContext:
            context: ssl.SSLContext = super()._build_verify_context()
            built.append(context)
            return context

    async def first_request() -> None:
        async with Recording(verify=True, timeout=0.5) as session:
            request: Any = AWSRequest(method="GET", url=url).prepare()
            # No answer is needed (nothing listens / no network): the connector, and its TLS
            # context, are built before the request is sent.
            with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the network says
                await session.send(request)

    asyncio.run(first_request())
    assert len(built) == 1
    context = built[0]
    # Either way the context verifies; over plain http it trusts no root, so it would refuse
    # any TLS peer rather than accept one.
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert (len(context.get_ca_certs()) > 100) is roots_loaded
