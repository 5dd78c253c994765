"""Cold start as a user pays it: a fresh interpreter imports the handler and serves one event.

GIVEN a new interpreter (a subprocess, as a new Lambda environment) and the stack on moto
WHEN it imports the handler and serves its first event of each kind
THEN the contracts' validators were compiled at import (the init phase), pydantic is never
imported on the way (it cost about 200 ms of a first frame), each route builds only the AWS
clients it uses, and the answer is the one a warm container gives.

Times are not asserted here (the machine is shared); bench/cold_start.py measures them.
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
import sumu_connections.handler as handler_module
from sumu_contracts.validation import compiled_contracts
at_import = {
    "validators": sorted(compiled_contracts()),
    "pydantic": "pydantic" in sys.modules,
}
response = handler_module.handler(event, None)
print(json.dumps({
    "at_import": at_import,
    "pydantic_after_event": "pydantic" in sys.modules,
    "clients": sorted(handler_module.container_clients().built()),
    "response": response,
}))
"""


def first_event(event: dict[str, Any]) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(event)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def kinds(events: Any) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Each kind of first event and the clients it needs."""
    message = {"text": "hello"}
    return {
        "$connect": (events.connect(), ["dynamodb"]),
        "$disconnect": (events.disconnect(), ["dynamodb"]),
        "ping": (events.message("ping", {"action": "ping"}), []),
        "send": (events.message("send", {"action": "send", "message": message}), ["sqs"]),
        "publish": (events.message("publish", {"action": "publish", "message": message}), ["sns"]),
        "$default": (events.message("$default", "not json"), []),
    }


@pytest.mark.parametrize("kind", ["$connect", "$disconnect", "ping", "send", "publish", "$default"])
def test_first_event_of_each_kind_in_a_fresh_interpreter(stack, events, kind):
    # GIVEN a fresh interpreter and the first event of one kind
    event, clients = kinds(events)[kind]

    # WHEN it imports the handler and serves the event
    result = first_event(event)

    # THEN the validators were compiled at import, pydantic never loaded, only the clients the
    # route uses were built, and the answer is right
    assert set(result["at_import"]["validators"]) >= {
        "client-frame",
        "connection-record",
        "server-frame",
        "user-message",
    }
    assert result["at_import"]["pydantic"] is False
    assert result["pydantic_after_event"] is False
    assert result["clients"] == clients
    assert result["response"]["statusCode"] == 200
    if kind in ("ping", "send", "publish"):
        frame = json.loads(result["response"]["body"])
        assert frame["type"] == ("pong" if kind == "ping" else "ack")
    if kind == "$default":
        assert json.loads(result["response"]["body"])["code"] == "invalid_json"
