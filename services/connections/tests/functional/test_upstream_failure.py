"""AWS failing (5xx, throttling): botocore retries with backoff, then the client gets an
upstream_unavailable error frame and a structured log line says what failed.

The failing AWS is a real HTTP server on 127.0.0.1 that the clients reach through the
per-service endpoint variables (AWS_ENDPOINT_URL_SQS / _SNS / _DYNAMODB), while everything else
stays on moto.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sumu_connections.aws import MAX_ATTEMPTS
from sumu_connections.handler import handler
from sumu_testkit import free_port


@dataclass
class FailingAws:
    """Answers every request with one canned error and counts the requests."""

    status: int = 500
    body: bytes = b""
    content_type: str = "application/json"
    requests: list[str] = field(default_factory=list)
    url: str = ""
    monkeypatch: pytest.MonkeyPatch | None = None

    def stand_in_for(self, service: str) -> None:
        """Point the handler's client of ``service`` (SQS, SNS, DYNAMODB) here."""
        assert self.monkeypatch is not None
        self.monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", self.url)


def _request_handler(failing: FailingAws) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            failing.requests.append(self.headers.get("X-Amz-Target") or self.path)
            self.send_response(failing.status)
            self.send_header("Content-Type", failing.content_type)
            self.send_header("Content-Length", str(len(failing.body)))
            self.end_headers()
            self.wfile.write(failing.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def failing_aws(monkeypatch: pytest.MonkeyPatch, fresh_container: None) -> Iterator[FailingAws]:
    failing = FailingAws(monkeypatch=monkeypatch)
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _request_handler(failing))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    failing.url = f"http://127.0.0.1:{port}"
    try:
        yield failing
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


SQS_THROTTLED = b'{"__type": "com.amazonaws.sqs#ThrottlingException", "message": "Rate exceeded"}'
SNS_THROTTLED = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
    b"<Message>Rate exceeded</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
)
FAILURES = [
    # (action, service, status, body, content type)
    ("send", "SQS", 500, b"{}", "application/x-amz-json-1.0"),
    ("send", "SQS", 400, SQS_THROTTLED, "application/x-amz-json-1.0"),
    ("publish", "SNS", 503, b"", "text/xml"),
    ("publish", "SNS", 400, SNS_THROTTLED, "text/xml"),
]


@pytest.mark.usefixtures("stack")
@pytest.mark.parametrize("failure", FAILURES, ids=lambda case: f"{case[0]}-{case[2]}")
def test_an_aws_outage_is_retried_then_answered_with_upstream_unavailable(
    events, frame_of, service_logs, failing_aws, failure
):
    # GIVEN the queue / topic service answers every call with a 5xx or a throttling error
    action, service, status, body, content_type = failure
    failing_aws.status, failing_aws.body, failing_aws.content_type = status, body, content_type
    failing_aws.stand_in_for(service)

    # WHEN a frame for it arrives
    event = events.message(action, {"action": action, "message": {"n": 1}})
    frame = frame_of(handler(event, None))

    # THEN botocore tried MAX_ATTEMPTS times (retries with backoff) before giving up
    assert len(failing_aws.requests) == MAX_ATTEMPTS
    # AND the client is told to try again later, not shown the AWS error
    assert frame["type"] == "error"
    assert (frame["code"], frame["statusCode"], frame["retryable"]) == (
        "upstream_unavailable",
        503,
        True,
    )
    assert frame["requestId"] == event["requestContext"]["requestId"]
    # AND one structured log line records what failed
    [failed] = [line for line in service_logs() if line["event"] == "forward_failed"]
    assert failed["level"] == "ERROR"
    assert failed["retryable"] is True
    assert failed["action"] == action
    assert failed["request_id"] == event["requestContext"]["requestId"]


@pytest.mark.usefixtures("stack", "fresh_container")
def test_an_unreachable_queue_service_is_upstream_unavailable(
    events, frame_of, service_logs, monkeypatch
):
    # GIVEN nothing listens where the SQS endpoint points (connection refused)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", f"http://127.0.0.1:{free_port()}")

    # WHEN a send arrives
    frame = frame_of(handler(events.message("send", {"action": "send", "message": 1}), None))

    # THEN the client may retry, and the log says why
    assert (frame["code"], frame["retryable"]) == ("upstream_unavailable", True)
    assert any(line["event"] == "forward_failed" for line in service_logs())


def test_a_dynamodb_outage_refuses_the_connection(stack, events, service_logs, failing_aws):
    # GIVEN DynamoDB answers 500 to everything
    failing_aws.stand_in_for("DYNAMODB")

    # WHEN alice connects
    response = handler(events.connect(), None)

    # THEN after the retries the upgrade is refused (the client reconnects) and it is logged
    assert len(failing_aws.requests) == MAX_ATTEMPTS
    assert response["statusCode"] == 500
    assert [line["event"] for line in service_logs()] == ["connect_failed"]
    # AND nothing was stored anywhere: the failing endpoint is the only DynamoDB it reached
    assert stack.items() == []
