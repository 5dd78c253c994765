"""Write (or check) the hashed CA directory the authorizer ships: ``ca/<subject hash>.<n>``.

    python3 -m uv run --frozen python -m sumu_authorizer.ca_directory [--check] [--bundle PEM]

Why a directory: a TLS context that loads a CA bundle file parses every certificate in it (~145,
some 20 to 45 ms of a cold start); one given a directory (``capath``) parses only the root a
handshake needs, looked up by the OpenSSL hash of the issuer's name (``SSL_CTX_load_verify_locations``,
https://docs.openssl.org/3.0/man3/SSL_CTX_load_verify_locations/). Lambda's Python runtimes
(Amazon Linux 2023) trust a bundle file, and their default directory, ``/etc/pki/tls/certs``, is
not hashed; so the function ships its own directory, inside the package (``sumu_authorizer/ca``).

The source is certifi's bundle (Mozilla's roots), the certifi version uv.lock pins, so the
directory is the same on every machine; ``SOURCE`` in it names that version. A test fails when
the locked certifi and the directory differ: re-run this command after a lock update.

Never imported by the handler: the build and the tests use it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.metadata
import re
import ssl
import sys
from pathlib import Path

PACKAGED = Path(__file__).resolve().parent / "ca"
SOURCE_FILE = "SOURCE"
_HASHED_NAME = re.compile(r"^[0-9a-f]{8}\.[0-9]+$")
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.DOTALL)

# The string types OpenSSL canonicalises in a name before hashing it (ASN1_MASK_CANON in
# crypto/x509/x_name.c): converted to UTF-8, trimmed, inner white space collapsed, ASCII lowered.
_UTF8_STRING = 0x0C
_ONE_BYTE_STRINGS = frozenset({0x13, 0x14, 0x16, 0x1A})  # Printable, T61, IA5, Visible
_BMP_STRING, _UNIVERSAL_STRING = 0x1E, 0x1C
_CANONICAL_STRINGS = _ONE_BYTE_STRINGS | {_UTF8_STRING, _BMP_STRING, _UNIVERSAL_STRING}
_SPACE = frozenset(b" \t\n\v\f\r")  # ossl_isspace


def _read(data: bytes, offset: int) -> tuple[int, int, int]:
    """One DER element at ``offset``: its tag, where its content starts, where it ends."""
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(data[start : start + size], "big")
        start += size
    return tag, start, start + length


def _elements(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The elements between ``start`` and ``end``: (tag, element start, content start, end)."""
    found = []
    while start < end:
        tag, content, stop = _read(data, start)
        found.append((tag, start, content, stop))
        start = stop
    return found


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _canonical_text(tag: int, content: bytes) -> bytes:
    """asn1_string_canon: the value as UTF-8, trimmed, white space runs as one space, A-Z lowered."""
    if tag in _ONE_BYTE_STRINGS:
        text = content.decode("latin-1").encode()
    elif tag == _BMP_STRING:
        text = content.decode("utf-16-be").encode()
    elif tag == _UNIVERSAL_STRING:
        text = content.decode("utf-32-be").encode()
    else:
        text = content
    text = bytes(text).strip(bytes(_SPACE))
    out = bytearray()
    index = 0
    while index < len(text):
        byte = text[index]
        if byte in _SPACE:
            out.append(0x20)
            while index < len(text) and text[index] in _SPACE:
                index += 1
            continue
        out.append(byte + 0x20 if 0x41 <= byte <= 0x5A else byte)
        index += 1
    return bytes(out)


def certificates(bundle: bytes) -> list[bytes]:
    """The DER of every certificate in a PEM bundle (text around them, as in certifi's, ignored)."""
    return [base64.b64decode(b"".join(block.split())) for block in _PEM.findall(bundle)]


def subject(certificate: bytes) -> bytes:
    """The DER of a certificate's subject name (RFC 5280 section 4.1: the sixth field of the
    TBSCertificate, after the optional [0] version, serial, signature algorithm, issuer and
    validity)."""
    _, content, _ = _read(certificate, 0)
    _, tbs_content, tbs_end = _read(certificate, content)
    fields = _elements(certificate, tbs_content, tbs_end)
    if fields[0][0] == 0xA0:  # the explicit [0] version
        fields = fields[1:]
    _, start, _, stop = fields[4]
    return certificate[start:stop]


def subject_hash(certificate: bytes) -> str:
    """OpenSSL's X509_NAME_hash_ex of the subject (``openssl x509 -subject_hash``), 8 hex digits.

    The first 4 bytes, little-endian, of the SHA-1 of the name's canonical encoding
    (x509_name_canon): each RDN's SET, in order, without the outer SEQUENCE, every string value
    canonicalised.
    """
    name = subject(certificate)
    _, content, end = _read(name, 0)
    canonical = bytearray()
    for _, _, rdn_content, rdn_end in _elements(name, content, end):
        entries = []
        for _, _, entry_content, entry_end in _elements(name, rdn_content, rdn_end):
            (_, oid_start, _, oid_end), (tag, value_start, value_content, value_end) = _elements(
                name, entry_content, entry_end
            )
            if tag in _CANONICAL_STRINGS:
                value = _der(_UTF8_STRING, _canonical_text(tag, name[value_content:value_end]))
            else:
                value = name[value_start:value_end]
            entries.append(_der(0x30, name[oid_start:oid_end] + value))
        canonical += _der(0x31, b"".join(sorted(entries)))  # DER: a SET OF is sorted
    digest = hashlib.sha1(bytes(canonical), usedforsecurity=False).digest()
    return f"{int.from_bytes(digest[:4], 'little'):08x}"


def hashed_files(bundle: bytes) -> dict[str, bytes]:
    """``<subject hash>.<n>`` -> one PEM certificate, for every distinct certificate in ``bundle``.

    Certificates whose subjects share a hash get .0, .1, ... in the order of their SHA-256
    fingerprints, so the names do not depend on the order of the bundle.
    """
    by_hash: dict[str, dict[bytes, bytes]] = {}
    for der in certificates(bundle):
        fingerprint = hashlib.sha256(der).digest()
        by_hash.setdefault(subject_hash(der), {})[fingerprint] = der
    files = {}
    for name_hash, found in sorted(by_hash.items()):
        for index, fingerprint in enumerate(sorted(found)):
            files[f"{name_hash}.{index}"] = ssl.DER_cert_to_PEM_cert(found[fingerprint]).encode()
    return files


def certifi_bundle() -> tuple[bytes, str]:
    """certifi's bundle and a line naming it: the build's source of trust roots."""
    import certifi  # noqa: PLC0415 - a build-time source, not a dependency of the function

    version = importlib.metadata.version("certifi")  # as uv.lock names it (.postN included)
    return Path(certifi.where()).read_bytes(), f"certifi {version} (cacert.pem)"


def differences(directory: Path, bundle: bytes) -> list[str]:
    """What ``directory`` lacks, has in excess or holds differently, against ``bundle``."""
    expected = hashed_files(bundle)
    present = {
        path.name: path.read_bytes()
        for path in directory.iterdir()
        if _HASHED_NAME.match(path.name)
    }
    problems = [f"missing {name}" for name in sorted(expected.keys() - present.keys())]
    problems += [f"not in the bundle: {name}" for name in sorted(present.keys() - expected.keys())]
    problems += [
        f"differs: {name}"
        for name in sorted(expected.keys() & present.keys())
        if expected[name] != present[name]
    ]
    return problems


def write(directory: Path, bundle: bytes, source: str) -> int:
    """Replace the hashed files of ``directory`` by those of ``bundle``; how many were written."""
    directory.mkdir(parents=True, exist_ok=True)
    files = hashed_files(bundle)
    for stale in directory.iterdir():  # only hashed names: --out may name a directory with more
        if _HASHED_NAME.match(stale.name) and stale.name not in files:
            stale.unlink()
    for name, pem in files.items():
        (directory / name).write_bytes(pem)
    (directory / SOURCE_FILE).write_text(
        f"{source}: {len(files)} root certificates, named by OpenSSL subject hash.\n"
        "Written by `python -m sumu_authorizer.ca_directory`; do not edit by hand.\n"
    )
    return len(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, help="a PEM bundle instead of certifi's")
    parser.add_argument("--out", type=Path, default=PACKAGED, help="default: the packaged ca/")
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    arguments = parser.parse_args(argv)
    if arguments.bundle is not None:
        bundle, source = arguments.bundle.read_bytes(), str(arguments.bundle)
    else:
        bundle, source = certifi_bundle()
    if arguments.check:
        problems = differences(arguments.out, bundle)
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{arguments.out}: {'out of date' if problems else 'matches'} {source}")
        return 1 if problems else 0
    count = write(arguments.out, bundle, source)
    print(f"{arguments.out}: {count} certificates from {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
