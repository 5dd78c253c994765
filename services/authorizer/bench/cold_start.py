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

The JWKS is served over 127.0.0.1 by a thread of this process, so a fetch costs no network time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import RSAKey

ISSUER = "https://issuer.bench.example"
AUDIENCE = "bench"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/mvp/$connect"
CHILD_TIMEOUT_SECONDS = 60

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
# What Lambda's Python runtime (awslambdaric/bootstrap.py) has imported before it imports the
# handler: a Lambda container never pays these for the authorizer.
LAMBDA_RUNTIME_IMPORTS = "importlib,json,logging,os,sys,time,traceback"


def serve_jwks(document: bytes) -> tuple[ThreadingHTTPServer, str]:
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
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"


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


def cold_runs(
    env: dict[str, str],
    token: str,
    runs: int,
    preload: str,
    *,
    code_dir: str | None = None,
    python: tuple[str, ...] = (sys.executable,),
) -> dict[str, float]:
    arguments = [token, METHOD_ARN, preload, *([code_dir] if code_dir else [])]
    samples = [json.loads(run_child(COLD_CONTAINER, arguments, env, python)) for _ in range(runs)]
    return {name: statistics.median(sample[name] for sample in samples) for name in samples[0]}


def zip_runs(
    zip_path: Path, python: str, env: dict[str, str], token: str, runs: int
) -> dict[str, dict[str, float]]:
    """The Lambda zip itself, with the bytecode it ships: ``-I -B -S`` so nothing but the zip
    provides packages and nothing is written beside it (Lambda's /var/task is read-only)."""
    interpreter = (python, "-I", "-B", "-S")
    version = run_child("import sys; print(sys.version.split()[0])", [], env, interpreter).strip()
    with tempfile.TemporaryDirectory(prefix="sumu-authorizer-zip-") as task:
        shutil.unpack_archive(zip_path, task, "zip")
        return {
            f"Lambda zip on Python {version}{label}": cold_runs(
                env, token, runs, preload, code_dir=task, python=interpreter
            )
            for label, preload in (
                ("", ""),
                (", after the runtime's imports", LAMBDA_RUNTIME_IMPORTS),
            )
        }


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
    arguments = parser.parse_args()
    runs = max(1, min(arguments.runs, 100))

    key = RSAKey.generate_key(2048, parameters={"kid": "bench-rsa"})
    server, jwks_url = serve_jwks(json.dumps({"keys": [key.as_dict(private=False)]}).encode())
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "iat": now, "exp": now + 3600}
    token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key, algorithms=["RS256"])
    base = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}
    } | {
        "JWT_ISSUER_JWKS_URI": jwks_url,
        "JWT_ISSUER": ISSUER,
        "JWT_AUTHORIZED_AUDIENCES": AUDIENCE,
    }
    with (
        tempfile.TemporaryDirectory(prefix="sumu-authorizer-pyc-") as pycache,
        tempfile.TemporaryDirectory(prefix="sumu-authorizer-stdlib-pyc-") as stdlib_only,
    ):
        with_pyc = base | {"PYTHONPYCACHEPREFIX": pycache}
        run_child(COLD_CONTAINER, [token, METHOD_ARN, ""], with_pyc)  # fills the cache
        # The same cache with only the standard library's bytecode, never written to: joserfc,
        # cryptography and the authorizer compile from source on every start, as they do from a
        # package installed without bytecode (uv's default) under PYTHONDONTWRITEBYTECODE=1.
        stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
        shutil.copytree(
            Path(pycache) / stdlib.relative_to(stdlib.anchor),
            Path(stdlib_only) / stdlib.relative_to(stdlib.anchor),
        )
        without_pyc = base | {"PYTHONPYCACHEPREFIX": stdlib_only, "PYTHONDONTWRITEBYTECODE": "1"}
        cases = {
            "with .pyc (as the Lambda zip ships)": (with_pyc, ""),
            "with .pyc, after the Lambda runtime's own imports": (
                with_pyc,
                LAMBDA_RUNTIME_IMPORTS,
            ),
            "packages without .pyc (compiled on each start)": (without_pyc, ""),
        }
        results = {
            name: cold_runs(env, token, runs, preload) for name, (env, preload) in cases.items()
        }
        startup = startup_ms(with_pyc, runs)
        if arguments.zip:
            results |= zip_runs(arguments.zip, arguments.python, base, token, runs)
    server.shutdown()

    print(f"sumu-authorizer cold start, median of {runs} fresh interpreters (ms, wall / CPU)")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"interpreter start-up alone (`python -c pass`, wall, reference): {startup:.1f} ms\n")
    header = ("case", "import (init)", "first token", "import + first token", "goal")
    rows = [
        (
            name,
            f"{result['import']:.1f} / {result['import_cpu']:.1f}",
            f"{result['first']:.1f} / {result['first_cpu']:.1f}",
            f"{result['total']:.1f} / {result['total_cpu']:.1f}",
            "<= 100",
        )
        for name, result in results.items()
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    for row in [header, tuple("-" * width for width in widths), *rows]:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    modules = {name: int(result["imported_by_first_token"]) for name, result in results.items()}
    print(f"\nmodules first imported by the first token (not at init): {modules}")


if __name__ == "__main__":
    main()
