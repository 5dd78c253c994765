"""Bounded fan-out: the semaphore is taken before a task exists."""

from __future__ import annotations

import asyncio
import time

from sumu_pusher.fanout import for_each_bounded


def test_at_most_limit_tasks_exist_and_items_are_drawn_lazily():
    drawn = []
    running = 0
    peak_running = 0
    peak_tasks = 0

    def items():
        for n in range(50):
            drawn.append(n)
            yield n

    async def action(item):
        nonlocal running, peak_running, peak_tasks
        running += 1
        peak_running = max(peak_running, running)
        peak_tasks = max(peak_tasks, len(asyncio.all_tasks()) - 1)
        assert len(drawn) <= item + 6  # the spawner holds one item while it waits for a slot
        await asyncio.sleep(0.001)
        running -= 1

    asyncio.run(for_each_bounded(items(), 5, action))
    assert drawn == list(range(50))
    assert peak_running == 5
    assert peak_tasks <= 5


def test_nothing_to_do_returns_at_once():
    called = []

    async def action(item):
        called.append(item)
        await asyncio.sleep(1)

    started = time.monotonic()
    asyncio.run(for_each_bounded([], 3, action))
    assert called == []
    assert time.monotonic() - started < 0.5
