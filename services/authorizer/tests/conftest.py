"""Fixtures: generated signing keys, a real JWKS server on 127.0.0.1, token and event factories."""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519
from cryptography.x509.oid import NameOID
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey
from joserfc.jws import JWSRegistry
from sumu_authorizer import handler as handler_module

HOSTILE_SECONDS = 10.0  # the longest a misbehaving answer below may last, whoever is waiting
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/mvp/$connect"
AUDIENCE = "sumu-test-client"


@dataclass(frozen=True)
class SigningKey:
    kid: str | None
    alg: str
    key: Key


def _signing_keys() -> dict[str, SigningKey]:
    return {
        "rsa": SigningKey("rsa-1", "RS256", RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})),
        "rsa-next": SigningKey(
            "rsa-2", "RS256", RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})
        ),
        "ec": SigningKey("ec-1", "ES256", ECKey.generate_key("P-256", parameters={"kid": "ec-1"})),
        "ec384": SigningKey(
            "ec-2", "ES384", ECKey.generate_key("P-384", parameters={"kid": "ec-2"})
        ),
        "ed25519": SigningKey(
            "ed-1", "EdDSA", OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"})
        ),
    }


_KEYS = _signing_keys()  # RSA generation is slow; one set per test session is plenty


@pytest.fixture(scope="session")
def keys() -> dict[str, SigningKey]:
    return _KEYS


def certificate_pem(key: Key) -> str:
    """A self-signed certificate for ``key``, as Firebase publishes them."""
    private = key.raw_value
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sumu-test")])
    now = datetime.datetime.now(datetime.UTC)
    digest = (
        None
        if isinstance(private, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
        else hashes.SHA256()
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(private, digest)
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def public_jwk(key: SigningKey) -> dict[str, object]:
    jwk: dict[str, object] = {**key.key.as_dict(private=False), "use": "sig"}
    jwk.pop("kid", None)
    return jwk if key.kid is None else jwk | {"kid": key.kid}


@dataclass
class JwksServer:
    """A JWKS / Firebase x509 / openid-configuration server that tests can rotate or break."""

    base_url: str = ""
    published: list[SigningKey] = field(default_factory=list)
    status: int = 200
    cache_control: str | None = "public, max-age=3600"
    delay_seconds: float = 0.0
    body_override: bytes | None = None
    requests: list[str] = field(default_factory=list)
    openid_issuer: str | None = None  # issuer named in the openid-configuration (default: base_url)
    # Hostile key endpoints, each bounded by HOSTILE_SECONDS and by the fixture's end:
    dribble_interval: float = 0.0  # > 0: the whole answer, status line first, a byte at a time
    redirect_to: str | None = None  # the JWKS path answers 302 to this URL
    declared_length: int | None = None  # announce this Content-Length, send no body, and wait
    send_length: bool = True  # False: no Content-Length, the body ends when the connection does
    stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/.well-known/jwks.json"

    @property
    def x509_url(self) -> str:
        return f"{self.base_url}/x509"

    def count(self, path: str) -> int:
        return sum(1 for requested in self.requests if requested == path)

    def document(self, path: str) -> object:
        if path in {"/.well-known/jwks.json", "/moved/jwks.json"}:
            return {"keys": [public_jwk(key) for key in self.published]}
        if path == "/x509":
            return {key.kid: certificate_pem(key.key) for key in self.published}
        if path == "/.well-known/openid-configuration":
            return {"issuer": self.openid_issuer or self.base_url, "jwks_uri": self.jwks_url}
        return None


def _request_handler(server_state: JwksServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server_state.requests.append(self.path)
            if server_state.delay_seconds:
                time.sleep(server_state.delay_seconds)
            document = server_state.document(self.path)
            if server_state.status != 200 or document is None:
                self.send_response(server_state.status if document is not None else 404)
                self.end_headers()
                return
            body = server_state.body_override or json.dumps(document).encode()
            if server_state.redirect_to and self.path == "/.well-known/jwks.json":
                self.send_response(302)
                self.send_header("Location", server_state.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if server_state.dribble_interval:
                self._dribble(body)
                return
            if server_state.declared_length is not None:
                self.send_response(200)
                self.send_header("Content-Length", str(server_state.declared_length))
                self.end_headers()
                server_state.stopped.wait(HOSTILE_SECONDS)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if server_state.send_length:
                self.send_header("Content-Length", str(len(body)))
            if server_state.cache_control:
                self.send_header("Cache-Control", server_state.cache_control)
            self.end_headers()
            self.wfile.write(body)

        def _dribble(self, body: bytes) -> None:
            """A slow loris: a valid answer, one byte every dribble_interval seconds."""
            self.close_connection = True
            answer = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            give_up_at = time.monotonic() + HOSTILE_SECONDS
            for index in range(len(answer)):
                if server_state.stopped.is_set() or time.monotonic() > give_up_at:
                    return
                try:
                    self.wfile.write(answer[index : index + 1])
                except OSError:  # the client gave up: what the authorizer must do
                    return
                server_state.stopped.wait(server_state.dribble_interval)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def running_jwks_server(
    keys: dict[str, SigningKey], tls: ssl.SSLContext | None = None
) -> Iterator[JwksServer]:
    """The key server on 127.0.0.1; with ``tls`` (a server context), over https."""
    state = JwksServer(published=[keys["rsa"], keys["ec"], keys["ec384"], keys["ed25519"]])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _request_handler(state))
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "http" if tls is None else "https"
    state.base_url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        state.stopped.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def jwks_server(keys: dict[str, SigningKey]) -> Iterator[JwksServer]:
    with running_jwks_server(keys) as server:
        yield server


@pytest.fixture
def other_jwks_server(keys: dict[str, SigningKey]) -> Iterator[JwksServer]:
    """A second key endpoint: another origin (its own port on 127.0.0.1)."""
    with running_jwks_server(keys) as server:
        yield server


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def standard_claims(jwks_server: JwksServer, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": jwks_server.base_url,
        "sub": "alice",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def sign_raw(header: dict[str, object], claims: dict[str, object], key: Key) -> str:
    """A compact JWS over any header (joserfc's serializer refuses headers we must test with)."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    algorithm = JWSRegistry.algorithms[str(header["alg"])]
    return f"{signing_input}.{b64url(algorithm.sign(signing_input.encode(), key))}"


Mint = Callable[..., str]


@pytest.fixture
def mint(jwks_server: JwksServer, keys: dict[str, SigningKey]) -> Mint:
    """mint(key_name="rsa", header=None, **claim overrides; None removes a claim) -> JWT."""

    def _mint(
        key_name: str = "rsa", header: dict[str, object] | None = None, **claims: object
    ) -> str:
        signing = keys[key_name]
        protected: dict[str, object] = {"alg": signing.alg, "kid": signing.kid, "typ": "JWT"}
        protected.update(header or {})
        protected = {name: value for name, value in protected.items() if value is not None}
        return sign_raw(protected, standard_claims(jwks_server, **claims), signing.key)

    return _mint


def connect_event(
    token: str | None = None,
    *,
    via: str = "query",
    name: str | None = None,
    method_arn: str | None = METHOD_ARN,
) -> dict[str, object]:
    """A WebSocket $connect REQUEST authorizer event, as API Gateway sends it."""
    event: dict[str, object] = {
        "type": "REQUEST",
        "headers": {"Host": "abcdef1234.execute-api.us-east-1.amazonaws.com"},
        "queryStringParameters": None,
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "c0nn="},
    }
    if method_arn is not None:
        event["methodArn"] = method_arn
    if token is not None and via == "query":
        event["queryStringParameters"] = {name or "authorization": token}
    elif token is not None:
        event["headers"] = {"Host": "example", name or "Authorization": token}
    return event


Configure = Callable[..., Callable[[object, object], Any]]


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer) -> Iterator[Configure]:
    """configure(**env) -> the Lambda handler, with a fresh container (settings, key cache)."""
    for name in (
        "JWT_ISSUER_JWKS_URI",
        "JWT_ISSUER",
        "JWT_AUTHORIZED_AUDIENCES",
        "JWT_VERIFY_EXPIRATION",
        "JWT_ALGORITHMS",
        "JWT_LEEWAY_SECONDS",
        "JWT_CONTEXT_CLAIMS",
        "AUTHORIZED_APIS",
        "JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE",
    ):
        monkeypatch.delenv(name, raising=False)

    def _configure(**env: str | None) -> Callable[[object, object], Any]:
        env.setdefault("JWT_ISSUER_JWKS_URI", jwks_server.jwks_url)
        env.setdefault("JWT_ISSUER", jwks_server.base_url)
        env.setdefault("JWT_AUTHORIZED_AUDIENCES", AUDIENCE)
        for name, value in env.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        handler_module.reset()
        return handler_module.handler

    yield _configure
    handler_module.reset()
