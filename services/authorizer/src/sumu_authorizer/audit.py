"""One structured JSON log line per decision or key event. Never the token, only why.

Denials and key failures are WARNING (shown by Lambda's default log level); allows are INFO.
"""

from __future__ import annotations

import json
import logging

_log = logging.getLogger("sumu_authorizer")
MAX_FIELD_CHARS = 200  # a kid or an error text comes from outside; keep log lines bounded


def _bounded(value: object) -> object:
    if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
        return value[:MAX_FIELD_CHARS] + "..."
    return value


def log_event(level: int, event: str, **fields: object) -> None:
    if _log.isEnabledFor(level):
        record = {"event": event, **{name: _bounded(value) for name, value in fields.items()}}
        _log.log(level, json.dumps(record, default=str, separators=(",", ":")))
