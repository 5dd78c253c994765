"""One post to one connection through the API Gateway management API, with its retries.

The client is ``signed_post.ManagementApiClient`` (one attempt per call, no retries of its own)
or, in tests and benchmarks, an aiobotocore client with botocore's retries switched off, so
that this loop is the only one: it knows which failures are worth a retry, sleeps with full
jitter between attempts, and reports how many retries it took.
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import aiohttp
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from sumu_pusher.settings import RetryPolicy

_RETRYABLE_CODES = frozenset(
    {
        "LimitExceededException",
        "ThrottlingException",
        "TooManyRequestsException",
        "InternalServerErrorException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)


class PostResult(Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # 410: the connection no longer exists; delete it
    REJECTED = "rejected"  # 413, other 4xx: no retry can deliver this request
    # 403: the function may not call this API (IAM, a wrong endpoint or stage, bad credentials).
    # Not about this connection or this request: every post of the batch would get it too.
    FORBIDDEN = "forbidden"
    FAILED = "failed"  # retryable failures that outlived the retries, or an unexpected error


@dataclass(frozen=True)
class PostOutcome:
    result: PostResult
    retries: int = 0
    detail: str = ""
    status: int | None = None  # the HTTP status of the last answer, when there was one


def classify(error: BaseException) -> PostResult | None:
    """GONE / REJECTED / FORBIDDEN for final answers, None when a retry may succeed, FAILED
    otherwise."""
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = error.response.get("Error", {}).get("Code", "")
        if status == 410 or code == "GoneException":
            return PostResult.GONE
        if status == 429 or status >= 500 or code in _RETRYABLE_CODES:
            return None
        if status == 403:
            return PostResult.FORBIDDEN
        return PostResult.REJECTED
    # Timeouts and connection resets (aiohttp's, or botocore's wrapping of them): the post may
    # not have reached the gateway, so it is retried; a duplicate is allowed, a loss is not.
    if isinstance(
        error,
        aiohttp.ClientError | HTTPClientError | BotocoreConnectionError | asyncio.TimeoutError,
    ):
        return None
    return PostResult.FAILED


def _status(error: BaseException) -> int | None:
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status if isinstance(status, int) else None
    return None


def _describe(error: BaseException) -> str:
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        code = error.response.get("Error", {}).get("Code", "?")
        return f"{status} {code}"
    return f"{type(error).__name__}: {error}"


async def post_to_connection(
    client: Any,
    connection_id: str,
    payload: bytes,
    retry: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    random_fraction: Callable[[], float] = random.random,
) -> PostOutcome:
    """Post ``payload`` to one connection. Never raises but for cancellation (the deadline)."""
    detail = ""
    for attempt in range(1, retry.max_attempts + 1):
        if attempt > 1:
            await sleep(retry.delay(attempt - 1, random_fraction()))
        try:
            await client.post_to_connection(ConnectionId=connection_id, Data=payload)
        except Exception as error:  # noqa: BLE001 - one connection's failure stays its own
            verdict = classify(error)
            detail = _describe(error)
            if verdict is not None:
                return PostOutcome(verdict, attempt - 1, detail, _status(error))
        else:
            return PostOutcome(PostResult.DELIVERED, attempt - 1)
    return PostOutcome(
        PostResult.FAILED, retry.max_attempts - 1, f"{detail} after {retry.max_attempts} attempts"
    )
