"""The load run of bench/load.py, small: about 1,000 connections, 10 s, nothing may be lost."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from tests.conftest import running_stack

BENCH_LOAD = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def load_bench() -> ModuleType:
    """bench/load.py is a script, not a package module: load it by path (once)."""
    if "sumu_bench_load" not in sys.modules:
        spec = importlib.util.spec_from_file_location("sumu_bench_load", BENCH_LOAD)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["sumu_bench_load"] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
    return sys.modules["sumu_bench_load"]


def test_a_thousand_connections_lose_no_delivery(tmp_path: Path) -> None:
    # GIVEN a stack and 1,000 connections over 200 users
    bench = load_bench()
    bench.raise_open_files_limit()
    options = bench.LoadOptions(
        connections=1000, users=200, seconds=10, rate=10, broadcast_every=5, drain_seconds=60
    )
    with running_stack(tmp_path, bench.LOAD_SUMU_TOML) as stack:
        # WHEN selected, broadcast and all-but requests go through SQS and SNS for 10 s
        report = asyncio.run(bench.run_load(stack.manifest, options))
    # THEN every connection was held, every frame arrived, no queue or DLQ holds anything
    assert report.connections_held == 1000, report
    assert report.connect_failures == 0, report
    assert report.expected_deliveries > 2000, report  # two broadcast-type requests at least
    assert report.lost == 0, report.lost_examples
    assert report.delivered == report.expected_deliveries
    assert sum(report.queue_depths.values()) == 0, report.queue_depths
