"""The key fetch over https with a test CA: roots from a hashed directory, verification intact.

A real https JWKS server on 127.0.0.1 whose certificates a test CA signs. The client trusts that
CA the ways a deployment can: a hashed directory (JWT_ISSUER_CA_CERTS or SSL_CERT_DIR, the
packaged directory's own mechanism), or a PEM file. A good certificate is accepted; a wrong host
name, an untrusted CA and an expired certificate are refused.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sumu_authorizer import ca_directory, key_source, tls
from sumu_authorizer import handler as handler_module
from sumu_authorizer.key_source import FetchError, fetch_json
from sumu_authorizer.settings import SettingsError, load_settings

from tests.conftest import (
    AUDIENCE,
    SigningKey,
    connect_event,
    running_jwks_server,
    sign_raw,
    standard_claims,
)

DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Authority:
    name: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(
        self, directory: Path, stem: str, names: list[x509.GeneralName], *, expired: bool = False
    ) -> ssl.SSLContext:
        """A server context presenting a certificate for ``names`` signed by this authority."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        start, end = (now - 3 * DAY, now - DAY) if expired else (now - DAY, now + DAY)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, stem)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # Python 3.13's default context verifies strictly (VERIFY_X509_STRICT), which wants
            # the issuer's key identifier in a certificate it did not sign itself.
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        chain, private = directory / f"{stem}.pem", directory / f"{stem}.key"
        chain.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        private.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, private)
        return context


def authority(name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SUMU Tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - DAY)
        .not_valid_after(now + 30 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(name, key, certificate)


LOOPBACK: list[x509.GeneralName] = [
    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    x509.DNSName("localhost"),
]


@pytest.fixture(scope="module")
def test_ca() -> Authority:
    return authority("SUMU Test Root CA")


@pytest.fixture
def hashed_directory(tmp_path: Path, test_ca: Authority) -> Path:
    """A hashed CA directory holding the test CA, written as the packaged one is."""
    directory = tmp_path / "ca"
    ca_directory.write(directory, test_ca.pem, "the test CA")
    return directory


@pytest.fixture(autouse=True)
def fresh_tls_context() -> Iterator[None]:
    """The context is cached per container; each test chooses its own roots."""
    key_source.tls_context.cache_clear()
    yield
    key_source.tls_context.cache_clear()


@pytest.fixture
def no_ssl_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def fetch_failure(url: str, ca_certs: str | None) -> str:
    with pytest.raises(FetchError) as raised:
        fetch_json(url, timeout=5.0, ca_certs=ca_certs)
    return str(raised.value)


@pytest.mark.usefixtures("no_ssl_variables")
def test_a_good_certificate_is_accepted_through_a_hashed_directory(
    tmp_path: Path, keys: dict[str, SigningKey], test_ca: Authority, hashed_directory: Path
) -> None:
    # GIVEN an https key server whose certificate the test CA signed for 127.0.0.1
    server_context = test_ca.issue(tmp_path, "good", LOOPBACK)
    with running_jwks_server(keys, tls=server_context) as server:
        # WHEN the keys are fetched trusting a hashed directory that holds the test CA
        fetched = fetch_json(server.jwks_url, timeout=5.0, ca_certs=str(hashed_directory))
    # THEN they arrive, and the context had to read only that one root, during the handshake
    assert isinstance(fetched.document, dict)
    assert len(fetched.document["keys"]) == len(server.published)
    assert key_source.tls_context(str(hashed_directory)).cert_store_stats()["x509_ca"] == 1


@pytest.mark.usefixtures("no_ssl_variables")
def test_a_private_ca_as_a_pem_file_is_trusted_too(
    tmp_path: Path, keys: dict[str, SigningKey], test_ca: Authority
) -> None:
    ca_file = tmp_path / "private-ca.pem"
    ca_file.write_bytes(test_ca.pem)
    server_context = test_ca.issue(tmp_path, "good", LOOPBACK)
    with running_jwks_server(keys, tls=server_context) as server:
        fetched = fetch_json(server.jwks_url, timeout=5.0, ca_certs=str(ca_file))
    assert isinstance(fetched.document, dict)


@pytest.mark.usefixtures("no_ssl_variables")
@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ([x509.DNSName("issuer.elsewhere.test")], "IP address mismatch"),
        ([x509.IPAddress(ipaddress.ip_address("127.0.0.2"))], "IP address mismatch"),
    ],
    ids=["a host name only", "another address"],
)
def test_a_certificate_for_another_host_is_refused(
    tmp_path: Path,
    keys: dict[str, SigningKey],
    *,
    test_ca: Authority,
    hashed_directory: Path,
    names: list[x509.GeneralName],
    expected: str,
) -> None:
    # GIVEN a certificate the trusted CA signed, but not for 127.0.0.1
    server_context = test_ca.issue(tmp_path, "elsewhere", names)
    with running_jwks_server(keys, tls=server_context) as server:
        reason = fetch_failure(server.jwks_url, str(hashed_directory))
    # THEN the host name check refuses it: a valid chain is not enough
    assert "CERTIFICATE_VERIFY_FAILED" in reason
    assert expected in reason


@pytest.mark.usefixtures("no_ssl_variables")
def test_a_certificate_for_another_host_name_is_refused(
    tmp_path: Path, keys: dict[str, SigningKey], test_ca: Authority, hashed_directory: Path
) -> None:
    # GIVEN a certificate for 127.0.0.1 only, reached as "localhost"
    server_context = test_ca.issue(
        tmp_path, "address-only", [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    with running_jwks_server(keys, tls=server_context) as server:
        url = server.jwks_url.replace("127.0.0.1", "localhost")
        reason = fetch_failure(url, str(hashed_directory))
    assert "CERTIFICATE_VERIFY_FAILED" in reason
    assert "Hostname mismatch" in reason


@pytest.mark.usefixtures("no_ssl_variables")
def test_a_certificate_from_an_untrusted_ca_is_refused(
    tmp_path: Path, keys: dict[str, SigningKey], hashed_directory: Path
) -> None:
    # GIVEN a certificate for 127.0.0.1 from a CA with the same organisation but another name,
    # which the directory does not hold
    stranger = authority("SUMU Untrusted Root CA")
    server_context = stranger.issue(tmp_path, "stranger", LOOPBACK)
    with running_jwks_server(keys, tls=server_context) as server:
        reason = fetch_failure(server.jwks_url, str(hashed_directory))
    assert "CERTIFICATE_VERIFY_FAILED" in reason
    assert "unable to get local issuer certificate" in reason


@pytest.mark.usefixtures("no_ssl_variables")
def test_a_ca_that_reuses_the_trusted_name_with_another_key_is_refused(
    tmp_path: Path, keys: dict[str, SigningKey], test_ca: Authority, hashed_directory: Path
) -> None:
    # GIVEN an impostor CA with exactly the trusted CA's name (so the same subject hash, the same
    # file looked up) but its own key
    impostor = authority(test_ca.name)
    server_context = impostor.issue(tmp_path, "impostor", LOOPBACK)
    with running_jwks_server(keys, tls=server_context) as server:
        reason = fetch_failure(server.jwks_url, str(hashed_directory))
    # THEN the signature does not verify against the root found by name
    assert "CERTIFICATE_VERIFY_FAILED" in reason


@pytest.mark.usefixtures("no_ssl_variables")
def test_an_expired_certificate_is_refused(
    tmp_path: Path, keys: dict[str, SigningKey], test_ca: Authority, hashed_directory: Path
) -> None:
    server_context = test_ca.issue(tmp_path, "expired", LOOPBACK, expired=True)
    with running_jwks_server(keys, tls=server_context) as server:
        reason = fetch_failure(server.jwks_url, str(hashed_directory))
    assert "CERTIFICATE_VERIFY_FAILED" in reason
    assert "certificate has expired" in reason


@pytest.mark.usefixtures("no_ssl_variables")
def test_without_any_setting_the_packaged_directory_is_trusted_lazily() -> None:
    # GIVEN no JWT_ISSUER_CA_CERTS and no SSL variables (Lambda's environment)
    roots = tls.trust_roots(None, {})
    # THEN the packaged hashed directory is the trust, as a capath: building the context
    # parses no certificate (a bundle file would parse every one of them here)
    assert roots == tls.TrustRoots(None, tls.PACKAGED_CA_DIRECTORY, "packaged")
    context = key_source.tls_context(None)
    assert context.cert_store_stats()["x509_ca"] == 0
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_the_packaged_directory_verifies_a_server_once_its_ca_is_added(
    tmp_path: Path, keys: dict[str, SigningKey], test_ca: Authority, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the packaged directory with the test CA added, named by its subject hash, through
    # SSL_CERT_DIR (how the cold-start bench trusts its CA, as a deployment's directory would)
    directory = tmp_path / "packaged-and-test"
    shutil.copytree(tls.PACKAGED_CA_DIRECTORY, directory)
    der = test_ca.certificate.public_bytes(serialization.Encoding.DER)
    (directory / f"{ca_directory.subject_hash(der)}.0").write_bytes(test_ca.pem)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", str(directory))
    server_context = test_ca.issue(tmp_path, "good", LOOPBACK)
    with running_jwks_server(keys, tls=server_context) as server:
        fetched = fetch_json(server.jwks_url, timeout=5.0)
    # THEN it is fetched, having loaded one root of the ~120 in the directory
    assert isinstance(fetched.document, dict)
    assert key_source.tls_context(None).cert_store_stats()["x509_ca"] == 1


def test_ssl_cert_file_is_honoured_and_loads_its_bundle_whole(
    tmp_path: Path, keys: dict[str, SigningKey], test_ca: Authority, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a bundle file: every packaged root and the test CA
    bundle = tmp_path / "bundle.pem"
    packaged = sorted(Path(tls.PACKAGED_CA_DIRECTORY).glob("*.[0-9]"))
    bundle.write_bytes(b"".join(path.read_bytes() for path in packaged) + test_ca.pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    server_context = test_ca.issue(tmp_path, "good", LOOPBACK)
    with running_jwks_server(keys, tls=server_context) as server:
        fetched = fetch_json(server.jwks_url, timeout=5.0)
    # THEN it is trusted, and the context parsed the whole file when it was built
    assert isinstance(fetched.document, dict)
    assert key_source.tls_context(None).cert_store_stats()["x509_ca"] == len(packaged) + 1


def test_the_explicit_setting_wins_over_the_ssl_variables_which_win_over_the_package(
    tmp_path: Path,
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("")
    environ = {"SSL_CERT_FILE": "/env/file.pem", "SSL_CERT_DIR": "/env/a:/env/b"}
    assert tls.trust_roots(str(tmp_path), environ) == tls.TrustRoots(
        None, str(tmp_path), "JWT_ISSUER_CA_CERTS"
    )
    assert tls.trust_roots(str(ca_file), environ) == tls.TrustRoots(
        str(ca_file), None, "JWT_ISSUER_CA_CERTS"
    )
    assert tls.trust_roots(None, environ) == tls.TrustRoots(
        "/env/file.pem", "/env/a:/env/b", "SSL_CERT_FILE/SSL_CERT_DIR"
    )
    assert tls.trust_roots(None, {"SSL_CERT_DIR": "/env/a"}).cafile is None
    assert tls.trust_roots(None, {"SSL_CERT_FILE": ""}).source == "packaged"


def test_without_a_packaged_directory_the_interpreter_s_defaults_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tls, "PACKAGED_CA_DIRECTORY", str(tmp_path / "absent"))
    roots = tls.trust_roots(None, {})
    assert roots == tls.TrustRoots(None, None, "default")
    context = roots.context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    if ssl.get_default_verify_paths().cafile is None:
        pytest.skip("this machine has no default CA bundle to compare with")
    assert context.cert_store_stats()["x509_ca"] > 0  # load_default_certs read the bundle


def test_roots_that_cannot_be_loaded_are_a_fetch_error_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    reason = fetch_failure("https://127.0.0.1:9/.well-known/jwks.json", None)
    assert "trust roots cannot be loaded" in reason


def test_a_jwt_issuer_ca_certs_that_does_not_exist_is_a_settings_error(tmp_path: Path) -> None:
    environ = {
        "JWT_ISSUER_JWKS_URI": "https://issuer.example/jwks.json",
        "JWT_ISSUER": "https://issuer.example",
        "JWT_ISSUER_CA_CERTS": str(tmp_path / "missing"),
    }
    with pytest.raises(SettingsError, match="JWT_ISSUER_CA_CERTS"):
        load_settings(environ)
    environ["JWT_ISSUER_CA_CERTS"] = str(tmp_path)
    assert load_settings(environ).issuer_ca_certs == str(tmp_path)


@pytest.mark.usefixtures("no_ssl_variables")
def test_the_handler_allows_a_token_from_an_https_issuer_with_a_private_ca(
    tmp_path: Path,
    keys: dict[str, SigningKey],
    test_ca: Authority,
    hashed_directory: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN an https issuer whose certificate a private CA signed, and JWT_ISSUER_CA_CERTS
    server_context = test_ca.issue(tmp_path, "good", LOOPBACK)
    with running_jwks_server(keys, tls=server_context) as server:
        monkeypatch.setenv("JWT_ISSUER_JWKS_URI", server.jwks_url)
        monkeypatch.setenv("JWT_ISSUER", server.base_url)
        monkeypatch.setenv("JWT_AUTHORIZED_AUDIENCES", AUDIENCE)
        monkeypatch.setenv("JWT_ISSUER_CA_CERTS", str(hashed_directory))
        # WHEN a container starts (init fetches the keys) and serves a $connect
        handler_module.reset()
        try:
            signing = keys["rsa"]
            token = sign_raw(
                {"alg": signing.alg, "kid": signing.kid, "typ": "JWT"},
                standard_claims(server),
                signing.key,
            )
            response = handler_module.handler(connect_event(token), None)
            fetches = server.count("/.well-known/jwks.json")
        finally:
            monkeypatch.undo()
            handler_module.reset()
    # THEN it is allowed with the keys fetched at init
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert fetches == 1


INIT_OVER_HTTPS = """
import json, sys
import sumu_authorizer.handler as module
from sumu_authorizer import key_source
print(json.dumps({
    "keys_at_init": len(module.authorizer().key_store.candidates(None)),
    "roots_read": key_source.tls_context(None).cert_store_stats()["x509_ca"],
    "ca_directory_imported": "sumu_authorizer.ca_directory" in sys.modules,
    "idna_codec_imported": "encodings.idna" in sys.modules,
}))
"""


def test_a_fresh_container_reads_one_root_at_init_and_imports_no_build_code(
    tmp_path: Path, keys: dict[str, SigningKey], test_ca: Authority
) -> None:
    # GIVEN an https issuer and the packaged roots plus the test CA as a hashed directory
    directory = tmp_path / "packaged-and-test"
    shutil.copytree(tls.PACKAGED_CA_DIRECTORY, directory)
    der = test_ca.certificate.public_bytes(serialization.Encoding.DER)
    (directory / f"{ca_directory.subject_hash(der)}.0").write_bytes(test_ca.pem)
    server_context = test_ca.issue(tmp_path, "good", LOOPBACK)
    with running_jwks_server(keys, tls=server_context) as server:
        environment = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("JWT_", "SSL_CERT_"))
        } | {
            "JWT_ISSUER_JWKS_URI": server.jwks_url,
            "JWT_ISSUER": server.base_url,
            "SSL_CERT_DIR": str(directory),
        }
        # WHEN a fresh interpreter imports the handler (Lambda's init phase)
        result = subprocess.run(
            [sys.executable, "-c", INIT_OVER_HTTPS],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            env=environment,
        )
    # THEN the keys were fetched at init, verified with the one root of the ~120 it needed, and
    # neither the directory's writer (build-time code) nor the idna codec (an ASCII host needs
    # none) was imported to get there
    assert json.loads(result.stdout) == {
        "keys_at_init": len(server.published),
        "roots_read": 1,
        "ca_directory_imported": False,
        "idna_codec_imported": False,
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://keys.example/jwks.json", b"keys.example"),
        ("https://b\u00fccher.example/jwks.json", "b\u00fccher.example"),
    ],
    ids=["ascii", "internationalised"],
)
def test_an_ascii_host_is_looked_up_as_bytes_and_any_other_through_idna(
    url: str, expected: bytes | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[object] = []

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list[object]:
        looked_up.append(host)
        raise OSError("no address here")

    monkeypatch.setattr(key_source.socket, "getaddrinfo", getaddrinfo)
    reason = fetch_failure(url, None)
    assert "no address here" in reason
    assert looked_up == [expected]
