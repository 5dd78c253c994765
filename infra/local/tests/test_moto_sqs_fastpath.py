"""moto's SendMessage with sumu-local's SQS fast path: the same answers, without counting a
standard queue's messages on every send."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import Queue
from sumu_local import moto_sqs_fastpath


@pytest.fixture
def sqs() -> Iterator[Any]:
    moto_sqs_fastpath.install()
    try:
        with mock_aws():
            yield boto3.client("sqs", region_name="us-east-1")
    finally:
        moto_sqs_fastpath.uninstall()


def test_a_send_to_a_standard_queue_does_not_walk_its_messages(
    sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a standard queue holding messages nobody reads
    url = sqs.create_queue(QueueName="unread")["QueueUrl"]
    for index in range(50):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))
    walks: list[int] = []
    original = Queue.messages.fget  # type: ignore[attr-defined]

    def counted(self: Queue) -> Any:
        walks.append(1)
        return original(self)

    monkeypatch.setattr(Queue, "messages", property(counted))
    # WHEN one more message is sent THEN the queue's messages were not counted
    sqs.send_message(QueueUrl=url, MessageBody="one more")
    assert walks == []
    # AND its attributes are still moto's own
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "51"
    assert "ContentBasedDeduplication" not in attributes


def test_a_fifo_queue_still_deduplicates_by_content(sqs: Any) -> None:
    url = sqs.create_queue(
        QueueName="ordered.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [message["Body"] for message in received] == ["same"]
