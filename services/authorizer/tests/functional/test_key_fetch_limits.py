"""A hostile or broken key endpoint on 127.0.0.1 cannot hold a $connect: one deadline, one origin.

Every server here is a real HTTP server thread (conftest.JwksServer) that misbehaves on request,
each misbehaviour bounded by conftest.HOSTILE_SECONDS, so a client without the limit fails the
test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from sumu_authorizer import key_source
from sumu_authorizer.authorizer import Authorizer
from sumu_authorizer.key_source import MAX_DOCUMENT_BYTES, FetchError, fetch_json
from sumu_authorizer.key_store import KeySourceConfig, KeyStore
from sumu_authorizer.settings import load_settings
from sumu_contracts import validate

from ..conftest import (
    AUDIENCE,
    HOSTILE_SECONDS,
    JwksServer,
    Mint,
    SigningKey,
    certificate_pem,
    connect_event,
    running_jwks_server,
)

DEADLINE = 0.5  # seconds given to the whole fetch in these tests
SLACK = 1.0  # what a loaded 2-core CI machine may add to it


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def timed_fetch(url: str, timeout: float = DEADLINE) -> tuple[FetchError, float]:
    started = time.monotonic()
    with pytest.raises(FetchError) as failed:
        fetch_json(url, timeout=timeout)
    return failed.value, time.monotonic() - started


# --- one deadline for the whole fetch ------------------------------------------------------------


@pytest.mark.parametrize("interval", [0.05, 0.2])
def test_a_slow_loris_answer_is_cut_at_the_deadline(
    jwks_server: JwksServer, interval: float
) -> None:
    # GIVEN a key endpoint that sends its (valid) answer a byte at a time, each byte well within
    # any per-read socket timeout, status line and headers included
    jwks_server.dribble_interval = interval
    # WHEN the keys are fetched with a 0.5 s deadline
    error, elapsed = timed_fetch(jwks_server.jwks_url)
    # THEN the fetch gives up at the deadline, not when the server is done dribbling
    assert "took longer than" in str(error)
    assert elapsed < DEADLINE + SLACK


def test_the_issue_s_slow_loris_holds_a_connect_no_longer_than_the_default_deadline(
    jwks_server: JwksServer,
) -> None:
    # GIVEN the endpoint of the issue: one byte every half second
    jwks_server.dribble_interval = 0.5
    # WHEN the keys are fetched with the authorizer's default deadline (2 s)
    started = time.monotonic()
    with pytest.raises(FetchError, match="took longer than"):
        fetch_json(jwks_server.jwks_url)
    # THEN the fetch is over within the 2 s, where it used to wait for minutes
    assert time.monotonic() - started < 2.0 + SLACK


def test_a_body_dribbled_after_prompt_headers_is_cut_at_the_deadline(
    jwks_server: JwksServer,
) -> None:
    # GIVEN headers sent at once, then a body longer than the deadline allows at this rate
    jwks_server.dribble_interval = 0.01
    jwks_server.body_override = b'{"keys": []}' + b" " * 500  # ~5 s at 10 ms a byte
    error, elapsed = timed_fetch(jwks_server.jwks_url)
    assert "took longer than" in str(error)
    assert elapsed < DEADLINE + SLACK


# --- redirects stay on the origin ----------------------------------------------------------------


def test_a_redirect_to_another_port_is_refused(
    jwks_server: JwksServer, other_jwks_server: JwksServer
) -> None:
    # GIVEN a key endpoint that redirects to a valid JWKS on another origin
    jwks_server.redirect_to = other_jwks_server.jwks_url
    # WHEN the keys are fetched THEN the redirect is refused and the other origin never asked
    error, _ = timed_fetch(jwks_server.jwks_url)
    assert "redirect" in str(error)
    assert other_jwks_server.requests == []


@pytest.mark.parametrize(
    "target",
    [
        "http://localhost:{port}/moved/jwks.json",  # another host name for the same socket
        "https://127.0.0.1:{port}/moved/jwks.json",  # another scheme
        "ftp://127.0.0.1:{port}/moved/jwks.json",
        "file:///etc/passwd",
    ],
)
def test_a_redirect_to_another_host_or_scheme_is_refused(
    jwks_server: JwksServer, target: str
) -> None:
    port = jwks_server.base_url.rsplit(":", 1)[1]
    jwks_server.redirect_to = target.format(port=port)
    error, _ = timed_fetch(jwks_server.jwks_url)
    assert "redirect" in str(error)
    assert jwks_server.count("/moved/jwks.json") == 0


@pytest.mark.parametrize("relative", [False, True])
def test_a_redirect_on_the_same_origin_is_followed(jwks_server: JwksServer, relative: bool) -> None:
    jwks_server.redirect_to = (
        "/moved/jwks.json" if relative else f"{jwks_server.base_url}/moved/jwks.json"
    )
    fetched = fetch_json(jwks_server.jwks_url, timeout=DEADLINE)
    assert isinstance(fetched.document, dict)
    assert len(fetched.document["keys"]) == len(jwks_server.published)
    assert jwks_server.count("/moved/jwks.json") == 1


# --- size cap ------------------------------------------------------------------------------------


def test_a_declared_oversized_body_is_refused_from_its_headers(jwks_server: JwksServer) -> None:
    # GIVEN an answer announcing 2 MiB, whose body never comes
    jwks_server.declared_length = 2 * MAX_DOCUMENT_BYTES
    # WHEN the keys are fetched with a generous deadline
    error, elapsed = timed_fetch(jwks_server.jwks_url, timeout=5.0)
    # THEN it is refused on its Content-Length, without waiting for (or reading) the body
    assert f"larger than {MAX_DOCUMENT_BYTES} bytes" in str(error)
    assert elapsed < SLACK


def test_an_oversized_body_without_a_declared_length_is_cut_at_the_cap(
    jwks_server: JwksServer,
) -> None:
    # A regression guard (this one held before the deadline work too): the cap also applies to
    # a body whose length is only known at its end.
    jwks_server.send_length = False
    jwks_server.body_override = b'{"keys": [' + b" " * (2 * MAX_DOCUMENT_BYTES) + b"]}"
    error, _ = timed_fetch(jwks_server.jwks_url, timeout=5.0)
    assert f"larger than {MAX_DOCUMENT_BYTES} bytes" in str(error)


def test_a_body_without_a_declared_length_is_read_to_its_end(jwks_server: JwksServer) -> None:
    jwks_server.send_length = False
    fetched = fetch_json(jwks_server.jwks_url, timeout=5.0)
    assert isinstance(fetched.document, dict)
    assert len(fetched.document["keys"]) == len(jwks_server.published)


def test_a_body_shorter_than_its_declared_length_is_a_fetch_error(
    jwks_server: JwksServer,
) -> None:
    jwks_server.declared_length = 100  # headers promise 100 bytes, then the server goes away
    jwks_server.stopped.set()  # ... at once
    error, _ = timed_fetch(jwks_server.jwks_url, timeout=5.0)
    assert "IncompleteRead" in str(error)


# --- through the key store: the last good keys keep serving --------------------------------------


def container(jwks_server: JwksServer) -> tuple[Authorizer, FakeClock]:
    clock = FakeClock()
    settings = load_settings(
        {
            "JWT_ISSUER_JWKS_URI": jwks_server.jwks_url,
            "JWT_ISSUER": jwks_server.base_url,
            "JWT_AUTHORIZED_AUDIENCES": AUDIENCE,
        }
    )
    store = KeyStore(
        KeySourceConfig(settings.jwks_uri, settings.issuer),
        fetch=functools.partial(fetch_json, timeout=DEADLINE),
        clock=clock,
    )
    return Authorizer(settings, key_store=store), clock


def effect(authorizer: Authorizer, token: str) -> str:
    response = authorizer.authorize(connect_event(token))
    validate("authorizer-response", response)
    return str(response["policyDocument"]["Statement"][0]["Effect"])


@pytest.mark.parametrize("failure", ["slow loris", "redirect elsewhere", "oversized"])
def test_a_hostile_refresh_keeps_the_last_good_keys_and_answers_in_time(
    jwks_server: JwksServer,
    other_jwks_server: JwksServer,
    mint: Mint,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    # GIVEN a container that holds good keys
    authorizer, clock = container(jwks_server)
    assert effect(authorizer, mint()) == "Allow"
    # WHEN the keys go stale and the endpoint turns hostile
    if failure == "slow loris":
        jwks_server.dribble_interval = 0.05
    elif failure == "redirect elsewhere":
        jwks_server.redirect_to = other_jwks_server.jwks_url
    else:
        jwks_server.declared_length = 2 * MAX_DOCUMENT_BYTES
    clock.now += 3601
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="sumu_authorizer"):
        decision = effect(authorizer, mint())
    # THEN the $connect is answered within the deadline, with the last good keys
    assert decision == "Allow"
    assert time.monotonic() - started < DEADLINE + SLACK
    assert [json.loads(record.getMessage())["event"] for record in caplog.records] == [
        "jwks_fetch_failed"
    ]


def test_without_good_keys_a_slow_loris_denies_within_the_deadline(
    jwks_server: JwksServer, mint: Mint
) -> None:
    jwks_server.dribble_interval = 0.05
    authorizer, _ = container(jwks_server)
    started = time.monotonic()
    assert effect(authorizer, mint()) == "Deny"
    assert time.monotonic() - started < DEADLINE + SLACK


# --- https: the TLS handshake is inside the deadline, and certificates are verified --------------


@contextlib.contextmanager
def tls_listener(
    tmp_path: Path, key: SigningKey | None = None
) -> Iterator[tuple[socket.socket, str]]:
    """A listening socket on 127.0.0.1; with ``key``, an HTTPS server with a self-signed cert."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.settimeout(HOSTILE_SECONDS)
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/.well-known/jwks.json"
        if key is None:
            yield listener, url  # accepts (the kernel does) and never says a word
            return
        (tmp_path / "cert.pem").write_text(certificate_pem(key.key))
        (tmp_path / "key.pem").write_bytes(key.key.as_pem(private=True))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

        def handshake_once() -> None:
            with contextlib.suppress(OSError):
                connection, _ = listener.accept()
                with connection, context.wrap_socket(connection, server_side=True):
                    pass

        server = threading.Thread(target=handshake_once, daemon=True)
        server.start()
        yield listener, url
        server.join(timeout=HOSTILE_SECONDS)


def test_an_https_endpoint_that_never_completes_the_handshake_is_cut_at_the_deadline(
    tmp_path: Path,
) -> None:
    with tls_listener(tmp_path) as (_, url):
        error, elapsed = timed_fetch(url)
    assert "took longer than" in str(error)
    assert elapsed < DEADLINE + SLACK


def test_an_https_endpoint_with_an_untrusted_certificate_is_refused(
    tmp_path: Path, keys: dict[str, SigningKey]
) -> None:
    with tls_listener(tmp_path, keys["rsa"]) as (_, url):
        error, _ = timed_fetch(url, timeout=5.0)
    assert "CERTIFICATE_VERIFY_FAILED" in str(error)


def localhost_tls(tmp_path: Path, key: SigningKey) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 and the certificate a client must trust for it."""
    private = key.key.raw_value
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(private, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.key.as_pem(private=True))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return server, tmp_path / "cert.pem"


def test_an_https_jwks_is_fetched_and_loading_the_ca_bundle_is_not_the_endpoint_s_time(
    tmp_path: Path, keys: dict[str, SigningKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an https key endpoint, and a CA bundle that takes longer to load than the deadline
    # (Lambda loads ~150 certificates; here a stand-in that trusts our one and sleeps)
    server_context, certificate = localhost_tls(tmp_path, keys["rsa"])

    @functools.cache
    def slow_tls_context(ca_certs: str | None = None) -> ssl.SSLContext:
        time.sleep(DEADLINE + 0.2)
        return ssl.create_default_context(cafile=str(certificate))

    monkeypatch.setattr(key_source, "tls_context", slow_tls_context)
    with running_jwks_server(keys, tls=server_context) as server:
        # WHEN the keys are fetched with the 0.5 s deadline
        fetched = fetch_json(server.jwks_url, timeout=DEADLINE)
    # THEN they arrive, verified: the deadline bounds the endpoint, not our own set-up
    assert isinstance(fetched.document, dict)
    assert len(fetched.document["keys"]) == len(server.published)
