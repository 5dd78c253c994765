"""Cold start as a user pays it: a fresh interpreter imports the handler and serves one batch.

GIVEN a new interpreter (a subprocess, as a new Lambda environment) and the stack on moto
WHEN it imports the handler and serves its first stream batch (an INSERT, or a REMOVE)
THEN the presence-event validator was compiled at import, pydantic is never imported, only the
clients the batch needs are built, and the event is published. bench/cold_start.py measures
the time; it is not asserted here (the machine is shared).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

PROBE = r"""
import json, sys
event = json.loads(sys.argv[1])
import sumu_presence.handler as handler_module
from sumu_contracts.validation import compiled_contracts
at_import = {"validators": sorted(compiled_contracts()), "pydantic": "pydantic" in sys.modules}
response = handler_module.handler(event, None)
print(json.dumps({
    "at_import": at_import,
    "pydantic_after_event": "pydantic" in sys.modules,
    "clients": sorted(handler_module.container_clients().built()),
    "response": response,
}))
"""


def record(kind: str) -> dict[str, Any]:
    return {
        "eventName": kind,
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795000000,
            "Keys": {"user_id": {"S": "alice"}, "connection_id": {"S": "c1"}},
            "SequenceNumber": "100000000000000000001",
        },
    }


@pytest.mark.parametrize(
    ("kind", "clients"), [("INSERT", ["sqs"]), ("REMOVE", ["dynamodb", "sqs"])]
)
def test_first_batch_in_a_fresh_interpreter(make_stream, make_queue, monkeypatch, kind, clients):
    stream, queue = make_stream(), make_queue()
    monkeypatch.setenv("CONNECTIONS_TABLE_NAME", stream.table_name)
    monkeypatch.setenv("PRESENCE_SOURCE", "queue")
    monkeypatch.setenv("MESSAGES_QUEUE_URL", queue.queue_url)

    completed = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps({"Records": [record(kind)]})],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "presence-event" in result["at_import"]["validators"]
    assert result["at_import"]["pydantic"] is False
    assert result["pydantic_after_event"] is False
    assert result["clients"] == clients
    assert result["response"] == {"batchItemFailures": []}
    [event] = queue.drain()
    assert event["body"]["message"]["status"] == ("ONLINE" if kind == "INSERT" else "OFFLINE")
