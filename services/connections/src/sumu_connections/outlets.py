"""Where user messages go: the messages queue (send, SQS) and the messages topic (publish, SNS).

botocore has already retried throttling and 5xx answers with backoff (see aws.py) by the time an
error reaches this module; what is left is sorted into "try again later" and "will not work".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from sumu_connections.user_message import UserMessage

# The throttling codes botocore's standard retry mode itself treats as transient:
# https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "KMSThrottlingException",
    }
)
_TRANSIENT_TRANSPORT_ERRORS = (
    ConnectTimeoutError,
    ReadTimeoutError,
    EndpointConnectionError,
    ConnectionClosedError,
)


class DeliveryError(Exception):
    """The queue or topic did not take the message. ``retryable``: it may on a later try."""

    def __init__(self, *, retryable: bool, error_code: str, detail: str) -> None:
        super().__init__(f"{error_code}: {detail}")
        self.retryable = retryable
        self.error_code = error_code
        self.detail = detail


def _delivery_error(error: Exception) -> DeliveryError:
    if isinstance(error, ClientError):
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        code = str(error.response.get("Error", {}).get("Code") or f"HTTP{status}")
        transient = status >= 500 or status == 429 or code in _THROTTLING_CODES
        return DeliveryError(retryable=transient, error_code=code, detail=str(error))
    transient = isinstance(error, _TRANSIENT_TRANSPORT_ERRORS)
    return DeliveryError(retryable=transient, error_code=type(error).__name__, detail=str(error))


class Outlet(Protocol):
    @property
    def destination(self) -> str:
        """The queue URL or topic ARN, for logs."""

    def deliver(self, user_message: UserMessage) -> str:
        """Hand the message over; return its message id or raise DeliveryError."""


@dataclass(frozen=True)
class QueueOutlet:
    sqs: Any
    destination: str

    def deliver(self, user_message: UserMessage) -> str:
        try:
            response = self.sqs.send_message(
                QueueUrl=self.destination,
                MessageBody=user_message.body,
                MessageAttributes=user_message.attributes,
            )
        except (ClientError, BotoCoreError) as error:
            raise _delivery_error(error) from error
        return str(response["MessageId"])


@dataclass(frozen=True)
class TopicOutlet:
    sns: Any
    destination: str

    def deliver(self, user_message: UserMessage) -> str:
        try:
            response = self.sns.publish(
                TopicArn=self.destination,
                Message=user_message.body,
                MessageAttributes=user_message.attributes,
            )
        except (ClientError, BotoCoreError) as error:
            raise _delivery_error(error) from error
        return str(response["MessageId"])
