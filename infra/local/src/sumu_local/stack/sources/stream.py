"""DynamoDB stream -> function, like Lambda's stream event source mapping.

Each shard is read in order; a batch that fails (an exception, or ``batchItemFailures`` naming
sequence numbers) is retried from the first failed record, so nothing after it overtakes it,
until ``max_retries`` (Lambda's MaximumRetryAttempts) is spent; then the rest of the batch is
logged and skipped so the shard moves on.
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from sumu_local.stack.lambda_runtime import Invocable
from sumu_local.stack.sources.ttl import ServiceDeletions, item_key

logger = logging.getLogger("sumu_local.sources.stream")

# What DynamoDB puts on a record deleted by TTL.
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
RETRY_BACKOFF_SECONDS = (0.1, 0.2, 0.5, 1.0, 2.0)


@dataclass
class StreamEventSource:
    function: Invocable
    streams: Any
    stream_arn: str
    region: str
    deletions: ServiceDeletions
    batch_size: int = 100
    poll_seconds: float = 0.05
    max_retries: int = 10
    _iterators: dict[str, str | None] = field(default_factory=dict)
    # The last sequence number handed on (delivered or skipped) per shard: after a read error the
    # shard is reopened just after it, so no record is delivered twice or lost.
    _positions: dict[str, str] = field(default_factory=dict)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if self.poll_once(stop) == 0:
                    stop.wait(self.poll_seconds)
            except Exception:
                logger.exception("reading stream %s failed", self.stream_arn)
                self._iterators.clear()  # reopen each shard after its last delivered record
                stop.wait(1.0)

    def poll_once(self, stop: threading.Event | None = None) -> int:
        """Read one batch from every shard and deliver it; returns how many records were read."""
        if not self._iterators:
            self._open_shards()
        read = 0
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue  # a closed shard
            response = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            records = response.get("Records", [])
            if records:
                self._deliver([self._record(record) for record in records], stop)
                self._positions[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                read += len(records)
            self._iterators[shard_id] = response.get("NextShardIterator")
        return read

    def _open_shards(self) -> None:
        # moto keeps one shard per table and never splits it, so the shard list is read once.
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in shards.get("Shards", []):
            shard_id = shard["ShardId"]
            position = self._positions.get(shard_id)
            where = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
                if position
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            self._iterators[shard_id] = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, **where
            )["ShardIterator"]

    def _deliver(self, records: list[dict[str, Any]], stop: threading.Event | None) -> None:
        pending = records
        for attempt in range(self.max_retries + 1):
            failed_from = self._invoke(pending)
            if failed_from is None:
                return
            pending = pending[failed_from:]
            if attempt < self.max_retries:
                delay = RETRY_BACKOFF_SECONDS[min(attempt, len(RETRY_BACKOFF_SECONDS) - 1)]
                if stop is not None and stop.wait(delay):
                    return
        logger.error(
            "%s kept failing; skipping %d stream records from sequence number %s",
            self.function.name,
            len(pending),
            pending[0]["dynamodb"]["SequenceNumber"],
        )

    def _invoke(self, records: list[dict[str, Any]]) -> int | None:
        """None when the whole batch succeeded, else the index to retry from."""
        try:
            response = self.function.invoke({"Records": records})
        except Exception:
            logger.exception("%s failed a stream batch of %d", self.function.name, len(records))
            return 0
        return first_failed_index(response, records)

    def _record(self, record: dict[str, Any]) -> dict[str, Any]:
        lambda_record = dict(record)
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, dt.datetime):
            # Lambda sends epoch seconds; boto3 parsed them into a datetime.
            change["ApproximateCreationDateTime"] = round(created.timestamp(), 3)
        lambda_record["dynamodb"] = change
        lambda_record["eventSourceARN"] = self.stream_arn
        lambda_record["awsRegion"] = self.region
        if record.get("eventName") == "REMOVE" and self.deletions.take(item_key(change["Keys"])):
            lambda_record["userIdentity"] = dict(TTL_IDENTITY)
        return lambda_record


def first_failed_index(response: Any, records: list[dict[str, Any]]) -> int | None:
    """Where a stream batch must be retried from, per Lambda's ReportBatchItemFailures rules:
    the lowest failed sequence number; an invalid identifier retries the whole batch."""
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return None
    failures = response["batchItemFailures"]
    sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
    indexes: list[int] = []
    for failure in failures if isinstance(failures, list) else [None]:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in sequence_numbers:
            return 0
        indexes.append(sequence_numbers.index(identifier))
    return min(indexes)
