"""Event records -> notification jobs or rejections (pure)."""

from __future__ import annotations

import json

import pytest
from pusher_events import request_body, sns_event, sqs_event
from sumu_pusher.records import (
    MAX_POST_BYTES,
    NotificationJob,
    Rejection,
    inbound_records,
    notification_job,
)


def job_of(body: str) -> NotificationJob | Rejection:
    [record] = inbound_records(sqs_event(body))
    return notification_job(record)


def test_sqs_and_sns_records_keep_their_id_and_body():
    [sqs] = inbound_records(sqs_event("b1"))
    [sns] = inbound_records(sns_event("b2"))
    assert (sqs.source, sqs.body) == ("aws:sqs", "b1")
    assert sqs.message_id.startswith("message-")
    assert (sns.source, sns.body) == ("aws:sns", "b2")
    assert sns.message_id.startswith("sns-")


def test_users_are_deduplicated_in_order_and_excluded_users_removed():
    job = job_of(request_body(1, users=["b", "a", "b", "c", "a"], exclude=["c"]))
    assert isinstance(job, NotificationJob)
    assert job.users == ("b", "a")
    assert not job.broadcast
    assert job.excluded == frozenset({"c"})


def test_a_request_whose_users_are_all_excluded_targets_nobody():
    job = job_of(request_body(1, users=["a"], exclude=["a"]))
    assert isinstance(job, NotificationJob)
    assert (job.broadcast, job.users) == (False, ())


def test_a_request_without_users_is_a_broadcast():
    job = job_of(request_body(1))
    assert isinstance(job, NotificationJob)
    assert job.broadcast


def test_an_empty_users_list_reaches_nobody_and_is_not_a_broadcast():
    # An empty recipient list computed by a backend must never mean "everyone" (issue 13).
    job = job_of(request_body(1, users=[]))
    assert isinstance(job, NotificationJob)
    assert (job.broadcast, job.users, job.empty_audience) == (False, (), True)


def test_the_payload_is_the_data_as_compact_utf8_json():
    job = job_of(request_body({"a": [1, "é"]}, users=["u"]))
    assert isinstance(job, NotificationJob)
    assert job.payload == '{"a":[1,"é"]}'.encode()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{", "invalid_json"),
        ('{"data": Infinity}', "invalid_json"),
        ("[" * 100_000, "invalid_json"),
        ('{"users": "a", "data": 1}', "contract_violation"),
        (json.dumps({"data": "x" * MAX_POST_BYTES}), "payload_too_large"),
        ('{"data": "\\ud800"}', "invalid_json"),  # a lone surrogate cannot be sent as UTF-8
    ],
)
def test_broken_bodies_are_rejected_with_a_code_and_a_reason(body, code):
    rejection = job_of(body)
    assert isinstance(rejection, Rejection)
    assert rejection.code == code
    assert rejection.reason


def test_the_contract_rejection_carries_the_pointer():
    rejection = job_of('{"users": ["a", 3], "data": 1}')
    assert isinstance(rejection, Rejection)
    assert rejection.pointer == "/users/1"
    assert rejection.reason.startswith("notification-request: /users/1:")


def test_an_sns_envelope_is_unwrapped_but_a_lookalike_request_is_not():
    envelope = {"Type": "Notification", "TopicArn": "arn", "Message": request_body(5)}
    assert isinstance(job_of(json.dumps(envelope)), NotificationJob)
    lookalike = {"Type": "Notification", "Message": request_body(5)}
    assert isinstance(job_of(json.dumps(lookalike)), Rejection)


@pytest.mark.parametrize(
    "record",
    [
        42,
        {"eventSource": "aws:sqs", "messageId": "m"},
        {"eventSource": "aws:sqs", "body": "x"},
        {"EventSource": "aws:sns", "Sns": {}},
    ],
)
def test_unrecognisable_records_become_unrecognised_rejections(record):
    [inbound] = inbound_records({"Records": [record]})
    assert inbound.source == "unknown"
    rejection = notification_job(inbound)
    assert isinstance(rejection, Rejection)
    assert rejection.code == "unrecognised_record"
    assert json.loads(inbound.body) == record
