"""The TLS context of the key fetch: which roots it trusts, loaded so a cold start pays little.

Certificates and host names are always verified (``ssl.create_default_context``: CERT_REQUIRED,
check_hostname, the interpreter's default protocol floor and flags). What changes is where the
trust roots come from, first match wins:

1. ``JWT_ISSUER_CA_CERTS``: a PEM file or a hashed directory (a private CA). Only those roots.
2. ``SSL_CERT_FILE`` and/or ``SSL_CERT_DIR`` (OpenSSL's own variables): only what they name.
3. The hashed directory shipped in the package (``ca/``, Mozilla's roots from certifi, see
   ca_directory.py), as ``capath``: OpenSSL parses only the root a handshake needs, looked up by
   subject hash, instead of the ~145 certificates of a bundle file (20 to 45 ms at init).
4. The interpreter's defaults (``load_default_certs``), when there is no such directory.

Lambda's Python runtimes set neither SSL variable
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
and their default ``capath`` (/etc/pki/tls/certs on Amazon Linux 2023) holds bundles, not hashed
names, so the shipped directory (3) is what a deployment uses.

os.path rather than pathlib: this runs in the init phase, and pathlib is an import of its own.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from typing import NamedTuple

CA_CERTS_VARIABLE = "JWT_ISSUER_CA_CERTS"
PACKAGED_CA_DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ca")


class TrustRoots(NamedTuple):
    cafile: str | None  # parsed whole when the context is built
    capath: str | None  # read one root at a time, by subject hash, during handshakes
    source: str  # where they came from, for the logs and the tests

    def context(self) -> ssl.SSLContext:
        if self.cafile is None and self.capath is None:
            return ssl.create_default_context()
        return ssl.create_default_context(cafile=self.cafile, capath=self.capath)


def trust_roots(ca_certs: str | None, environ: Mapping[str, str]) -> TrustRoots:
    """The roots the key fetch trusts (see the module's docstring for the order)."""
    if ca_certs:
        if os.path.isdir(ca_certs):
            return TrustRoots(None, ca_certs, CA_CERTS_VARIABLE)
        return TrustRoots(ca_certs, None, CA_CERTS_VARIABLE)
    cafile = environ.get("SSL_CERT_FILE") or None
    capath = environ.get("SSL_CERT_DIR") or None  # may list several directories, ":"-separated
    if cafile or capath:
        return TrustRoots(cafile, capath, "SSL_CERT_FILE/SSL_CERT_DIR")
    if os.path.isdir(PACKAGED_CA_DIRECTORY):
        return TrustRoots(None, PACKAGED_CA_DIRECTORY, "packaged")
    return TrustRoots(None, None, "default")
