"""Benchmark sumu-authorizer: warm verifications per second.

    python3 -m uv run --frozen python services/authorizer/bench/bench_authorizer.py

Warm: the Lambda handler itself (event -> policy) with its key cache filled, RS256 and ES256
tokens, one thread pinned to one core, each run bounded by RUN_SECONDS and MAX_CALLS.
The cold start (import plus the first token, in fresh interpreters) is bench/cold_start.py.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

RUN_SECONDS = 3.0
MAX_CALLS = 200_000
ISSUER = "https://issuer.bench.example"
AUDIENCE = "bench"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/mvp/$connect"


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


def token(key: RSAKey | ECKey, alg: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "iat": now, "exp": now + 3600}
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def warm_rate(handler: object, event: dict[str, object]) -> tuple[float, float]:
    """Calls per second of CPU time of this thread (what one core does) and per wall second.

    On a shared machine the wall rate also counts the time other processes held the core.
    """
    call = handler  # the Lambda entry point: handler(event, context)
    assert call(event, None)["policyDocument"]["Statement"][0]["Effect"] == "Allow"  # type: ignore[operator]
    calls = 0
    started, cpu_started = time.perf_counter(), time.thread_time()
    deadline = started + RUN_SECONDS
    while calls < MAX_CALLS and time.perf_counter() < deadline:
        for _ in range(100):
            call(event, None)  # type: ignore[operator]
        calls += 100
    return calls / (time.thread_time() - cpu_started), calls / (time.perf_counter() - started)


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as the issue asks
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa"})
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec"})
    document = json.dumps(
        {"keys": [rsa.as_dict(private=False), ec.as_dict(private=False)]}
    ).encode()
    server, jwks_url = serve_jwks(document)
    env = dict(os.environ) | {
        "JWT_ISSUER_JWKS_URI": jwks_url,
        "JWT_ISSUER": ISSUER,
        "JWT_AUTHORIZED_AUDIENCES": AUDIENCE,
    }
    os.environ.update(env)
    from sumu_authorizer.handler import handler  # noqa: PLC0415 -- after the environment is set

    rs256, es256 = token(rsa, "RS256"), token(ec, "ES256")
    rows: list[tuple[str, str, str]] = []
    for alg, value in (("RS256", rs256), ("ES256", es256)):
        event = {"methodArn": METHOD_ARN, "queryStringParameters": {"authorization": value}}
        cpu_rate, wall_rate = warm_rate(handler, event)
        target = ">= 5,000" if alg == "RS256" else "-"
        rows.append(
            (
                f"warm {alg} verifications per CPU-second (handler, 1 core)",
                f"{cpu_rate:,.0f}",
                target,
            )
        )
        rows.append(
            (f"warm {alg} verifications per wall-second (same run)", f"{wall_rate:,.0f}", "-")
        )

    server.shutdown()
    width = max(len(row[0]) for row in rows)
    print(f"{'measure':<{width}} | {'value':>10} | target")
    print(f"{'-' * width}-|-{'-' * 10}-|-{'-' * 9}")
    for name, value, target in rows:
        print(f"{name:<{width}} | {value:>10} | {target}")
    print(f"\npython {sys.version.split()[0]}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
