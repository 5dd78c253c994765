"""The AWS clients, built once per container.

Every client honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``) by itself, which
is how the local stack and the tests point them at moto:
https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

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


@dataclass(frozen=True)
class AwsClients:
    dynamodb: Any
    sqs: Any
    sns: Any


def build_clients() -> AwsClients:
    session = boto3.session.Session()
    return AwsClients(
        dynamodb=session.client("dynamodb", config=CLIENT_CONFIG),
        sqs=session.client("sqs", config=CLIENT_CONFIG),
        sns=session.client("sns", config=CLIENT_CONFIG),
    )
