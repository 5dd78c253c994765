"""botocore's endpoint table cut down to the services this function calls, read first.

The first boto3 client of a process parses botocore's ``endpoints.json`` (1.2 MB, every service
in every partition): 25-100 ms of a cold start on this machine, most of a first $connect. Its
entries for DynamoDB, SQS and SNS, in every partition, are all this function needs, so the
package ships exactly those (``botocore_data/endpoints.json``, under 2% of the size) and points
botocore's loader at them through its data path, the documented way to put model files before
botocore's own (``AWS_DATA_PATH``, the session's ``data_path``:
https://docs.aws.amazon.com/botocore/latest/reference/loaders.html; the AWS CLI ships its own
data the same way). Directories the environment already gives in ``AWS_DATA_PATH`` come first,
so an operator's own data still wins.

The session's loader also answers "which services exist?" with these three instead of scanning
every service directory botocore ships (about 420, in each search path: thousands of stat calls,
12 ms of CPU but 40-100 ms of wall time on a cold file cache, only to check that the name is
known). So this session builds clients for DynamoDB, SQS and SNS only; any other name raises
botocore's UnknownServiceError.

The copy must equal botocore's own entries: ``tests/unit/test_endpoint_data.py`` compares it
with the installed botocore and resolves every region's endpoint both ways. After a botocore
upgrade, regenerate it: ``python -m sumu_connections.endpoint_data``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session

# apigatewaymanagementapi (issue 18: recovery posts history) always gets its endpoint_url.
SERVICES = ("dynamodb", "sqs", "sns", "apigatewaymanagementapi")
DATA_DIR = Path(__file__).parent / "botocore_data"


def trimmed(endpoints: dict[str, Any]) -> dict[str, Any]:
    """``endpoints`` with only SERVICES left in each partition (everything else as it is)."""
    partitions = [
        {
            **partition,
            "services": {
                name: entry for name, entry in partition["services"].items() if name in SERVICES
            },
        }
        for partition in endpoints["partitions"]
    ]
    return {**endpoints, "partitions": partitions}


class ServicesLoader(botocore.loaders.Loader):  # type: ignore[misc]  # botocore is untyped
    """botocore's loader, knowing SERVICES only (see the module docstring)."""

    def list_available_services(self, type_name: str) -> list[str]:
        return sorted(SERVICES)


def session() -> boto3.session.Session:
    """A boto3 session for SERVICES whose loader reads the trimmed endpoint table."""
    core = botocore.session.get_session()
    # What botocore.loaders.create_loader does with the data path (AWS_DATA_PATH first).
    given = core.get_config_variable("data_path")
    paths = [
        os.path.expanduser(os.path.expandvars(path))
        for path in (given or "").split(os.pathsep)
        if path
    ]
    core.set_config_variable("data_path", os.pathsep.join([*paths, str(DATA_DIR)]))
    core.register_component(
        "data_loader", ServicesLoader(extra_search_paths=[*paths, str(DATA_DIR)])
    )
    return boto3.session.Session(botocore_session=core)


def write() -> Path:
    """Regenerate ``botocore_data/endpoints.json`` from the installed botocore."""
    full = botocore.session.get_session().get_component("data_loader").load_data("endpoints")
    DATA_DIR.mkdir(exist_ok=True)
    target = DATA_DIR / "endpoints.json"
    target.write_text(json.dumps(trimmed(full), separators=(",", ":"), sort_keys=True) + "\n")
    return target


if __name__ == "__main__":
    print(write())
