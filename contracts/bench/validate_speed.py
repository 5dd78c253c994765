"""How long validate() takes per message, for each contract's golden valid examples.

    python3 -m uv run --frozen python contracts/bench/validate_speed.py

Prints a table. Each measurement is bounded in count (ROUNDS x BATCH) and in time (BUDGET_SECONDS
per contract); the first call, which compiles the validator, is timed apart. Times are this
process's CPU time, so other work on a shared machine does not inflate them.
"""

from __future__ import annotations

import json
import statistics
import time

from sumu_contracts import CONTRACT_NAMES, validate
from sumu_contracts.registry import SCHEMA_DIR

ROUNDS = 7
BATCH = 2_000
BUDGET_SECONDS = 5.0


def examples(contract: str) -> list[object]:
    golden = json.loads((SCHEMA_DIR / f"{contract}.v1.examples.json").read_text("utf-8"))
    return [example["payload"] for example in golden["valid"]]


def measure(contract: str) -> tuple[float, float, float]:
    messages = examples(contract)
    started = time.process_time()
    validate(contract, messages[0])
    first_ms = (time.process_time() - started) * 1000
    per_message_us = []
    deadline = time.monotonic() + BUDGET_SECONDS
    for _ in range(ROUNDS):
        if time.monotonic() > deadline:
            break
        started = time.process_time()
        for index in range(BATCH):
            validate(contract, messages[index % len(messages)])
        per_message_us.append((time.process_time() - started) / BATCH * 1_000_000)
    return first_ms, statistics.median(per_message_us), min(per_message_us)


def main() -> None:
    header = ("contract", "first call (compiles), ms", "median, us / message", "best, us / message")
    print(f"{header[0]:<22} {header[1]:>26} {header[2]:>21} {header[3]:>19}")
    for contract in CONTRACT_NAMES:
        first_ms, median_us, best_us = measure(contract)
        print(f"{contract:<22} {first_ms:>26.2f} {median_us:>21.2f} {best_us:>19.2f}")


if __name__ == "__main__":
    main()
