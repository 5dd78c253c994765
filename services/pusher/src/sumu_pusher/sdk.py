"""The botocore data the pusher's clients need, loaded once per container and cheaply.

Building the first aiobotocore client of a process costs ~70 ms here, most of it in two places
that have nothing to do with the three services the pusher calls:

- ``Loader.list_available_services`` walks botocore/data (400+ service folders: ~900 listdir
  and ~2,600 stat calls) only to check that the service name exists;
- the legacy endpoint resolver parses endpoints.json, 1.25 MB for every AWS service.

``ServiceDataLoader`` (registered as the sessions' ``data_loader`` component, botocore's own
extension point) knows its services instead of listing them, and reads ``endpoints.json`` from a
copy trimmed to the partitions and those services (16 KB), generated from the installed botocore
(``python -m sumu_pusher.sdk``; a test fails when they drift). One loader is shared by every
session of the process, and ``preload()`` fills it at import, in Lambda's init phase.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from aiobotocore.session import AioSession, get_session
from botocore.loaders import Loader

# The services the pusher calls, and their endpoint prefixes in endpoints.json.
SERVICES = ("apigatewaymanagementapi", "dynamodb", "sqs")
ENDPOINT_PREFIXES = ("dynamodb", "execute-api", "sqs")
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


def preload() -> None:
    """Read every data file the clients' construction reads, into the shared loader."""
    for service in SERVICES:
        _loader.load_service_model(service, "service-2")
        _loader.load_service_model(service, "endpoint-rule-set-1")
    for name in _PRELOADED_FILES:
        _loader.load_data(name)


def new_session() -> AioSession:
    """An aiobotocore session (one per thread: sessions are not thread-safe) on the loader."""
    session = get_session()
    session.register_component("data_loader", _loader)
    return session


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


def bundled_endpoints() -> dict[str, Any]:
    endpoints: dict[str, Any] = Loader().load_data("endpoints")
    return endpoints


def main() -> None:
    """Regenerate botocore_data/endpoints.json from the installed botocore."""
    DATA_DIR.mkdir(exist_ok=True)
    target = DATA_DIR / "endpoints.json"
    text = json.dumps(trimmed_endpoints(bundled_endpoints()), indent=1, sort_keys=True)
    target.write_text(text + "\n", "utf-8")
    print(f"wrote {target} ({len(text)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
