"""One post and its retries, against a scripted client (the real HTTP paths are functional)."""

from __future__ import annotations

import asyncio

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from sumu_pusher.management_api import PostResult, classify, post_to_connection
from sumu_pusher.settings import RetryPolicy


def client_error(status: int, code: str) -> ClientError:
    response = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}  # fmt: skip
    return ClientError(response, "PostToConnection")


class ScriptedClient:
    def __init__(self, *answers: BaseException | None) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def post_to_connection(self, ConnectionId: str, Data: bytes) -> None:
        self.calls += 1
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer


POLICY = RetryPolicy(4, 0.1, 1.0)


def post(client, policy=POLICY):
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    outcome = asyncio.run(
        post_to_connection(client, "c", b"1", policy, sleep=sleep, random_fraction=lambda: 0.5)
    )
    return outcome, sleeps


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (client_error(410, "GoneException"), PostResult.GONE),
        (client_error(413, "PayloadTooLargeException"), PostResult.REJECTED),
        (client_error(403, "ForbiddenException"), PostResult.FORBIDDEN),
        (client_error(403, "AccessDeniedException"), PostResult.FORBIDDEN),
        (client_error(400, "BadRequestException"), PostResult.REJECTED),
        (client_error(429, "LimitExceededException"), None),
        (client_error(400, "ThrottlingException"), None),
        (client_error(500, "InternalServerErrorException"), None),
        (client_error(503, "ServiceUnavailable"), None),
        (ReadTimeoutError(endpoint_url="http://x"), None),
        (TimeoutError(), None),
        (RuntimeError("bug"), PostResult.FAILED),
    ],
)
def test_classification(error, verdict):
    assert classify(error) == verdict


def test_retryable_failures_back_off_exponentially_with_jitter_then_deliver():
    client = ScriptedClient(client_error(429, "LimitExceededException"), client_error(500, "X"))
    outcome, sleeps = post(client)
    assert outcome.result is PostResult.DELIVERED
    assert outcome.retries == 2
    assert sleeps == [0.05, 0.1]  # half (the jitter) of 0.1 then 0.2


def test_retries_are_bounded():
    client = ScriptedClient(*[client_error(500, "X")] * 10)
    outcome, sleeps = post(client)
    assert outcome.result is PostResult.FAILED
    assert client.calls == 4
    assert len(sleeps) == 3
    assert "after 4 attempts" in outcome.detail


@pytest.mark.parametrize(
    ("error", "result"),
    [
        (client_error(410, "GoneException"), PostResult.GONE),
        (client_error(413, "PayloadTooLargeException"), PostResult.REJECTED),
        (ValueError("unexpected"), PostResult.FAILED),
    ],
)
def test_final_answers_are_not_retried(error, result):
    client = ScriptedClient(error)
    outcome, sleeps = post(client)
    assert (outcome.result, client.calls, sleeps) == (result, 1, [])
