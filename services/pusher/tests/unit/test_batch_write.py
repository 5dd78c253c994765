"""write_batch: the one BatchWriteItem loop of the connections prune and the subscriptions
cleanup (UnprocessedItems resent with backoff, bounded)."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sumu_pusher.batch_write import write_batch
from sumu_pusher.settings import RetryPolicy


class Throttling:
    """Hands back the first ``left[i]`` requests of call ``i`` as UnprocessedItems."""

    def __init__(self, left: list[int]) -> None:
        self.left = left
        self.sent: list[list[Any]] = []

    async def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        [(table, requests)] = RequestItems.items()
        self.sent.append(list(requests))
        keep = self.left.pop(0) if self.left else 0
        return {"UnprocessedItems": {table: requests[:keep]} if keep else {}}


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 25),
    left=st.lists(st.integers(0, 25), max_size=6),
    attempts=st.integers(1, 5),
)
def test_unprocessed_requests_are_resent_until_none_or_attempts_run_out(
    size: int, left: list[int], attempts: int
) -> None:
    requests = [{"DeleteRequest": {"Key": {"k": {"S": str(n)}}}} for n in range(size)]
    client = Throttling(list(left))
    calls, unprocessed = asyncio.run(
        write_batch(client, "t", requests, RetryPolicy(attempts, 0.0001, 0.0002))
    )
    assert calls == len(client.sent) <= attempts
    assert client.sent[0] == requests
    # Each resend is exactly what the previous answer left unprocessed.
    for before, after in zip(client.sent, client.sent[1:], strict=False):
        assert after == before[: len(after)]
    expected_left = 0
    remaining = size
    for call in range(calls):
        remaining = min(remaining, left[call]) if call < len(left) else 0
        expected_left = remaining
        if not remaining:
            break
    assert unprocessed == expected_left
