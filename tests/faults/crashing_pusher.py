"""A pusher that crashes mid-batch, for the fault tests (the stack's `[handlers] pusher`).

While the control file (`FAULTS_CONTROL_FILE`) says `crashes` > 0, an invocation of more than one
record runs the real pusher on the first half of its records (those are delivered), then raises,
as a Lambda that dies mid-batch would: the event source retries the whole batch. Otherwise it is
the real pusher.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sumu_pusher.handler import handler as pusher_handler


class InjectedCrash(RuntimeError):
    """The fault the test asked for."""


def handler(event: Any, context: Any) -> Any:
    control = Path(os.environ["FAULTS_CONTROL_FILE"])
    records = event.get("Records", []) if isinstance(event, dict) else []
    state = json.loads(control.read_text("utf-8")) if control.exists() else {}
    if state.get("crashes", 0) > 0 and len(records) > 1:
        state["crashes"] -= 1
        state["crashed_batches"] = state.get("crashed_batches", 0) + 1
        control.write_text(json.dumps(state), "utf-8")
        pusher_handler({**event, "Records": records[: len(records) // 2]}, context)
        raise InjectedCrash(f"crashed after {len(records) // 2} of {len(records)} records")
    return pusher_handler(event, context)
