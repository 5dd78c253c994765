"""SNS topic -> function, one record per invocation, like SNS's push to a Lambda subscriber.

moto delivers SNS to SQS, not to code, so an internal queue is subscribed to the topic and each
SNS envelope it receives becomes Lambda's SNS event. A failed invocation leaves the message on
the queue: it is retried after the visibility timeout and, after the redrive policy's
``maxReceiveCount``, kept in the internal queue's DLQ (Lambda's async retries and on-failure
destination). https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, TypedDict

from sumu_local.stack.lambda_runtime import Invocable

logger = logging.getLogger("sumu_local.sources.sns")


class SnsMessage(TypedDict):
    Type: str
    MessageId: str
    TopicArn: str
    Subject: str | None
    Message: str
    Timestamp: str
    SignatureVersion: str
    Signature: str
    SigningCertUrl: str
    UnsubscribeUrl: str
    MessageAttributes: dict[str, dict[str, str]]


class SnsRecord(TypedDict):
    EventSource: str
    EventVersion: str
    EventSubscriptionArn: str
    Sns: SnsMessage


@dataclass
class SnsEventSource:
    function: Invocable
    sqs: Any
    delivery_queue_url: str
    subscription_arn: str
    wait_seconds: int = 1

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("polling %s failed", self.delivery_queue_url)
                stop.wait(1.0)

    def poll_once(self) -> int:
        messages = self.sqs.receive_message(
            QueueUrl=self.delivery_queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=self.wait_seconds,
        ).get("Messages", [])
        for message in messages:
            if self._deliver(message["Body"]):
                self.sqs.delete_message(
                    QueueUrl=self.delivery_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return len(messages)

    def _deliver(self, body: str) -> bool:
        try:
            record = sns_record(json.loads(body), self.subscription_arn)
        except (ValueError, KeyError, TypeError):
            logger.exception("not an SNS envelope, dropped: %.200s", body)
            return True
        try:
            self.function.invoke({"Records": [record]})
        except Exception:
            logger.exception(
                "%s failed SNS message %s: retried after the visibility timeout",
                self.function.name,
                record["Sns"]["MessageId"],
            )
            return False
        return True


def sns_record(envelope: dict[str, Any], subscription_arn: str) -> SnsRecord:
    """Lambda's SNS record from the JSON envelope SNS delivers to an SQS subscriber."""
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": envelope["Type"],
            "MessageId": envelope["MessageId"],
            "TopicArn": envelope["TopicArn"],
            "Subject": envelope.get("Subject"),
            "Message": envelope["Message"],
            "Timestamp": envelope["Timestamp"],
            "SignatureVersion": str(envelope.get("SignatureVersion", "1")),
            "Signature": envelope.get("Signature", ""),
            "SigningCertUrl": envelope.get("SigningCertURL", ""),
            "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
            "MessageAttributes": dict(envelope.get("MessageAttributes", {})),
        },
    }
