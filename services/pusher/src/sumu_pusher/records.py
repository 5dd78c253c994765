"""Lambda event records -> notification requests to deliver, or rejections with their reason.

Pure: no AWS calls. A record is rejected when no retry could ever deliver it (bad JSON, a broken
notification-request contract, data over API Gateway's message size); everything else becomes a
``NotificationJob``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sumu_contracts import ContractError, validate

CONTRACT = "notification-request"

# API Gateway WebSocket "Message payload size" quota: 128 KB, not raisable. Posting more only
# earns a 413, so such a request is rejected before any post.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
MAX_POST_BYTES = 128 * 1024

EventSource = Literal["aws:sqs", "aws:sns", "unknown"]
RejectionCode = Literal[
    "unrecognised_record", "invalid_json", "contract_violation", "payload_too_large"
]


@dataclass(frozen=True)
class InboundRecord:
    """One record as Lambda delivered it: where it came from and its body, untouched."""

    position: int
    source: EventSource
    message_id: str | None
    body: str


@dataclass(frozen=True)
class NotificationJob:
    """A valid notification request: who gets ``payload`` (users already deduplicated).

    ``broadcast``: the request has neither a ``users`` nor a ``channels`` key.
    ``empty_audience``: it names audiences and every one is an empty list, so it reaches
    nobody (a recipient list that came out empty must never mean "everyone").
    ``channel_payloads``: per channel named (deduplicated), the envelope each subscriber
    receives, ``{"type": "message", "channel", "id", "data"}`` (server-frame v2).
    """

    record: InboundRecord
    broadcast: bool
    users: tuple[str, ...]
    excluded: frozenset[str]
    payload: bytes
    empty_audience: bool = False
    channel_payloads: tuple[tuple[str, bytes], ...] = ()
    # The request's own id (since 0.4.0): its idempotency key and its envelopes' id.
    request_id: str | None = None

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(channel for channel, _ in self.channel_payloads)


@dataclass(frozen=True)
class Rejection:
    """A record that no retry can deliver, and why (``pointer``: RFC 6901, into the
    notification request, once unwrapped from any SNS envelope or Lambda event)."""

    record: InboundRecord
    code: str
    reason: str
    pointer: str = ""


def compile_validator() -> None:
    """Compile the contract's validator now (sumu_contracts compiles on first use)."""
    validate(CONTRACT, {"data": None})


def inbound_records(event: Any) -> Iterator[InboundRecord]:
    """The records of an SQS or SNS event; anything unrecognisable is kept as its JSON text."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        return
    for position, record in enumerate(records):
        yield _inbound_record(position, record)


def _inbound_record(position: int, record: Any) -> InboundRecord:
    if isinstance(record, Mapping):
        # SQS event records: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
        if record.get("eventSource") == "aws:sqs":
            message_id, body = record.get("messageId"), record.get("body")
            if isinstance(message_id, str) and message_id and isinstance(body, str):
                return InboundRecord(position, "aws:sqs", message_id, body)
        # SNS event records: https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
        if record.get("EventSource") == "aws:sns":
            sns = record.get("Sns")
            if isinstance(sns, Mapping) and isinstance(sns.get("Message"), str):
                message_id = sns.get("MessageId")
                return InboundRecord(
                    position,
                    "aws:sns",
                    message_id if isinstance(message_id, str) else None,
                    sns["Message"],
                )
    message_id = record.get("messageId") if isinstance(record, Mapping) else None
    return InboundRecord(
        position,
        "unknown",
        message_id if isinstance(message_id, str) and message_id else None,
        json.dumps(record, default=repr),
    )


def notification_job(record: InboundRecord) -> NotificationJob | Rejection:
    """Validate one record's body against notification-request and prepare its payload."""
    request = _valid_request(record)
    if isinstance(request, Rejection):
        return request
    payload = _payload(record, request["data"])
    if isinstance(payload, Rejection):
        return payload
    excluded = frozenset(request.get("exclude_users") or ())
    users = tuple(
        dict.fromkeys(user for user in request.get("users") or () if user not in excluded)
    )
    request_id = request.get("id")
    channel_payloads = _channel_payloads(
        request_id or message_id_of(record), record, request.get("channels") or (), payload
    )
    if isinstance(channel_payloads, Rejection):
        return channel_payloads
    named = [request[key] for key in ("users", "channels") if key in request]
    return NotificationJob(
        record=record,
        # A request naming channels is never a broadcast, even without users.
        broadcast=not named,
        users=users,
        excluded=excluded,
        payload=payload,
        empty_audience=bool(named) and all(audience == [] for audience in named),
        channel_payloads=channel_payloads,
        request_id=request_id,
    )


def message_id_of(record: InboundRecord) -> str:
    """The envelope's ``id``: the queue's or topic's message id, which a redelivery of the same
    message keeps, so every retry carries the same id and clients can drop duplicates. A record
    without one (never seen from SQS or SNS) gets a digest of its body, stable across retries."""
    if record.message_id:
        return record.message_id
    return "sha256:" + hashlib.sha256(record.body.encode("utf-8", "surrogatepass")).hexdigest()


def envelope_id(job: NotificationJob) -> str:
    """The envelope's ``id``: the request's ``id`` when it has one, else its message id."""
    return job.request_id or message_id_of(job.record)


def channel_envelope(channel: str, identifier: str, data_payload: bytes, seq: int | None) -> bytes:
    """``{"type": "message", "channel", "id", "seq"?, "data"}`` (server-frame v2) around the
    already serialised data (so data of any size is encoded once)."""
    # Channel names are ASCII by the contract's pattern.
    position = b',"seq":' + str(seq).encode("ascii") if seq is not None else b""
    return b"".join(
        (
            b'{"type":"message","channel":',
            json.dumps(channel).encode("ascii"),
            b',"id":',
            json.dumps(identifier, ensure_ascii=False).encode("utf-8"),
            position,
            b',"data":',
            data_payload,
            b"}",
        )
    )


# Room for the seq the history step adds (',"seq":' and up to 20 digits).
_SEQ_BYTES = 27


def _channel_payloads(
    identifier: str, record: InboundRecord, channels: Any, data_payload: bytes
) -> tuple[tuple[str, bytes], ...] | Rejection:
    """One envelope per distinct channel, without seq (the history step adds it)."""
    payloads: list[tuple[str, bytes]] = []
    for channel in dict.fromkeys(channels):
        envelope = channel_envelope(channel, identifier, data_payload, None)
        if len(envelope) + _SEQ_BYTES > MAX_POST_BYTES:
            return Rejection(
                record,
                "payload_too_large",
                f"the channel message for {channel} is {len(envelope)} bytes as JSON; API Gateway "
                f"posts at most {MAX_POST_BYTES}",
                "/data",
            )
        payloads.append((channel, envelope))
    return tuple(payloads)


def _valid_request(record: InboundRecord) -> dict[str, Any] | Rejection:
    if record.source == "unknown":
        return Rejection(record, "unrecognised_record", "not an SQS or SNS event record")
    try:
        request = _unwrap_sns_envelope(_unwrap_lambda_event(_parse_json(record.body)))
        validate(CONTRACT, request)
    except ContractError as error:
        return Rejection(record, "contract_violation", str(error), error.pointer)
    except (ValueError, RecursionError) as error:
        return Rejection(record, "invalid_json", f"the body is not usable JSON: {error}")
    valid: dict[str, Any] = request
    return valid


def _payload(record: InboundRecord, data: Any) -> bytes | Rejection:
    try:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        encoded = payload.encode("utf-8")
    except (ValueError, RecursionError) as error:
        # UnicodeEncodeError (a ValueError) too: data holding a lone surrogate ("\ud800") is
        # valid JSON text, but no UTF-8 post can carry it.
        return Rejection(record, "invalid_json", f"data cannot be serialised: {error}", "/data")
    if len(encoded) > MAX_POST_BYTES:
        return Rejection(
            record,
            "payload_too_large",
            f"data is {len(encoded)} bytes as JSON; API Gateway posts at most {MAX_POST_BYTES}",
            "/data",
        )
    return encoded


def _parse_json(text: str) -> Any:
    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=reject_constant)


def _unwrap_lambda_event(message: Any) -> Any:
    """A body redriven from the notifications DLQ may hold what Lambda recorded for a failed
    asynchronous (SNS) invocation rather than a request:

    - a function dead-letter queue gets the event itself, unchanged:
      ``{"Records": [{"EventSource": "aws:sns", "Sns": {..., "Message": "<request>"}}]}``;
    - an on-failure destination gets an invocation record with the event as ``requestPayload``.

    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    SNS invokes a function with exactly one record, so only that shape is unwrapped; anything
    else is left as it is and breaks the (closed) notification-request contract.
    """
    if (
        isinstance(message, dict)
        and isinstance(message.get("requestContext"), dict)
        and "functionArn" in message["requestContext"]
        and "requestPayload" in message
    ):
        message = message["requestPayload"]
    records = message.get("Records") if isinstance(message, dict) else None
    if isinstance(records, list) and len(records) == 1 and len(message) == 1:
        [record] = records
        if isinstance(record, dict) and record.get("EventSource") == "aws:sns":
            sns = record.get("Sns")
            if isinstance(sns, dict) and isinstance(sns.get("Message"), str):
                return _parse_json(sns["Message"])
    return message


def _unwrap_sns_envelope(message: Any) -> Any:
    """An SNS topic feeding the queue without raw message delivery wraps the request in an
    envelope. notification-request is a closed object, so the envelope can never be mistaken
    for a request.
    https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html
    """
    if (
        isinstance(message, dict)
        and message.get("Type") == "Notification"
        and "TopicArn" in message
        and isinstance(message.get("Message"), str)
    ):
        return _parse_json(message["Message"])
    return message
