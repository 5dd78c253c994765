"""Rejected notification requests -> the notifications DLQ, at once, with the reason attached.

A rejected request is never retried blindly through its queue: the DLQ keeps the original body
(so a redrive after a fix re-sends it unchanged) and says why in message attributes.
"""

from __future__ import annotations

from typing import Any

from sumu_pusher.records import Rejection

# SQS message attribute values may not be empty and count towards the 256 KB message limit.
_MAX_REASON_CHARS = 1024


def dead_letter_attributes(rejection: Rejection) -> dict[str, Any]:
    attributes = {
        "reason": rejection.reason[:_MAX_REASON_CHARS] or rejection.code,
        "reason_code": rejection.code,
        "event_source": rejection.record.source,
    }
    if rejection.pointer:
        attributes["error_pointer"] = rejection.pointer
    if rejection.record.message_id:
        attributes["source_message_id"] = rejection.record.message_id
    return {
        name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
    }


async def dead_letter(sqs_client: Any, queue_url: str, rejection: Rejection) -> None:
    """Send the original body to the DLQ; raises when SQS refuses (the caller decides)."""
    await sqs_client.send_message(
        QueueUrl=queue_url,
        MessageBody=rejection.record.body or "(empty body)",
        MessageAttributes=dead_letter_attributes(rejection),
    )
