"""Cold start as a user pays it: a fresh interpreter imports the handler and serves its first token.

    python3 -m uv run --frozen python services/authorizer/bench/cold_start.py [--runs N]

Each run is a new interpreter that times, from the inside, (1) ``import sumu_authorizer.handler``
(Lambda's init phase: settings, key prefetch, joserfc) and (2) the first invocation with a valid
RS256 token (the first $connect). Their sum is the cold cost over a bare interpreter: the
authorizer has no AWS SDK, so the baseline subtracted is Python's own start-up, which is
excluded by timing inside the process (``python -c pass`` is printed for reference).

Bytecode matters most: ``with .pyc`` is what Lambda runs (the zip ships compiled bytecode,
tools/lambda_zip.py; here a warmed PYTHONPYCACHEPREFIX in a temporary directory, so the shared
.venv is never written); ``packages without .pyc`` compiles joserfc, cryptography and the
authorizer from source on every start (a venv installed without bytecode, run with
PYTHONDONTWRITEBYTECODE=1: how the issue measured its 170 ms). A third row starts the clock after
the modules Lambda's Python runtime imports before the handler (awslambdaric/bootstrap.py).

The JWKS is served over 127.0.0.1 by a thread of this process, so a fetch costs no network time;
``--https`` serves it over TLS, as a real issuer does, with a certificate from a test CA the child
trusts two ways, each its own rows: ``hashed dir``, the way a deployment trusts its roots (a copy
of the packaged hashed directory, sumu_authorizer/ca, with the test CA added under its subject
hash, through SSL_CERT_DIR: OpenSSL reads only the root the handshake needs), and ``bundle file``
(the system's CA bundle, ~145 certificates, with the test CA appended, through SSL_CERT_FILE: all
of them parsed when the context is built, as the default context does). ``--instructions`` adds
valgrind counts, which do not move with the load of a shared machine. ``--zip`` runs the built
Lambda zip on Python 3.12 as well.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import RSAKey
from sumu_authorizer.ca_directory import subject_hash
from sumu_authorizer.tls import PACKAGED_CA_DIRECTORY

ISSUER = "https://issuer.bench.example"
AUDIENCE = "bench"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/mvp/$connect"
CHILD_TIMEOUT_SECONDS = 60
CALLGRIND_TIMEOUT_SECONDS = 600

COLD_CONTAINER = """
import sys, time
if len(sys.argv) > 4:
    sys.path.insert(0, sys.argv[4])  # an unpacked Lambda zip, as /var/task
for name in filter(None, sys.argv[3].split(",")):  # what the runtime imported before the handler
    __import__(name)
started, cpu_started = time.perf_counter(), time.process_time()
import sumu_authorizer.handler as module
imported, cpu_imported = time.perf_counter(), time.process_time()
modules_after_import = set(sys.modules)
event = {"methodArn": sys.argv[2], "queryStringParameters": {"authorization": sys.argv[1]}}
response = module.handler(event, None)
done, cpu_done = time.perf_counter(), time.process_time()
imported_by_first_token = len(set(sys.modules) - modules_after_import)
import json
assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow", response
print(json.dumps({
    "import": (imported - started) * 1000, "import_cpu": (cpu_imported - cpu_started) * 1000,
    "first": (done - imported) * 1000, "first_cpu": (cpu_done - cpu_imported) * 1000,
    "total": (done - started) * 1000, "total_cpu": (cpu_done - cpu_started) * 1000,
    "imported_by_first_token": imported_by_first_token,
}))
"""
BARE_CONTAINER = """
import sys, time
for name in filter(None, sys.argv[1].split(",")):
    __import__(name)
import json
"""
# What Lambda's Python runtime (awslambdaric/bootstrap.py) has imported before it imports the
# handler: a Lambda container never pays these for the authorizer.
LAMBDA_RUNTIME_IMPORTS = "importlib,json,logging,os,sys,time,traceback"


def tls_files(directory: Path) -> tuple[Path, Path, Path, Path]:
    """A certificate for 127.0.0.1, its key, and two ways to trust it: a bundle file (the
    system's CA bundle with it appended) and a hashed directory (the packaged roots with it added
    under its subject hash, as ca_directory names them)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sumu-bench")])
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
    cert_file, key_file, bundle, hashed = (
        directory / "cert.pem",
        directory / "key.pem",
        directory / "ca.pem",
        directory / "ca",
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    system = ssl.get_default_verify_paths().cafile
    bundle.write_bytes((Path(system).read_bytes() if system else b"") + cert_file.read_bytes())
    shutil.copytree(PACKAGED_CA_DIRECTORY, hashed)
    der = certificate.public_bytes(serialization.Encoding.DER)
    (hashed / f"{subject_hash(der)}.0").write_bytes(cert_file.read_bytes())
    return cert_file, key_file, bundle, hashed


def serve_jwks(
    document: bytes, tls: tuple[Path, Path] | None = None
) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "max-age=3600")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"{scheme}://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"


def run_child(
    code: str, args: list[str], env: dict[str, str], python: tuple[str, ...] = (sys.executable,)
) -> str:
    return subprocess.run(
        [*python, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=CHILD_TIMEOUT_SECONDS,
    ).stdout


def startup_ms(env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run_child("pass", [], env)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def cold_sample(
    env: dict[str, str],
    token: str,
    preload: str,
    *,
    code_dir: str | None = None,
    python: tuple[str, ...] = (sys.executable,),
) -> dict[str, float]:
    """One fresh interpreter: its import and first-token timings."""
    arguments = [token, METHOD_ARN, preload, *([code_dir] if code_dir else [])]
    sample: dict[str, float] = json.loads(run_child(COLD_CONTAINER, arguments, env, python))
    return sample


def medians(samples: list[dict[str, float]]) -> dict[str, float]:
    return {name: statistics.median(sample[name] for sample in samples) for name in samples[0]}


def cold_runs(
    env: dict[str, str],
    token: str,
    runs: int,
    preload: str,
    *,
    code_dir: str | None = None,
    python: tuple[str, ...] = (sys.executable,),
) -> dict[str, float]:
    return medians(
        [cold_sample(env, token, preload, code_dir=code_dir, python=python) for _ in range(runs)]
    )


def instructions(
    env: dict[str, str],
    token: str,
    preload: str,
    *,
    code_dir: str | None = None,
    python: tuple[str, ...] = (sys.executable,),
) -> float:
    """Millions of instructions (valgrind's callgrind) of a cold container minus a bare one: the
    same interpreter, the same preloaded modules, no handler. Unlike time, the count does not
    move with what else runs on the machine."""

    def count(code: str, args: list[str]) -> int:
        with tempfile.TemporaryDirectory(prefix="sumu-authorizer-callgrind-") as out:
            report = Path(out) / "callgrind.out"
            callgrind = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={report}")
            subprocess.run(
                [*callgrind, *python, "-c", code, *args],
                env=env,
                capture_output=True,
                check=True,
                timeout=CALLGRIND_TIMEOUT_SECONDS,
            )
            for line in report.read_text().splitlines():
                if line.startswith("summary:"):
                    return int(line.split()[1])
        raise RuntimeError("callgrind wrote no summary")

    full = count(COLD_CONTAINER, [token, METHOD_ARN, preload, *([code_dir] if code_dir else [])])
    return (full - count(BARE_CONTAINER, [preload])) / 1e6


def zip_runs(
    zip_path: Path,
    python: str,
    env: dict[str, str],
    token: str,
    runs: int,
    *,
    count_instructions: bool,
    trust_label: str = "",
) -> dict[str, dict[str, float]]:
    """The Lambda zip itself, with the bytecode it ships: ``-I -B -S`` so nothing but the zip
    provides packages and nothing is written beside it (Lambda's /var/task is read-only)."""
    interpreter = (python, "-I", "-B", "-S")
    version = run_child("import sys; print(sys.version.split()[0])", [], env, interpreter).strip()
    with tempfile.TemporaryDirectory(prefix="sumu-authorizer-zip-") as task:
        shutil.unpack_archive(zip_path, task, "zip")
        results = {}
        for label, preload in (("", ""), (", after the runtime's imports", LAMBDA_RUNTIME_IMPORTS)):
            result = cold_runs(env, token, runs, preload, code_dir=task, python=interpreter)
            if count_instructions and not preload:
                result["instructions"] = instructions(
                    env, token, preload, code_dir=task, python=interpreter
                )
            results[f"Lambda zip on Python {version}{label}{trust_label}"] = result
        return results


def print_report(
    results: dict[str, dict[str, float]], runs: int, jwks_url: str, startup: float
) -> None:
    print(f"sumu-authorizer cold start, median of {runs} fresh interpreters (ms, wall / CPU)")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"JWKS at {jwks_url.split('/.well-known', maxsplit=1)[0]}")
    print(f"interpreter start-up alone (`python -c pass`, wall, reference): {startup:.1f} ms\n")
    header = (
        "case",
        "import (init)",
        "first token",
        "import + first token",
        "goal",
        "instructions (M)",
    )
    rows = [
        (
            name,
            f"{result['import']:.1f} / {result['import_cpu']:.1f}",
            f"{result['first']:.1f} / {result['first_cpu']:.1f}",
            f"{result['total']:.1f} / {result['total_cpu']:.1f}",
            "<= 100",
            f"{result['instructions']:.0f}" if "instructions" in result else "-",
        )
        for name, result in results.items()
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    for row in [header, tuple("-" * width for width in widths), *rows]:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    modules = {name: int(result["imported_by_first_token"]) for name, result in results.items()}
    print(f"\nmodules first imported by the first token (not at init): {modules}")


def cold_cases(
    trusts: dict[str, dict[str, str]], with_pyc: dict[str, str], without_pyc: dict[str, str]
) -> dict[str, tuple[dict[str, str], str]]:
    """Row name -> (environment, modules preloaded before the clock starts)."""
    cases: dict[str, tuple[dict[str, str], str]] = {}
    for trust, trust_environment in trusts.items():
        label = f", {trust}" if trust else ""
        cases |= {
            f"with .pyc (as the Lambda zip ships){label}": (with_pyc | trust_environment, ""),
            f"with .pyc, after the Lambda runtime's own imports{label}": (
                with_pyc | trust_environment,
                LAMBDA_RUNTIME_IMPORTS,
            ),
        }
    first, first_environment = next(iter(trusts.items()))
    label = f", {first}" if first else ""
    cases[f"packages without .pyc (compiled on each start){label}"] = (
        without_pyc | first_environment,
        "",
    )
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per case")
    parser.add_argument(
        "--zip",
        type=Path,
        help="also run this built Lambda zip (tools/lambda_zip.py build), unpacked, with --python",
    )
    pyenv = sorted(Path.home().glob(".pyenv/versions/3.12.*/bin/python3.12"))
    parser.add_argument(
        "--python",
        default=str(pyenv[-1]) if pyenv else "python3.12",
        help="Lambda's Python, for --zip (default: pyenv's 3.12)",
    )
    parser.add_argument(
        "--https",
        action="store_true",
        help="serve the JWKS over TLS from a test CA, trusted through a hashed directory (as a "
        "deployment) and through a bundle file (as a default context): rows for each",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions with valgrind (slow, but independent of the load)",
    )
    arguments = parser.parse_args()
    runs = max(1, min(arguments.runs, 100))

    key = RSAKey.generate_key(2048, parameters={"kid": "bench-rsa"})
    document = json.dumps({"keys": [key.as_dict(private=False)]}).encode()
    tls_directory = tempfile.TemporaryDirectory(prefix="sumu-authorizer-tls-")
    # Rows per way of trusting the key server: none over http; over https, the hashed directory a
    # deployment uses and the bundle file a default context loads.
    trusts: dict[str, dict[str, str]] = {"": {}}
    if arguments.https:
        cert_file, key_file, bundle, hashed = tls_files(Path(tls_directory.name))
        server, jwks_url = serve_jwks(document, (cert_file, key_file))
        trusts = {
            "hashed dir": {"SSL_CERT_DIR": str(hashed)},
            "bundle file": {"SSL_CERT_FILE": str(bundle)},
        }
    else:
        server, jwks_url = serve_jwks(document)
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "iat": now, "exp": now + 3600}
    token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key, algorithms=["RS256"])
    inherited = {"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "SSL_CERT_FILE", "SSL_CERT_DIR"}
    base = {name: value for name, value in os.environ.items() if name not in inherited} | {
        "JWT_ISSUER_JWKS_URI": jwks_url,
        "JWT_ISSUER": ISSUER,
        "JWT_AUTHORIZED_AUDIENCES": AUDIENCE,
    }
    with (
        tempfile.TemporaryDirectory(prefix="sumu-authorizer-pyc-") as pycache,
        tempfile.TemporaryDirectory(prefix="sumu-authorizer-stdlib-pyc-") as stdlib_only,
    ):
        with_pyc = base | {"PYTHONPYCACHEPREFIX": pycache}
        first_trust = next(iter(trusts.values()))
        run_child(
            COLD_CONTAINER, [token, METHOD_ARN, ""], with_pyc | first_trust
        )  # fills the cache
        # The same cache with only the standard library's bytecode, never written to: joserfc,
        # cryptography and the authorizer compile from source on every start, as they do from a
        # package installed without bytecode (uv's default) under PYTHONDONTWRITEBYTECODE=1.
        stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
        shutil.copytree(
            Path(pycache) / stdlib.relative_to(stdlib.anchor),
            Path(stdlib_only) / stdlib.relative_to(stdlib.anchor),
        )
        without_pyc = base | {"PYTHONPYCACHEPREFIX": stdlib_only, "PYTHONDONTWRITEBYTECODE": "1"}
        cases = cold_cases(trusts, with_pyc, without_pyc)
        # Interleaved (one run of every case, then the next), so a burst of load on this shared
        # machine spreads over every row instead of landing on one.
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
        for _ in range(runs):
            for name, (env, preload) in cases.items():
                samples[name].append(cold_sample(env, token, preload))
        results = {name: medians(found) for name, found in samples.items()}
        if arguments.instructions:
            for name, (env, preload) in cases.items():
                if name.startswith("with .pyc (") and not preload:
                    results[name]["instructions"] = instructions(env, token, preload)
        startup = startup_ms(with_pyc, runs)
        if arguments.zip:
            for trust, trust_environment in trusts.items():
                results |= zip_runs(
                    arguments.zip,
                    arguments.python,
                    base | trust_environment,
                    token,
                    runs,
                    count_instructions=arguments.instructions,
                    trust_label=f", {trust}" if trust else "",
                )
    server.shutdown()
    tls_directory.cleanup()

    print_report(results, runs, jwks_url, startup)


if __name__ == "__main__":
    main()
