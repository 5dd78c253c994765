"""The frames this service answers with (the server-frame contract), as JSON text.

The pydantic models are imported on first use, not at import: they add a few hundred
milliseconds to a cold start, and $connect / $disconnect, the routes every connection hits,
answer no frame.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from sumu_connections.refusal import Refusal


def _dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


def pong(connection_id: str) -> str:
    from sumu_contracts.models import PongFrame  # noqa: PLC0415 - lazy, see above

    return _dumps(PongFrame(connection_id=connection_id).to_json_dict())


def ack(action: Literal["send", "publish"], message_id: str, request_id: str | None) -> str:
    from sumu_contracts.models import AckFrame  # noqa: PLC0415 - lazy, see above

    frame = AckFrame(action=action, message_id=message_id, request_id=request_id)
    return _dumps(frame.to_json_dict())


def error(refusal: Refusal, request_id: str | None) -> str:
    from sumu_contracts.models import ErrorFrame  # noqa: PLC0415 - lazy, see above

    frame = ErrorFrame(
        status_code=refusal.status_code,
        code=refusal.code,
        message=refusal.message,
        retryable=refusal.retryable,
        action=refusal.action,
        pointer=refusal.pointer,
        request_id=request_id,
    )
    return _dumps(frame.to_json_dict())
