"""The SNS source invokes side by side, as SNS's asynchronous invocation of Lambda does: a slow
invocation does not hold the next message back, up to the function's concurrency."""

from __future__ import annotations

import threading
import time
from typing import Any

from sumu_local.stack.sources.sns import SnsEventSource

from .factories import Recorder, clients, drain, resources


class InFlight:
    """Counts invocations running at once; each waits until `release` is set (or 5 s)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.release = threading.Event()

    def __call__(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        self.release.wait(5)
        with self.lock:
            self.now -= 1


def run_source(concurrency: int | None, published: int, function_concurrency: int = 1) -> Any:
    aws = clients()
    stack = resources(aws)
    in_flight = InFlight()
    recorder = Recorder(in_flight)
    function = recorder.function("pusher")
    function.spec = type("Spec", (), {"concurrency": function_concurrency})()  # type: ignore[attr-defined]
    source = SnsEventSource(
        function=function,
        sqs=aws["sqs"],
        delivery_queue_url=stack.sns_delivery_queue_url,
        subscription_arn=stack.sns_delivery_subscription_arn,
        wait_seconds=0,
        concurrency=concurrency,
    )
    for index in range(published):
        aws["sns"].publish(TopicArn=stack.notifications_topic_arn, Message=f'{{"n": {index}}}')
    stop = threading.Event()
    thread = threading.Thread(target=source.run, args=(stop,), daemon=True)
    thread.start()
    # Wait for as many as the limit allows, not for all: the rest are not received yet, and
    # holding the first ones past the delivery queue's visibility timeout would redeliver them.
    limit = min(published, concurrency or function_concurrency)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and in_flight.most < limit:
        time.sleep(0.05)
    time.sleep(0.3)  # room for an invocation beyond the limit to start, were it allowed
    most = in_flight.most
    in_flight.release.set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(recorder.events) < published:
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    return most, recorder, aws, stack


def test_invocations_run_side_by_side_up_to_the_limit(aws_env: Any) -> None:
    # GIVEN 5 published messages and a source allowed 3 invocations at once
    # WHEN each invocation blocks
    most, recorder, aws, stack = run_source(concurrency=3, published=5)
    # THEN 3 ran at once, never more; all 5 were delivered and deleted
    assert most == 3
    assert sorted(record["Sns"]["Message"] for record in recorder.records) == [
        f'{{"n": {index}}}' for index in range(5)
    ]
    assert drain(aws["sqs"], stack.sns_delivery_queue_url) == []


def test_the_limit_defaults_to_the_functions_concurrency(aws_env: Any) -> None:
    # GIVEN a function whose spec allows 2 environments, and no limit on the source
    most, recorder, _aws, _stack = run_source(concurrency=None, published=4, function_concurrency=2)
    # THEN 2 invocations ran at once and every message was delivered
    assert most == 2
    assert len(recorder.records) == 4


def test_a_limit_of_one_is_one_at_a_time(aws_env: Any) -> None:
    most, recorder, _aws, _stack = run_source(concurrency=1, published=3)
    assert most == 1
    assert len(recorder.records) == 3
