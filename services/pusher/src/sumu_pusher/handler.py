"""Lambda entry point: SQS or SNS event -> notification fan-out -> partial batch response.

SQS: records whose delivery is incomplete are returned in ``batchItemFailures`` (the function's
event source mapping must enable ``ReportBatchItemFailures``), so only they are redelivered, and
after the queue's maxReceiveCount they land in its DLQ.
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html

SNS invokes the function asynchronously and has no partial response: an incomplete delivery
raises ``IncompleteDelivery`` so that Lambda's asynchronous retries (two, then the function's
on-failure destination) run the whole event again. Rejected SNS records do not raise: a retry
cannot fix them, so they are logged with their reason instead.
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html

A 403 from the management API is a configuration error, not a fact about one request: the
fan-out stops, an ERROR line names the likely causes, and every record not yet delivered is
retried (SQS: ``batchItemFailures``; SNS: ``IncompleteDelivery``) instead of being dead-lettered.
"""

from __future__ import annotations

from typing import Any, TypedDict

from sumu_pusher.records import InboundRecord, inbound_records
from sumu_pusher.runtime import budget_seconds, init_phase, thread_runtime
from sumu_pusher.telemetry import log_event, log_invocation

# Without a Lambda context (a local caller passing None), assume Lambda's default SQS visibility
# budget rather than no time at all.
DEFAULT_BUDGET_MS = 60_000


init_phase()


class BatchItemFailure(TypedDict):
    itemIdentifier: str


class BatchResponse(TypedDict):
    batchItemFailures: list[BatchItemFailure]


class IncompleteDelivery(RuntimeError):
    """An SNS-delivered notification request could not reach every connection yet."""


def handler(event: Any, context: Any) -> BatchResponse:
    records = list(inbound_records(event))
    if not records:
        log_event("WARN", "event holds no SQS or SNS records", event_type=type(event).__name__)
    outcome = thread_runtime().process(records, budget_seconds(context, DEFAULT_BUDGET_MS))
    log_invocation(outcome.figures)
    return _response(outcome.retry, outcome.configuration_error)


def _response(retry: list[InboundRecord], configuration_error: str = "") -> BatchResponse:
    failures: list[BatchItemFailure] = []
    sns_incomplete = []
    for record in retry:
        if record.source == "aws:sns":
            sns_incomplete.append(record.message_id or f"record {record.position}")
        elif record.message_id:
            failures.append({"itemIdentifier": record.message_id})
        else:
            log_event(
                "ERROR",
                "record cannot be retried: it has no messageId",
                position=record.position,
                body=record.body[:65536],
            )
    if sns_incomplete:
        cause = f" (management API: {configuration_error})" if configuration_error else ""
        raise IncompleteDelivery(f"delivery incomplete for SNS messages {sns_incomplete}{cause}")
    return {"batchItemFailures": failures}
