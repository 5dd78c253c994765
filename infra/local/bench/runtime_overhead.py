"""What calling a function through the Lambda Runtime API costs: a no-op handler's round trip.

    python3 -m uv run --frozen python infra/local/bench/runtime_overhead.py [--count 2000]
        [--ric-python /path/to/venv/bin/python]

Round trip = the caller hands an event to ``Function.invoke`` (or ``await ainvoke``) -> the
environment's ``/next`` returns it -> the handler returns ``{}`` -> ``/response`` -> the caller
has the result. Rows: sumu-local's bootstrap called from a thread and from an event loop, 4
callers at once on 4 environments, AWS's runtime interface client (when ``--ric-python`` names
an interpreter with awslambdaric installed), and a direct in-process call for scale. Prints one
table; every run is bounded by --count.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sumu_local.stack.functions import Function, FunctionSpec

NOOP = "def handler(event, context):\n    return {}\n"
WARMUP = 50


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, statistics.fmean(ordered)


def once(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def timed(call: Callable[[], Any], count: int) -> list[float]:
    for _ in range(WARMUP):
        call()
    return [once(call) for _ in range(count)]


def timed_async(function: Function, count: int) -> list[float]:
    async def run() -> list[float]:
        for _ in range(WARMUP):
            await function.ainvoke({})
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            await function.ainvoke({})
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    return asyncio.run(run())


def timed_parallel(function: Function, count: int, callers: int) -> tuple[list[float], float]:
    """Latencies of ``count`` invocations by ``callers`` threads, and invocations per second."""
    with ThreadPoolExecutor(max_workers=callers) as pool:
        list(pool.map(lambda _: function.invoke({}), range(WARMUP)))
        started = time.perf_counter()
        samples = list(pool.map(lambda _: once(lambda: function.invoke({})), range(count)))
        elapsed = time.perf_counter() - started
    return samples, count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--ric-python", type=Path, help="an interpreter with awslambdaric")
    args = parser.parse_args()
    rows: list[tuple[str, list[float], float | None]] = []
    with tempfile.TemporaryDirectory() as temporary:
        code = Path(temporary)
        (code / "noop.py").write_text(NOOP, "utf-8")
        quiet: Callable[[str, str], None] = lambda name, line: None  # noqa: E731

        def spec(**overrides: Any) -> FunctionSpec:
            values: dict[str, Any] = {
                "name": "noop",
                "handler": "noop.handler",
                "code": code,
                "timeout_seconds": 10,
            }
            return FunctionSpec(**{**values, **overrides})

        with Function(spec(), log_sink=quiet) as function:
            rows.append(
                (
                    "bootstrap, invoke() from a thread",
                    timed(lambda: function.invoke({}), args.count),
                    None,
                )
            )
            rows.append(("bootstrap, await ainvoke()", timed_async(function, args.count), None))
        with Function(spec(concurrency=4), log_sink=quiet) as function:
            samples, rate = timed_parallel(function, args.count, callers=4)
            rows.append(("bootstrap, 4 callers on 4 environments", samples, rate))
        if args.ric_python is not None:
            command = (str(args.ric_python), "-m", "awslambdaric", "noop.handler")
            with Function(spec(command=command), log_sink=quiet) as function:
                rows.append(
                    (
                        "awslambdaric (command), invoke()",
                        timed(lambda: function.invoke({}), args.count),
                        None,
                    )
                )
        sys.path.insert(0, str(code))
        from noop import handler  # type: ignore[import-not-found]  # noqa: PLC0415

        rows.append(
            ("in-process call (0.1's design)", timed(lambda: handler({}, None), args.count), None)
        )
    print(f"\nno-op function round trip, {args.count} invocations each (after {WARMUP} warm-up)\n")
    print(
        f"| {'path':<42} | {'p50 ms':>7} | {'p99 ms':>7} | {'mean ms':>7} | {'invocations/s':>13} |"
    )
    print(f"|{'-' * 44}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 15}|")
    for name, row_samples, row_rate in rows:
        p50, p99, mean = percentiles(row_samples)
        throughput = row_rate if row_rate is not None else 1000 / max(mean, 1e-9)
        print(f"| {name:<42} | {p50:>7.3f} | {p99:>7.3f} | {mean:>7.3f} | {throughput:>13.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
