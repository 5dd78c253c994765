"""The botocore data the pusher's clients need, loaded once per container and cheaply.

Building the first aiobotocore client of a process costs ~70 ms here, most of it in places
that have nothing to do with what the pusher calls:

- ``Loader.list_available_services`` walks botocore/data (400+ service folders: ~900 listdir
  and ~2,600 stat calls) only to check that the service name exists;
- the legacy endpoint resolver parses endpoints.json, 1.25 MB for every AWS service;
- DynamoDB's service model describes 58 operations with their documentation (~11 ms to
  decompress and parse) for the five the pusher calls.

``ServiceDataLoader`` (registered as the sessions' ``data_loader`` component, botocore's own
extension point) knows its services instead of listing them, and finds first, in
``botocore_data/``, ``endpoints.json`` trimmed to the partitions and those services (16 KB) and
DynamoDB's model trimmed to the pusher's operations and the shapes they reach, without
documentation. Both are generated from the installed botocore (``python -m sumu_pusher.sdk``);
a test fails when they drift from it, or when the code calls an operation they lack. One loader is shared by every
session of the process, and ``preload()`` fills it at import, in Lambda's init phase.

TLS: aiobotocore builds a verifying TLS context (loading the CA bundle, ~150 certificates) for
every client's connection pool, on its first request; ``SharedTLSContextSession`` builds it once
per process and every pool shares it (an ``ssl.SSLContext`` is meant to be shared). The runtime
loads it in the init phase when an endpoint is https (always, on AWS), and never when every
endpoint is plain http (the local stack).

Credentials: Lambda puts the execution role's in ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, which is what botocore's chain would pick
first. Building that chain also builds its instance-metadata provider, whose URL check compiles
a large regular expression (~20 ms) for a provider Lambda never uses, so the session is given
the environment's credentials directly, exactly as botocore's ``EnvProvider`` reads them; only
without them (or with an expiry, which needs the refreshing provider) does the chain run.
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
"""

from __future__ import annotations

import json
import os
import ssl
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from aiobotocore.httpsession import AIOHTTPSession
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import NoRegionError
from botocore.loaders import Loader

# The services the pusher calls, and their endpoint prefixes in endpoints.json. A client for any
# other service fails with UnknownServiceError until it is added here (and the data regenerated).
SERVICES = ("apigatewaymanagementapi", "dynamodb", "sqs")
ENDPOINT_PREFIXES = ("dynamodb", "execute-api", "sqs")
# The DynamoDB operations the pusher calls (store.py; PutItem and UpdateItem: history.py and
# idempotency.py), and DescribeEndpoints, which botocore's endpoint discovery looks for.
DYNAMODB_OPERATIONS = (
    "BatchWriteItem",
    "DeleteItem",
    "DescribeEndpoints",
    "DescribeTable",
    "PutItem",
    "Query",
    "Scan",
    "UpdateItem",
)
DYNAMODB_MODEL = Path("dynamodb") / "2012-08-10" / "service-2.json"
DATA_DIR = Path(__file__).parent / "botocore_data"
_PRELOADED_FILES = ("endpoints", "partitions", "_retry", "sdk-default-configuration")


class ServiceDataLoader(Loader):  # type: ignore[misc]  # botocore is untyped
    def __init__(self) -> None:
        super().__init__(extra_search_paths=[str(DATA_DIR)])

    def list_available_services(self, type_name: str) -> list[str]:
        return sorted(SERVICES)

    def is_builtin_path(self, path: str) -> bool:
        # The trimmed endpoints.json is botocore's own data for these services: resolve
        # endpoints exactly as with the bundled file (botocore otherwise feeds a custom file's
        # legacy endpoint into the endpoint rulesets).
        return Path(path).parent == DATA_DIR or bool(super().is_builtin_path(path))


_loader = ServiceDataLoader()


class SharedTLSContextSession(AIOHTTPSession):  # type: ignore[misc]
    """aiobotocore's HTTP session, verifying with one TLS context per process (AioConfig's
    ``http_session_cls``). A client certificate would be loaded into the context, so a session
    with one keeps a context of its own.

    aiobotocore builds the verifying context on a session's first request even when the
    endpoint is plain http (the local stack's), where no TLS happens: loading the CA bundle then
    costs ~25 ms of the first event for nothing. A session whose first request is plain http
    gets a context that verifies against no root at all instead: it is never used for http, and
    would refuse any TLS peer (fail closed) should that session ever meet an https URL."""

    _plain_http = False

    async def send(self, request: Any) -> Any:
        if not self._sessions:  # the connector (and its TLS context) is built on this request
            self._plain_http = str(request.url).startswith("http://")
        return await super().send(request)

    def _build_verify_context(self) -> ssl.SSLContext:
        if self._cert_file or not self._verify:
            context: ssl.SSLContext = super()._build_verify_context()
            return context
        if self._plain_http:
            return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, hostname checked
        return _shared_verify_context(self._verify)


@cache
def _shared_verify_context(verify: bool | str) -> ssl.SSLContext:
    context: ssl.SSLContext = AIOHTTPSession(verify=verify)._build_verify_context()
    return context


def verify_context_for(url: str, session: AioSession) -> ssl.SSLContext | None:
    """The verifying context a client of ``session`` uses for an https URL, loaded now (the
    init phase); None for plain http, which needs none."""
    if not url.lower().startswith("https:"):
        return None
    return _shared_verify_context(ca_bundle(session))


def ca_bundle(session: AioSession) -> str | bool:
    """What botocore verifies against: the session's ``ca_bundle`` (``AWS_CA_BUNDLE``), else
    ``REQUESTS_CA_BUNDLE``, else True (its own bundle), as ``botocore.endpoint`` resolves it."""
    bundle = session.get_config_variable("ca_bundle") or os.environ.get("REQUESTS_CA_BUNDLE")
    return bundle if isinstance(bundle, str) and bundle else True


def region(session: AioSession) -> str:
    """The region a client of ``session`` would use (``AWS_DEFAULT_REGION``, set by Lambda)."""
    name = session.get_config_variable("region")
    if not name:
        raise NoRegionError
    return str(name)


def preload() -> None:
    """Read every data file the clients' construction reads, into the shared loader (not SQS's:
    its client is built only when a batch needs the DLQ; the management API has no client)."""
    _loader.load_service_model("dynamodb", "service-2")
    _loader.load_service_model("dynamodb", "endpoint-rule-set-1")
    for name in _PRELOADED_FILES:
        _loader.load_data(name)


def new_session() -> AioSession:
    """An aiobotocore session (one per thread: sessions are not thread-safe) on the loader."""
    session = get_session()
    session.register_component("data_loader", _loader)
    credentials = environment_credentials(os.environ)
    if credentials is not None:
        session.set_credentials(*credentials)
    return session


def environment_credentials(
    environ: Mapping[str, str],
) -> tuple[str, str, str | None, str | None] | None:
    """(key, secret, token, account id) as botocore's EnvProvider reads them, when static."""
    key = environ.get("AWS_ACCESS_KEY_ID", "")
    secret = environ.get("AWS_SECRET_ACCESS_KEY", "")
    if not key or not secret or environ.get("AWS_CREDENTIAL_EXPIRATION"):
        return None
    token = environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN") or None
    return key, secret, token, environ.get("AWS_ACCOUNT_ID") or None


def trimmed_endpoints(endpoints: dict[str, Any]) -> dict[str, Any]:
    """botocore's endpoints.json with only the pusher's services in each partition."""
    return {
        **endpoints,
        "partitions": [
            {
                **partition,
                "services": {
                    prefix: service
                    for prefix, service in partition["services"].items()
                    if prefix in ENDPOINT_PREFIXES
                },
            }
            for partition in endpoints["partitions"]
        ],
    }


def trimmed_service_model(model: dict[str, Any], operations: tuple[str, ...]) -> dict[str, Any]:
    """A service model with only ``operations`` and the shapes they reach, no documentation."""
    shapes: dict[str, Any] = {}

    def reach(name: str) -> None:
        if name in shapes:
            return
        shape = _undocumented(model["shapes"][name])
        shapes[name] = shape
        for reference in _shape_references(shape):
            reach(reference)

    kept = {name: _undocumented(model["operations"][name]) for name in operations}
    for operation in kept.values():
        for reference in _shape_references(operation):
            reach(reference)
    return {
        "version": model["version"],
        "metadata": model["metadata"],
        "operations": kept,
        "shapes": dict(sorted(shapes.items())),
    }


def _undocumented(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _undocumented(value) for key, value in node.items() if key != "documentation"}
    if isinstance(node, list):
        return [_undocumented(value) for value in node]
    return node


def _shape_references(node: Any) -> list[str]:
    """Every ``{"shape": name}`` below ``node`` (members, list members, map keys and values,
    operation input, output and errors)."""
    found: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("shape"), str):
            found.append(node["shape"])
        for value in node.values():
            found.extend(_shape_references(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_shape_references(value))
    return found


def bundled_endpoints() -> dict[str, Any]:
    endpoints: dict[str, Any] = Loader().load_data("endpoints")
    return endpoints


def bundled_dynamodb_model() -> dict[str, Any]:
    model: dict[str, Any] = Loader().load_service_model("dynamodb", "service-2")
    return model


def main() -> None:
    """Regenerate botocore_data/ from the installed botocore."""
    generated = {
        DATA_DIR / "endpoints.json": trimmed_endpoints(bundled_endpoints()),
        DATA_DIR / DYNAMODB_MODEL: trimmed_service_model(
            bundled_dynamodb_model(), DYNAMODB_OPERATIONS
        ),
    }
    for target, document in generated.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(document, indent=1, sort_keys=True)
        target.write_text(text + "\n", "utf-8")
        print(f"wrote {target} ({len(text)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
