"""The presence-event contract: what backends receive, built as plain data.

Checked with the contract's compiled validator (fastjsonschema, compiled at import by handler.py),
not with sumu_contracts.models: importing pydantic and building those models cost a cold start
about 200 ms, and this is the only message the watchdog writes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sumu_contracts import validate

PresenceStatus = Literal["ONLINE", "OFFLINE"]
SOURCE = "lambda.presence.watchdog"
# The contract's sequence_number: a DynamoDB stream SequenceNumber is a string of digits.
_SEQUENCE_NUMBER = re.compile(r"[0-9]{1,40}")


@dataclass(frozen=True)
class PresenceMessage:
    user_id: str
    status: PresenceStatus
    timestamp: int | float
    sequence_number: str | None = None


@dataclass(frozen=True)
class PresenceEvent:
    message: PresenceMessage

    @classmethod
    def build(
        cls,
        *,
        user_id: str,
        status: PresenceStatus,
        timestamp: int | float,
        sequence_number: str | None = None,
    ) -> PresenceEvent:
        """The event; raises ContractError when it would break the contract.

        A sequence number that is not a string of digits (never so from DynamoDB) is left out
        rather than failing the record: the stream would retry it for ever.
        """
        if sequence_number is not None and not _SEQUENCE_NUMBER.fullmatch(sequence_number):
            sequence_number = None
        event = cls(PresenceMessage(user_id, status, timestamp, sequence_number))
        validate("presence-event", event.to_json_dict())
        return event

    def body(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "user_id": self.message.user_id,
            "status": self.message.status,
            "timestamp": self.message.timestamp,
        }
        if self.message.sequence_number is not None:
            message["sequence_number"] = self.message.sequence_number
        return {"type": "presence", "message": message}

    def body_text(self) -> str:
        return json.dumps(self.body(), separators=(",", ":"))

    def message_attributes(self) -> dict[str, dict[str, str]]:
        """SNS Publish / SQS SendMessage ``MessageAttributes``."""
        return {
            "source": {"DataType": "String", "StringValue": SOURCE},
            "user_id": {"DataType": "String", "StringValue": self.message.user_id},
            # Numbers travel as strings; no exponent, which the contract's pattern forbids.
            "timestamp": {
                "DataType": "Number",
                "StringValue": format(Decimal(str(self.message.timestamp)), "f"),
            },
        }

    def to_json_dict(self) -> dict[str, Any]:
        """The contract's {body, attributes} view."""
        return {"body": self.body(), "attributes": self.message_attributes()}
