from __future__ import annotations

import base64

import pytest
from sumu_connections.events import read_event


def test_the_fields_of_a_message_event_are_read(events):
    # GIVEN a send event as API Gateway builds it
    event = events.message("send", {"action": "send", "message": 1}, connection_id="c-1")

    # WHEN it is read
    request = read_event(event)

    # THEN the routes get what they need
    assert request.route_key == "send"
    assert request.connection_id == "c-1"
    assert request.principal_id == "alice"
    assert request.request_id == event["requestContext"]["requestId"]
    assert request.request_time_ms == event["requestContext"]["requestTimeEpoch"]
    assert request.source_ip == "203.0.113.7"
    assert request.frame == '{"action": "send", "message": 1}'
    assert request.frame_is_text


def test_a_binary_frame_is_decoded():
    event = {"body": base64.b64encode(b'{"action":"ping"}').decode(), "isBase64Encoded": True}
    request = read_event(event)
    assert (request.frame, request.frame_is_text) == ('{"action":"ping"}', True)


@pytest.mark.parametrize(
    "body",
    [base64.b64encode(b"\xff\x00").decode(), "not base64!", "\x80"],
    ids=["not-utf8", "not-base64", "not-ascii"],
)
def test_a_binary_frame_that_is_not_utf8_base64_is_marked(body):
    request = read_event({"body": body, "isBase64Encoded": True})
    assert (request.frame, request.frame_is_text) == (None, False)


def test_a_malformed_event_reads_as_an_empty_default_request():
    for event in (None, [], "text", {"requestContext": "x"}, {"requestContext": {"routeKey": 5}}):
        request = read_event(event)
        assert request.route_key == "$default"
        assert request.principal_id is None
        assert request.frame is None


def test_flags_and_negative_numbers_are_not_timestamps():
    request = read_event({"requestContext": {"requestTimeEpoch": True, "connectedAt": -5}})
    assert (request.request_time_ms, request.connected_at_ms) == (None, None)
