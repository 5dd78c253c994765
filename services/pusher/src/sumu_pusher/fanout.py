"""Bounded concurrency, the python-websockets ``broadcast`` / aiometer ``run_on_each`` way.

The semaphore is taken *before* each task is created, so at most ``limit`` tasks exist at any
time (never one task per connection up front), and items are drawn from ``items`` lazily, so a
producer can still skip work decided while earlier tasks ran. Each ``action`` must isolate its
own failures: an exception escaping one would cancel its siblings (TaskGroup semantics), so it
is a bug, not a delivery failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

Item = TypeVar("Item")


async def for_each_bounded(
    items: Iterable[Item], limit: int, action: Callable[[Item], Awaitable[None]]
) -> None:
    semaphore = asyncio.Semaphore(limit)

    async def run(item: Item) -> None:
        try:
            await action(item)
        finally:
            semaphore.release()

    async with asyncio.TaskGroup() as group:
        for item in items:
            await semaphore.acquire()
            group.create_task(run(item))
