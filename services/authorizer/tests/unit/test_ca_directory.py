"""The packaged hashed CA directory is well formed, current, and named as OpenSSL looks names up."""

from __future__ import annotations

import datetime
import re
import shutil
import ssl
import subprocess
import warnings
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sumu_authorizer import ca_directory, tls

PACKAGED = Path(tls.PACKAGED_CA_DIRECTORY)
HASHED_NAME = re.compile(r"^[0-9a-f]{8}\.[0-9]+$")
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(
    OPENSSL is None, reason="no openssl command line on this machine to compare hashes with"
)


def hashed_files() -> list[Path]:
    return sorted(path for path in PACKAGED.iterdir() if path.name != ca_directory.SOURCE_FILE)


def openssl_subject_hash(pem: bytes) -> str:
    assert OPENSSL is not None
    return (
        subprocess.run(
            [OPENSSL, "x509", "-noout", "-subject_hash"],
            input=pem,
            capture_output=True,
            check=True,
            timeout=10,
        )
        .stdout.decode()
        .strip()
    )


def test_the_packaged_directory_is_the_one_tls_uses_and_holds_roots() -> None:
    assert PACKAGED == ca_directory.PACKAGED
    assert len(hashed_files()) > 100  # Mozilla's list holds some 120 to 150 roots


def test_every_packaged_file_is_one_certificate_named_by_its_subject_hash() -> None:
    by_hash: dict[str, list[int]] = {}
    for path in hashed_files():
        # GIVEN a file of the directory: its name is <8 hex digits>.<n>
        assert HASHED_NAME.match(path.name), path.name
        pem = path.read_bytes()
        # THEN it holds exactly one certificate, which parses
        (der,) = ca_directory.certificates(pem)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an old root's negative serial number
            (certificate,) = x509.load_pem_x509_certificates(pem)
        assert certificate.public_bytes(serialization.Encoding.DER) == der
        # AND its name is the hash of its subject
        name_hash, index = path.name.split(".")
        assert ca_directory.subject_hash(der) == name_hash
        by_hash.setdefault(name_hash, []).append(int(index))
    # AND subjects sharing a hash are numbered .0, .1, ... without a gap (OpenSSL stops at one)
    for name_hash, indexes in by_hash.items():
        assert sorted(indexes) == list(range(len(indexes))), name_hash


@needs_openssl
def test_every_packaged_name_is_the_hash_openssl_computes() -> None:
    mismatched = {
        path.name: found
        for path in hashed_files()
        if (found := openssl_subject_hash(path.read_bytes())) != path.name.split(".")[0]
    }
    assert mismatched == {}


def test_the_packaged_directory_matches_the_locked_certifi() -> None:
    # certifi is pinned by uv.lock (the dev environment has it through requests): when a lock
    # update brings a new certifi, this fails until `python -m sumu_authorizer.ca_directory` runs.
    certifi = pytest.importorskip("certifi")
    bundle, source = ca_directory.certifi_bundle()
    problems = ca_directory.differences(PACKAGED, bundle)
    assert problems == [], (
        f"the packaged CA directory is out of date with {source} ({certifi.where()}): run "
        "python3 -m uv run --frozen python -m sumu_authorizer.ca_directory"
    )
    assert (PACKAGED / ca_directory.SOURCE_FILE).read_text().startswith(source)


def test_writing_is_reproducible_and_replaces_stale_files(tmp_path: Path) -> None:
    bundle = b"".join(path.read_bytes() for path in hashed_files())
    first, second = tmp_path / "first", tmp_path / "second"
    second.mkdir()
    (second / "00000000.0").write_text("stale")
    (second / "README").write_text("not a hashed name: left alone")
    # WHEN the same bundle, reversed, is written into another (stale) directory
    reversed_bundle = b"".join(reversed([path.read_bytes() for path in hashed_files()]))
    ca_directory.write(first, bundle, "test")
    ca_directory.write(second, reversed_bundle, "test")
    # THEN both hold the same files, byte for byte, and the stale one is gone
    assert {p.name: p.read_bytes() for p in first.iterdir()} == {
        p.name: p.read_bytes() for p in second.iterdir() if p.name != "README"
    }
    assert not (second / "00000000.0").exists()
    assert (second / "README").read_text() == "not a hashed name: left alone"
    assert ca_directory.differences(first, bundle) == []


@needs_openssl
def test_openssl_rehash_names_a_bundle_s_certificates_as_the_writer_does(tmp_path: Path) -> None:
    """The system's bundle (or the packaged roots), one file each, hashed by `openssl rehash`."""
    system = Path("/etc/ssl/certs/ca-certificates.crt")
    bundle = (
        system.read_bytes()
        if system.exists()
        else b"".join(path.read_bytes() for path in hashed_files())
    )
    loose = tmp_path / "loose"
    loose.mkdir()
    for index, der in enumerate(ca_directory.certificates(bundle)):
        (loose / f"cert{index:04d}.pem").write_text(ssl.DER_cert_to_PEM_cert(der))
    assert OPENSSL is not None
    subprocess.run([OPENSSL, "rehash", str(loose)], check=True, capture_output=True, timeout=60)
    theirs = sorted(path.name for path in loose.iterdir() if HASHED_NAME.match(path.name))
    ours = sorted(ca_directory.hashed_files(bundle))
    assert ours == theirs


# Names as CAs write them: any case, stray and repeated white space, the string types OpenSSL
# canonicalises and NumericString, which it hashes as is; non-ASCII text. (VisibleString is left
# out: OpenSSL cannot even parse a name holding one, so no directory it reads can contain it.)
_STRING_TYPES = [
    _ASN1Type.UTF8String,
    _ASN1Type.PrintableString,
    _ASN1Type.IA5String,
    _ASN1Type.BMPString,
    _ASN1Type.UniversalString,
    _ASN1Type.T61String,
    _ASN1Type.NumericString,
]
_PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
_SIGNER = ec.generate_private_key(ec.SECP256R1())


@st.composite
def names(draw: st.DrawFn) -> x509.Name:
    attributes = []
    for oid in draw(
        st.lists(
            st.sampled_from(
                [NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME]
            ),
            min_size=1,
            max_size=3,
        )
    ):
        kind = draw(st.sampled_from(_STRING_TYPES))
        if kind in (_ASN1Type.UTF8String, _ASN1Type.BMPString, _ASN1Type.UniversalString):
            alphabet = st.characters(
                codec="utf-8", categories=("L", "N", "Zs", "P"), max_codepoint=0xFFFF
            ) | st.sampled_from(" \t\nAbC")
        elif kind == _ASN1Type.PrintableString:
            alphabet = st.sampled_from(_PRINTABLE)
        elif kind == _ASN1Type.NumericString:
            alphabet = st.sampled_from("0123456789 ")
        else:
            alphabet = st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from(
                "\t\n\r\v\f"
            )
        value = draw(st.text(alphabet, min_size=1, max_size=24))
        attributes.append(x509.NameAttribute(oid, value, _type=kind))
    return x509.Name(attributes)


@needs_openssl
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=names())
def test_any_subject_hashes_as_openssl_hashes_it(subject: x509.Name) -> None:
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(_SIGNER.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(_SIGNER, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert ca_directory.subject_hash(der) == openssl_subject_hash(pem)
