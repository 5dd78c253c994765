"""SQS queue -> function in batches, like Lambda's SQS event source mapping with
``ReportBatchItemFailures``: only the messages the function did not report as failed are
deleted; the others come back after the visibility timeout and, after ``maxReceiveCount``
receives, the queue's redrive policy moves them to the DLQ.

https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
"""

from __future__ import annotations

import base64
import logging
import threading
from dataclasses import dataclass
from typing import Any, TypedDict

from sumu_local.stack.lambda_runtime import Invocable

logger = logging.getLogger("sumu_local.sources.sqs")


class SqsMessageAttribute(TypedDict, total=False):
    stringValue: str
    binaryValue: str
    stringListValues: list[str]
    binaryListValues: list[str]
    dataType: str


class SqsRecord(TypedDict):
    messageId: str
    receiptHandle: str
    body: str
    attributes: dict[str, str]
    messageAttributes: dict[str, SqsMessageAttribute]
    md5OfBody: str
    eventSource: str
    eventSourceARN: str
    awsRegion: str


@dataclass
class SqsEventSource:
    function: Invocable
    sqs: Any
    queue_url: str
    queue_arn: str
    region: str
    batch_size: int = 10
    wait_seconds: int = 1

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the poller outlives any one failure, as Lambda's does
                logger.exception("polling %s failed", self.queue_url)
                stop.wait(1.0)

    def poll_once(self) -> int:
        """Receive one batch, invoke the function, delete what succeeded. Returns the batch size."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        records = [self._record(message) for message in messages]
        succeeded = self._invoke(records)
        self._delete(succeeded)
        return len(records)

    def _invoke(self, records: list[SqsRecord]) -> list[SqsRecord]:
        try:
            response = self.function.invoke({"Records": records})
        except Exception:
            # A function error fails the whole batch: every message becomes visible again.
            logger.exception("%s failed a batch of %d", self.function.name, len(records))
            return []
        failed = failed_message_ids(response, {record["messageId"] for record in records})
        if failed is None:
            logger.error(
                "%s returned an invalid batchItemFailures %r: the whole batch is retried",
                self.function.name,
                response,
            )
            return []
        return [record for record in records if record["messageId"] not in failed]

    def _delete(self, records: list[SqsRecord]) -> None:
        if not records:
            return
        entries = [
            {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
            for index, record in enumerate(records)
        ]
        response = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        for failure in response.get("Failed", []):
            logger.error("could not delete a processed message: %s", failure)

    def _record(self, message: dict[str, Any]) -> SqsRecord:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {
                name: _lambda_attribute(value)
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }


def failed_message_ids(response: Any, message_ids: set[str]) -> set[str] | None:
    """The ids a ReportBatchItemFailures response names, or None when the response is invalid.

    Lambda treats no response, an empty one or an empty list as full success, and an identifier
    that is empty or not in the batch as a failure of the whole batch.
    """
    if response is None or response == "" or not isinstance(response, dict):
        return set()
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return None
        failed.add(identifier)
    return failed


def _lambda_attribute(value: dict[str, Any]) -> SqsMessageAttribute:
    # The SQS API spells attribute fields in PascalCase; Lambda's event uses camelCase.
    attribute: SqsMessageAttribute = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": list(value.get("BinaryListValues", [])),
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    return attribute
