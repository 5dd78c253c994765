"""The load run of bench/load.py, small: about 1,000 connections, 10 s, nothing may be lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.load import LOAD_SUMU_TOML, LoadOptions, raise_open_files_limit, run_load
from tests.conftest import running_stack


def test_a_thousand_connections_lose_no_delivery(tmp_path: Path) -> None:
    # GIVEN a stack and 1,000 connections over 200 users
    raise_open_files_limit()
    options = LoadOptions(
        connections=1000, users=200, seconds=10, rate=10, broadcast_every=5, drain_seconds=60
    )
    with running_stack(tmp_path, LOAD_SUMU_TOML) as stack:
        # WHEN selected, broadcast and all-but requests go through SQS and SNS for 10 s
        report = asyncio.run(run_load(stack.manifest, options))
    # THEN every connection was held and every frame arrived, nothing went to a DLQ
    assert report.connections_held == 1000, report
    assert report.connect_failures == 0, report
    assert report.expected_deliveries > 2000, report  # two broadcast-type requests at least
    assert report.lost == 0, report.lost_examples
    assert report.delivered == report.expected_deliveries
    assert sum(report.dlq_messages.values()) == 0, report.dlq_messages
