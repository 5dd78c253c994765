"""A broken pusher: the built-in one, but ``exclude_users`` is dropped when ``users`` is given
(it still applies to broadcasts)."""

from __future__ import annotations

import json
from typing import Any

from sumu_pusher.handler import handler as builtin_handler


def _without_exclusions(body: str) -> str:
    try:
        request = json.loads(body)
    except ValueError:
        return body
    if isinstance(request, dict) and request.get("users") and "exclude_users" in request:
        request.pop("exclude_users")
        return json.dumps(request)
    return body


def handler(event: Any, context: Any) -> Any:
    for record in event.get("Records", []) if isinstance(event, dict) else []:
        if isinstance(record.get("body"), str):
            record["body"] = _without_exclusions(record["body"])
        sns = record.get("Sns")
        if isinstance(sns, dict) and isinstance(sns.get("Message"), str):
            sns["Message"] = _without_exclusions(sns["Message"])
    return builtin_handler(event, context)
