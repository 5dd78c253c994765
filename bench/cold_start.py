"""Cold start of the four Lambda handlers, as a user pays it: import plus first event, over the SDK.

    python3 -m uv run --frozen python bench/cold_start.py [--repeats 3] [--only connections]

For each handler and each kind of event it serves, a FRESH interpreter (a subprocess) imports
the handler's AWS SDK alone (``import boto3`` for connections and presence, ``import
aiobotocore.session, aiobotocore.config`` for the pusher; nothing for the authorizer, which
calls no AWS API, so its baseline is 0 ms and all of it counts), then the handler module, then
serves that one event against a moto server on 127.0.0.1 (resources created here first). Each
kind gets its own interpreter because one Lambda function serves every kind, so any of them can
be the first event of a new container. Timings start after the interpreter is up (``python -X
importtime`` shows what a row imports). The children read bytecode, as the Lambda zips ship it:
they write and read ``.pyc`` under a temporary PYTHONPYCACHEPREFIX, filled by one untimed run of
each row (an inherited PYTHONDONTWRITEBYTECODE would otherwise recompile every module whose
``__pycache__`` is stale, on every start).

    over-SDK ms = import ms + first-event ms   (the handler's import after its SDK's, plus the
                                                first event; median per row; target <= 100 ms)

That is "import handler + first event - import SDK alone", measured in one process: the SDK's
import and the handler's are paired, so the machine's load between two processes cannot make
the difference negative. The verdict is on wall time, what a user waits. The last column is
the same sum in CPU time of the child (time.process_time), which other load disturbs less; it
leaves out the time spent waiting for moto's answers. "warm-event ms" is the same event served
again by the same process: mostly moto's round trip (moto answers from a thread of this
script, so on a loaded machine it is slow, where DynamoDB, SQS and SNS take a few ms).

The pusher posts to a stub management API on 127.0.0.1 (moto has no stage-prefixed one); the
authorizer fetches its keys from a JWKS server on 127.0.0.1 that holds a key generated here and
verifies an RS256 token signed with it: over http, and over https (rows "..., https keys", every
real issuer) from a test CA the child trusts as a deployment trusts a public root, through a
hashed directory (the authorizer's packaged one with the test CA added, as SSL_CERT_DIR). Every loop is bounded; the run takes about a minute on
the shared 2-core machine with the default 3 repeats. Asserts nothing: exit status 0 always,
unless a handler fails its event.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TARGET_MS = 100.0
MAX_REPEATS = 10
CHILD_TIMEOUT_SECONDS = 60
STAGE = "mvp"

# Runs in the fresh interpreter. json / sys / time / importlib are imported before the clock
# starts, in the SDK baseline too, so both sides pay the same start-up.
CHILD = r"""
import importlib, json, sys, time
spec = json.loads(sys.argv[1])

class Context:
    function_name = "cold-start-bench"
    aws_request_id = "cold-start-request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cold-start-bench"
    def __init__(self):
        self._deadline = time.monotonic() + 30
    def get_remaining_time_in_millis(self):
        return int((self._deadline - time.monotonic()) * 1000)

clock, cpu = time.perf_counter, time.process_time
sdk_started, sdk_started_cpu = clock(), cpu()
for name in spec["sdk"]:
    importlib.import_module(name)
started, started_cpu = clock(), cpu()
for name in spec["modules"]:
    module = importlib.import_module(name)
imported, imported_cpu = clock(), cpu()
first_event_ms = first_event_cpu_ms = warm_event_ms = None
outcome = None
if spec.get("event") is not None:
    response = module.handler(spec["event"], Context())
    first_event_ms = (clock() - imported) * 1000
    first_event_cpu_ms = (cpu() - imported_cpu) * 1000
    outcome = json.dumps(response, default=str)[:300]
    again = clock()
    module.handler(spec["event"], Context())
    warm_event_ms = (clock() - again) * 1000
print(json.dumps({
    "sdk_ms": (started - sdk_started) * 1000,
    "sdk_cpu_ms": (started_cpu - sdk_started_cpu) * 1000,
    "import_ms": (imported - started) * 1000,
    "import_cpu_ms": (imported_cpu - started_cpu) * 1000,
    "first_event_ms": first_event_ms,
    "first_event_cpu_ms": first_event_cpu_ms,
    "warm_event_ms": warm_event_ms,
    "outcome": outcome,
}))
"""


@dataclass
class Case:
    handler: str  # short name: authorizer, connections, pusher, presence
    kind: str
    event: dict[str, Any]
    environment: dict[str, str]
    expect: str  # a substring the handler's response must hold, so a failure cannot pass as fast


@dataclass
class Samples:
    sdk_ms: list[float] = field(default_factory=list)
    import_ms: list[float] = field(default_factory=list)
    first_event_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # import + first event, CPU time
    warm_event_ms: list[float] = field(default_factory=list)  # the same event again


SDK_MODULES = {
    "authorizer": [],
    "connections": ["boto3"],
    "presence": ["boto3"],
    "pusher": ["aiobotocore.session", "aiobotocore.config"],
}
HANDLER_MODULES = {name: f"sumu_{name}.handler" for name in SDK_MODULES}


def run_child(
    sdk: list[str], modules: list[str], event: dict[str, Any] | None, env: dict[str, str]
) -> Any:
    spec = json.dumps({"sdk": sdk, "modules": modules, "event": event})
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, spec],
        capture_output=True,
        text=True,
        env=env,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{modules} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# ---- servers on 127.0.0.1 -------------------------------------------------------------------


@contextmanager
def http_server(
    routes: dict[str, bytes], post_status: int = 200, tls: ssl.SSLContext | None = None
) -> Iterator[str]:
    """GET path -> body from ``routes``; any POST answers ``post_status`` (the management API).
    With ``tls`` (a server context), over https."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = routes.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(post_status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---- events ---------------------------------------------------------------------------------


def websocket_event(route_key: str, body: str | None = None) -> dict[str, Any]:
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
    context = {
        "routeKey": route_key,
        "eventType": event_type,
        "connectionId": "Y29sZC1zdGFydA=",
        "requestId": "cold-start-request",
        "stage": STAGE,
        "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "requestTimeEpoch": int(time.time() * 1000),
        "connectedAt": int(time.time() * 1000),
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "cold-start-bench"},
        "authorizer": {"principalId": "bench-user"},
    }
    event: dict[str, Any] = {"requestContext": context}
    if body is not None:
        event["body"] = body
    return event


def connections_cases(env: dict[str, str]) -> list[Case]:
    message = json.dumps({"text": "x" * 200})
    frames = {
        "ping": '{"action": "ping"}',
        "send": f'{{"action": "send", "message": {message}}}',
        "publish": f'{{"action": "publish", "message": {message}}}',
        "$default": "not json",
    }
    cases = [Case("connections", "$connect", websocket_event("$connect"), env, "200")]
    cases += [
        Case("connections", kind, websocket_event(kind, frame), env, "statusCode")
        for kind, frame in frames.items()
    ]
    cases.append(Case("connections", "$disconnect", websocket_event("$disconnect"), env, "200"))
    return cases


def stream_record(kind: str, sequence_number: str) -> dict[str, Any]:
    keys = {"user_id": {"S": "bench-user"}, "connection_id": {"S": "Y29sZC1zdGFydA="}}
    image = {**keys, "connected_at": {"N": "1795000000000"}, "delete_at": {"N": "1795007200"}}
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": int(time.time()),
        "Keys": keys,
        "SequenceNumber": sequence_number,
        "SizeBytes": 120,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    dynamodb["NewImage" if kind == "INSERT" else "OldImage"] = image
    return {
        "eventID": f"event-{sequence_number}",
        "eventName": kind,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": dynamodb,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/bench/stream/2026",
    }


def presence_cases(env: dict[str, str]) -> list[Case]:
    return [
        Case("presence", kind, {"Records": [stream_record(kind, sequence)]}, env, "batchItem")
        for kind, sequence in (("INSERT", "100000000000000000001"), ("REMOVE", "200000000000001"))
    ]


def pusher_cases(env: dict[str, str]) -> list[Case]:
    def sqs(body: dict[str, Any]) -> dict[str, Any]:
        record = {
            "messageId": "cold-start-message",
            "receiptHandle": "handle",
            "body": json.dumps(body),
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:notifications",
            "awsRegion": "us-east-1",
        }
        return {"Records": [record]}

    sns_record = {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:notifications:sub",
        "Sns": {
            "Type": "Notification",
            "MessageId": "cold-start-sns",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:notifications",
            "Message": json.dumps({"users": ["bench-user"], "data": {"n": 1}}),
            "Timestamp": "2026-11-27T12:00:00.000Z",
            "MessageAttributes": {},
        },
    }
    return [
        Case("pusher", "sqs selected", sqs({"users": ["bench-user"], "data": {"n": 1}}), env, "[]"),
        Case("pusher", "sqs broadcast", sqs({"data": {"n": 2}}), env, "[]"),
        Case("pusher", "sns selected", {"Records": [sns_record]}, env, "[]"),
    ]


def authorizer_cases(env: dict[str, str], token: str, label: str = "") -> list[Case]:
    method_arn = f"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/{STAGE}/$connect"

    def event(authorization: str) -> dict[str, Any]:
        return {
            "type": "REQUEST",
            "methodArn": method_arn,
            "headers": {"Host": "abcdef1234.execute-api.us-east-1.amazonaws.com"},
            "queryStringParameters": {"authorization": authorization},
            "requestContext": {
                "routeKey": "$connect",
                "eventType": "CONNECT",
                "connectionId": "Y29sZC1zdGFydA=",
            },
        }

    forged = token[: token.rindex(".") + 1] + ("A" if token[-1] != "A" else "B") * 20
    return [
        Case("authorizer", f"$connect allow{label}", event(token), env, "Allow"),
        Case("authorizer", f"$connect deny{label}", event(forged), env, "Deny"),
    ]


def https_trust(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 from a test CA, and the hashed directory that trusts it.

    The directory is the authorizer's packaged one (sumu_authorizer/ca: Mozilla's roots, named by
    OpenSSL subject hash) with the test CA added under its hash, passed as SSL_CERT_DIR: the
    child builds its TLS context and verifies the key server the way a deployment verifies a real
    issuer (only the root the handshake needs is read).
    """
    import datetime  # noqa: PLC0415 - only the https rows need these
    import ipaddress  # noqa: PLC0415
    import shutil  # noqa: PLC0415

    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415
    from sumu_authorizer.ca_directory import subject_hash  # noqa: PLC0415
    from sumu_authorizer.tls import PACKAGED_CA_DIRECTORY  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sumu cold-start bench CA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    (directory / "cert.pem").write_bytes(pem)
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    hashed = directory / "ca"
    shutil.copytree(PACKAGED_CA_DIRECTORY, hashed)
    der = certificate.public_bytes(serialization.Encoding.DER)
    (hashed / f"{subject_hash(der)}.0").write_bytes(pem)
    return server, hashed


def signing_material(issuer: str, audience: str) -> tuple[bytes, str]:
    """(JWKS document, RS256 token for bench-user), from an RSA key generated for this run."""
    from joserfc import jwt  # noqa: PLC0415 - only the authorizer's rows need it
    from joserfc.jwk import RSAKey  # noqa: PLC0415

    key = RSAKey.generate_key(2048, parameters={"kid": "cold-start-1"})
    jwks = {"keys": [{**key.as_dict(private=False), "use": "sig", "alg": "RS256"}]}
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "sub": "bench-user", "iat": now, "exp": now + 3600}
    token = jwt.encode({"alg": "RS256", "kid": "cold-start-1", "typ": "JWT"}, claims, key)
    return json.dumps(jwks).encode(), token


# ---- resources on moto ----------------------------------------------------------------------


def create_resources(base_env: dict[str, str]) -> dict[str, str]:
    import boto3  # noqa: PLC0415 - the parent's own import, never timed
    from sumu_testkit.tables import create_connections_table  # noqa: PLC0415

    def client(name: str) -> Any:
        return boto3.client(
            name, endpoint_url=base_env["AWS_ENDPOINT_URL"], region_name="us-east-1"
        )

    dynamodb, sqs, sns = client("dynamodb"), client("sqs"), client("sns")
    create_connections_table(dynamodb, "bench-connections", stream_view_type="NEW_AND_OLD_IMAGES")
    # One stored connection, so the pusher's selected and broadcast rows post once each.
    dynamodb.put_item(
        TableName="bench-connections",
        Item={
            "user_id": {"S": "bench-user"},
            "connection_id": {"S": "c3RvcmVk"},
            "connected_at": {"N": str(int(time.time() * 1000) - 60_000)},
            "delete_at": {"N": str(int(time.time()) + 7200)},
        },
    )
    return {
        "CONNECTIONS_TABLE_NAME": "bench-connections",
        "MESSAGES_QUEUE_URL": sqs.create_queue(QueueName="bench-messages")["QueueUrl"],
        "MESSAGES_TOPIC_ARN": sns.create_topic(Name="bench-messages")["TopicArn"],
    }


def source_path(checkout: Path) -> str:
    """PYTHONPATH that puts a source tree's packages before the installed (editable) ones."""
    roots = [checkout / "contracts" / "src"]
    roots += sorted(path for path in (checkout / "services").glob("*/src") if path.is_dir())
    return os.pathsep.join(str(root.resolve()) for root in roots)


# ---- report ---------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def print_table(cases: list[Case], samples: dict[tuple[str, str], Samples]) -> None:
    header = (
        "| handler | event kind | import ms | first-event ms | SDK-import ms | over-SDK ms "
        "| target ms | result | over-SDK CPU ms | warm-event ms |"
    )
    print(header)
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
    for case in cases:
        measured = samples[(case.handler, case.kind)]
        over_each = [
            imported + first
            for imported, first in zip(measured.import_ms, measured.first_event_ms, strict=True)
        ]
        over = median(over_each)
        verdict = "pass" if over <= TARGET_MS else "FAIL"
        print(
            f"| {case.handler} | {case.kind} | {median(measured.import_ms):.1f} "
            f"| {median(measured.first_event_ms):.1f} | {median(measured.sdk_ms):.1f} "
            f"| {over:.1f} | {TARGET_MS:.0f} | {verdict} | {median(measured.cpu_ms):.1f} "
            f"| {median(measured.warm_event_ms):.1f} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help=f"1..{MAX_REPEATS} (median)")
    parser.add_argument("--only", choices=sorted(SDK_MODULES), action="append")
    parser.add_argument(
        "--checkout",
        type=Path,
        help="import the services and contracts from this source tree instead (e.g. another "
        "commit, from git archive), to compare before / after under the same load",
    )
    args = parser.parse_args()
    repeats = max(1, min(args.repeats, MAX_REPEATS))
    chosen = args.only or ["authorizer", "connections", "pusher", "presence"]

    from sumu_testkit import start_moto_server  # noqa: PLC0415
    from sumu_testkit.moto import aws_environment  # noqa: PLC0415

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log, one line a call
    moto = start_moto_server()
    issuer, audience = "https://issuer.cold-start.test", "cold-start-client"
    jwks_body, token = signing_material(issuer, audience)
    tls_directory = tempfile.TemporaryDirectory(prefix="sumu-cold-start-")  # TLS files, .pyc
    server_tls, hashed_ca = https_trust(Path(tls_directory.name))
    try:
        with (
            http_server({"/.well-known/jwks.json": jwks_body}) as jwks_base,
            http_server({"/.well-known/jwks.json": jwks_body}, tls=server_tls) as https_jwks_base,
            http_server({}) as management_base,
        ):
            not_inherited = {
                "SSL_CERT_FILE",
                "SSL_CERT_DIR",
                "PYTHONDONTWRITEBYTECODE",
                "PYTHONPYCACHEPREFIX",
            }
            base_env = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith("AWS_") and key not in not_inherited
            }
            base_env["PYTHONPYCACHEPREFIX"] = str(Path(tls_directory.name) / "pycache")
            if args.checkout is not None:
                base_env["PYTHONPATH"] = source_path(args.checkout)
            base_env.update(aws_environment(moto.endpoint_url))
            os.environ.update(aws_environment(moto.endpoint_url))  # the parent's boto3 too
            resources = create_resources(base_env)
            common = {**base_env, **resources}
            environments = {
                "authorizer": {
                    **base_env,
                    "JWT_ISSUER_JWKS_URI": f"{jwks_base}/.well-known/jwks.json",
                    "JWT_ISSUER": issuer,
                    "JWT_AUTHORIZED_AUDIENCES": audience,
                },
                "authorizer https": {
                    **base_env,
                    "JWT_ISSUER_JWKS_URI": f"{https_jwks_base}/.well-known/jwks.json",
                    "JWT_ISSUER": issuer,
                    "JWT_AUTHORIZED_AUDIENCES": audience,
                    "SSL_CERT_DIR": str(hashed_ca),
                },
                "connections": common,
                "presence": {**common, "PRESENCE_SOURCE": "queue"},
                "pusher": {**common, "APIGW_ENDPOINT": f"{management_base}/{STAGE}"},
            }
            builders = {
                "authorizer": lambda: [
                    *authorizer_cases(environments["authorizer"], token),
                    *authorizer_cases(environments["authorizer https"], token, ", https keys"),
                ],
                "connections": lambda: connections_cases(environments["connections"]),
                "pusher": lambda: pusher_cases(environments["pusher"]),
                "presence": lambda: presence_cases(environments["presence"]),
            }
            cases = [case for name in chosen for case in builders[name]()]
            samples = {(case.handler, case.kind): Samples() for case in cases}
            for case in cases:  # untimed: writes the bytecode every later run reads
                run_child(
                    SDK_MODULES[case.handler],
                    [HANDLER_MODULES[case.handler]],
                    case.event,
                    case.environment,
                )
            started = time.monotonic()
            for _ in range(repeats):  # interleaved, so a burst of load spreads over every row
                for case in cases:
                    result = run_child(
                        SDK_MODULES[case.handler],
                        [HANDLER_MODULES[case.handler]],
                        case.event,
                        case.environment,
                    )
                    if case.expect not in (result["outcome"] or ""):
                        raise RuntimeError(
                            f"{case.handler} {case.kind}: unexpected response {result['outcome']}"
                        )
                    measured = samples[(case.handler, case.kind)]
                    measured.sdk_ms.append(result["sdk_ms"])
                    measured.import_ms.append(result["import_ms"])
                    measured.first_event_ms.append(result["first_event_ms"])
                    measured.cpu_ms.append(result["import_cpu_ms"] + result["first_event_cpu_ms"])
                    measured.warm_event_ms.append(result["warm_event_ms"])
    finally:
        moto.stop()
        tls_directory.cleanup()

    load = os.getloadavg()[0]
    print(
        f"cold start: median of {repeats} fresh interpreters per row, "
        f"{time.monotonic() - started:.0f} s, load average {load:.1f}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print_table(cases, samples)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
