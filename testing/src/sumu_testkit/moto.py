"""moto in server mode, over real HTTP on 127.0.0.1, for functional tests.

Tests talk to it exactly as the services talk to AWS: through boto3 / aiobotocore clients whose
endpoint comes from ``AWS_ENDPOINT_URL``. Each test gets fresh state through ``reset()`` rather
than a new server, which keeps the suite fast.
"""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass

from moto.server import ThreadedMotoServer

from sumu_testkit.ports import free_port

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass
class MotoServer:
    server: ThreadedMotoServer
    endpoint_url: str
    region: str = REGION

    def reset(self) -> None:
        """Drop every resource, as a brand-new account (moto's documented reset endpoint)."""
        url = f"{self.endpoint_url}/moto-api/reset"
        request = urllib.request.Request(url, method="POST")  # noqa: S310 - http on loopback
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback only
            pass

    def stop(self) -> None:
        self.server.stop()


def start_moto_server() -> MotoServer:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return MotoServer(server=server, endpoint_url=f"http://127.0.0.1:{port}")


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """The environment that points every AWS client at the moto server."""
    return {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint_url}


def apply_environment(values: dict[str, str]) -> dict[str, str | None]:
    """Set variables in os.environ; return the previous values so they can be restored."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    return previous


def restore_environment(previous: dict[str, str | None]) -> None:
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
