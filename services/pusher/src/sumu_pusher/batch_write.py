"""BatchWriteItem with DynamoDB's documented answer to UnprocessedItems, for every table.

Under throttling DynamoDB writes part of a batch and hands the rest back as UnprocessedItems;
the documented answer is to resend them with exponential backoff.
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from sumu_pusher.settings import RetryPolicy

# BatchWriteItem's limit of put/delete requests per call.
BATCH_WRITE_LIMIT = 25


async def write_batch(
    client: Any, table_name: str, requests: list[Any], retry: RetryPolicy
) -> tuple[int, int]:
    """Send ``requests`` (at most 25) until none is left or the attempts run out.

    Returns (calls made, requests still unprocessed).
    """
    calls = 0
    for attempt in range(1, retry.max_attempts + 1):
        if attempt > 1:
            await asyncio.sleep(retry.delay(attempt - 1, random.random()))  # noqa: S311 - jitter
        calls += 1
        response = await client.batch_write_item(RequestItems={table_name: requests})
        requests = response.get("UnprocessedItems", {}).get(table_name, [])
        if not requests:
            return calls, 0
    return calls, len(requests)
