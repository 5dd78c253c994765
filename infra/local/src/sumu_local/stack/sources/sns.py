"""SNS topic -> function, one record per invocation, like SNS's push to a Lambda subscriber.

moto delivers SNS to SQS, not to code, so an internal queue is subscribed to the topic and each
SNS envelope it receives becomes Lambda's SNS event. A failed invocation leaves the message on
the queue: it is retried after the visibility timeout and, after the redrive policy's
``maxReceiveCount``, kept in the internal queue's DLQ (Lambda's async retries and on-failure
destination). https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html

SNS invokes a Lambda subscriber asynchronously: one message does not wait for the previous one's
invocation to end, Lambda runs them side by side up to the function's concurrency. ``run`` can
keep up to ``concurrency`` invocations in flight (``None``: the function's own limit,
``spec.concurrency``) and then receives only as many messages as it has free slots, so no
received message waits for a slot while its visibility timeout runs. The class's default is 1,
one at a time; ``sumu up`` passes ``None`` since sumu-local 0.5.0, once moto's Scan fast path
(``moto_scan_fastpath``: ~0.13 s of moto per 10,000-item Scan instead of ~4 s) stopped
concurrent broadcasts from pushing moto past the pusher's read timeout.
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
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
    # Invocations in flight at once; None: the function's own concurrency (``spec.concurrency``).
    concurrency: int | None = 1

    def in_flight_limit(self) -> int:
        if self.concurrency is not None:
            return max(1, self.concurrency)
        spec = getattr(self.function, "spec", None)
        limit = getattr(spec, "concurrency", 1)
        return max(1, limit) if isinstance(limit, int) else 1

    def run(self, stop: threading.Event) -> None:
        limit = self.in_flight_limit()
        slots = threading.Semaphore(limit)
        with ThreadPoolExecutor(limit, thread_name_prefix=f"{self.function.name}-sns") as pool:
            while not stop.is_set():
                try:
                    self._dispatch_once(pool, slots, limit)
                except Exception:
                    logger.exception("polling %s failed", self.delivery_queue_url)
                    stop.wait(1.0)

    def _dispatch_once(
        self, pool: ThreadPoolExecutor, slots: threading.Semaphore, limit: int
    ) -> int:
        """Wait for a free slot, receive at most as many messages as slots are free, start each
        one's invocation without waiting for it. Returns the number received."""
        if not slots.acquire(timeout=1.0):
            return 0
        free = 1
        while free < min(10, limit) and slots.acquire(blocking=False):
            free += 1
        try:
            messages = self._receive(free)
        except BaseException:
            for _ in range(free):
                slots.release()
            raise
        for _ in range(free - len(messages)):
            slots.release()
        for message in messages:
            pool.submit(self._settle, message, slots)
        return len(messages)

    def _settle(self, message: dict[str, Any], slots: threading.Semaphore) -> None:
        try:
            self._deliver_and_delete(message)
        except Exception:
            logger.exception("delivering from %s failed", self.delivery_queue_url)
        finally:
            slots.release()

    def poll_once(self) -> int:
        """Receive one batch and deliver its messages (side by side, up to the concurrency);
        returns once all of them are settled. Returns the batch size."""
        limit = self.in_flight_limit()
        messages = self._receive(10)
        if limit == 1 or len(messages) <= 1:
            for message in messages:
                self._deliver_and_delete(message)
        else:
            with ThreadPoolExecutor(min(limit, len(messages))) as pool:
                list(pool.map(self._deliver_and_delete, messages))
        return len(messages)

    def _receive(self, count: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.delivery_queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=self.wait_seconds,
        ).get("Messages", [])
        return messages

    def _deliver_and_delete(self, message: dict[str, Any]) -> None:
        if self._deliver(message["Body"]):
            self.sqs.delete_message(
                QueueUrl=self.delivery_queue_url, ReceiptHandle=message["ReceiptHandle"]
            )

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
