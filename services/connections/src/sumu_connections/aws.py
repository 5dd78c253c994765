"""The AWS clients, built once per container.

Every client honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``) by itself, which
is how the local stack and the tests point them at moto:
https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from botocore.config import Config

from sumu_connections import endpoint_data

# Retries with backoff, bounded so that the worst case fits the Lambda timeout: 3 attempts of
# at most 1 s to connect + 2 s to read, plus standard-mode backoff (under 1 s + 2 s when
# throttled), is about 12 s; the function's timeout should be 15 s or more (API Gateway waits
# 29 s). https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
MAX_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
)


ServiceName = Literal["dynamodb", "sqs", "sns"]


class ClientOnFirstUse:
    """A boto3 client built on the first call of one of its operations, once per container.

    Each route builds only the clients it uses: $connect / $disconnect the DynamoDB one, send
    the SQS one, publish the SNS one, ping and $default none. A client costs 15-60 ms to build
    (botocore loads and parses its service model and, for the first one, the 1.2 MB endpoint
    table), which a container that never publishes should not pay on its first $connect.
    """

    def __init__(self, clients: AwsClients, service: ServiceName) -> None:
        self._clients = clients
        self._service = service

    def __getattr__(self, operation: str) -> Any:
        return getattr(self._clients.client(self._service), operation)


class AwsClients:
    """One boto3 session and its clients, each built on first use.

    A lock guards building: boto3 sessions are not thread-safe, and the local stack may call the
    handler from several threads of one process. Lambda calls it from one thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[ServiceName, Any] = {}
        self._management_apis: dict[str, Any] = {}

    def client(self, service: ServiceName) -> Any:
        built = self._clients.get(service)
        if built is not None:
            return built
        with self._lock:
            if service not in self._clients:
                if self._session is None:
                    self._session = endpoint_data.session()
                self._clients[service] = self._session.client(service, config=CLIENT_CONFIG)
            return self._clients[service]

    def management_api(self, endpoint: str) -> Any:
        """The API Gateway management API of this stage (recovery posts history to the
        subscribing connection, issue 18), built on first use."""
        built = self._management_apis.get(endpoint)
        if built is not None:
            return built
        with self._lock:
            if endpoint not in self._management_apis:
                if self._session is None:
                    self._session = endpoint_data.session()
                self._management_apis[endpoint] = self._session.client(
                    "apigatewaymanagementapi", endpoint_url=endpoint, config=CLIENT_CONFIG
                )
            return self._management_apis[endpoint]

    def built(self) -> frozenset[str]:
        """The services whose client exists (tests of the cold start)."""
        return frozenset(self._clients)

    @property
    def dynamodb(self) -> Any:
        return ClientOnFirstUse(self, "dynamodb")

    @property
    def sqs(self) -> Any:
        return ClientOnFirstUse(self, "sqs")

    @property
    def sns(self) -> Any:
        return ClientOnFirstUse(self, "sns")


def build_clients() -> AwsClients:
    return AwsClients()
