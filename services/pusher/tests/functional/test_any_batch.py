"""Property: any batch of records (valid, invalid, garbage, requests redriven inside Lambda's
async DLQ shape) is handled without an exception, every valid request reaches exactly its live
targets once (an empty users list: nobody), a gone target is pruned unless its record is younger
than the grace period, every invalid record is dead-lettered with its reason. And any event at
all, whatever the management API answers (403 included), returns a batch response or raises
IncompleteDelivery for SNS, nothing else."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pusher_events import LambdaContext, sns_event, sqs_record
from sumu_contracts import is_valid
from sumu_pusher.handler import IncompleteDelivery, handler
from sumu_pusher.records import MAX_POST_BYTES

GONE = "c3-gone"  # a connection API Gateway no longer knows: answers 410
OPENING = "c4-opening"  # answers 410 because its $connect is still running: never pruned
CONNECTIONS = {
    "u0": ["c0a", "c0b"],
    "u1": ["c1a"],
    "u2": ["c2a", "c2b"],
    "u3": ["c3a", GONE],
    "u4": [OPENING],
}
USER_POOL = [*CONNECTIONS, "ghost"]
# Channel subscriptions (issue 17): connection -> its channels; room-3 has no subscriber.
SUBSCRIBED = {"c0a": ["room-1", "room-2"], "c1a": ["room-1"], GONE: ["room-2"], OPENING: ["room-1"]}
USER_OF = {c: user for user, cs in CONNECTIONS.items() for c in cs}
CHANNEL_POOL = ["room-1", "room-2", "room-3"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
user_lists = st.none() | st.lists(st.sampled_from(USER_POOL), max_size=6)


@st.composite
def valid_bodies(draw: st.DrawFn) -> str:
    request: dict[str, Any] = {"data": draw(json_values)}
    for key in ("users", "exclude_users"):
        users = draw(user_lists)
        if users is not None:
            request[key] = users
    channels = draw(st.none() | st.lists(st.sampled_from(CHANNEL_POOL), max_size=4))
    if channels is not None:
        request["channels"] = channels
    return json.dumps(request)


invalid_bodies = st.one_of(
    st.text(max_size=30),
    st.builds(json.dumps, json_values),
    st.builds(
        lambda users, data: json.dumps({"users": users, "data": data}),
        st.text(max_size=3) | st.integers() | st.lists(st.integers(), min_size=1, max_size=2),
        json_values,
    ),
    st.builds(lambda data: json.dumps({"data": data, "extra": 1}), json_values),
)
garbage_records = st.one_of(
    st.integers(),
    st.none(),
    st.dictionaries(
        st.sampled_from(["eventSource", "body", "messageId", "Sns"]),
        st.text(max_size=5),
        max_size=3,
    ),
)


def in_lambda_async_dlq_shape(body: str) -> str:
    """The body Lambda's async DLQ holds for a failed SNS invocation: the whole SNS event."""
    return json.dumps(sns_event(body))


records = st.one_of(
    st.builds(sqs_record, valid_bodies()),
    st.builds(sqs_record, invalid_bodies),
    st.builds(sqs_record, st.builds(in_lambda_async_dlq_shape, valid_bodies() | invalid_bodies)),
    garbage_records,
)


def request_of(body: str) -> object:
    """The request a body holds, unwrapped from Lambda's SNS event shape (None: not JSON)."""
    try:
        request = json.loads(body)
    except ValueError:
        return None
    records = request.get("Records") if isinstance(request, dict) else None
    if isinstance(records, list) and len(records) == 1 and list(request) == ["Records"]:
        record = records[0]
        sns = record.get("Sns") if isinstance(record, dict) else None
        message = sns.get("Message") if isinstance(sns, dict) else None
        if isinstance(message, str) and record.get("EventSource") == "aws:sns":
            try:
                return json.loads(message)
            except ValueError:
                return None
    return request


def is_deliverable(body: str) -> bool:
    request = request_of(body)
    if not is_valid("notification-request", request):
        return False
    payload = json.dumps(request["data"], ensure_ascii=False, separators=(",", ":"))
    return len(payload.encode()) <= MAX_POST_BYTES


def expected_posts(batch: list[Any]) -> tuple[dict[str, Counter[str]], Counter[str], int]:
    """Per connection, the canonical data it must receive; the bodies the DLQ must hold."""
    posts: dict[str, Counter[str]] = {c: Counter() for cs in CONNECTIONS.values() for c in cs}
    dead_bodies: Counter[str] = Counter()
    garbage = 0
    for record in batch:
        is_sqs = (
            isinstance(record, dict)
            and record.get("eventSource") == "aws:sqs"
            and isinstance(record.get("messageId"), str)
            and isinstance(record.get("body"), str)
        )
        if not is_sqs:
            garbage += 1
            continue
        if not is_deliverable(record["body"]):
            dead_bodies[record["body"] or "(empty body)"] += 1
            continue
        request = request_of(record["body"])
        assert isinstance(request, dict)
        excluded = set(request.get("exclude_users") or ())
        # A request without users and channels is a broadcast; an empty list reaches nobody.
        broadcast = "users" not in request and "channels" not in request
        users = list(CONNECTIONS) if broadcast else request.get("users", [])
        canonical = json.dumps(request["data"], sort_keys=True)
        for user in set(users) - excluded:
            for connection_id in CONNECTIONS.get(user, ()):
                if connection_id == GONE:
                    posts[GONE]["pruned"] = 1
                elif connection_id != OPENING:
                    posts[connection_id][canonical] += 1
        # Channel subscribers get one envelope per channel they matched.
        for channel in set(request.get("channels", [])):
            for connection_id, channels in SUBSCRIBED.items():
                if channel not in channels or USER_OF[connection_id] in excluded:
                    continue
                if connection_id == GONE:
                    posts[GONE]["pruned"] = 1
                elif connection_id != OPENING:
                    posts[connection_id][channel_canonical(channel, request["data"])] += 1
    return posts, dead_bodies, garbage


def channel_canonical(channel: str, data: Any) -> str:
    return json.dumps({"channel": channel, "data": data}, sort_keys=True)


def canonical_of(frame: Any) -> str:
    """A received frame as expected_posts counts it (an envelope's id differs per record)."""
    if isinstance(frame, dict) and set(frame) == {"type", "channel", "id", "data"}:
        return channel_canonical(frame["channel"], frame["data"])
    return json.dumps(frame, sort_keys=True)


def subscribe_all(stack: Any) -> None:
    for connection_id, channels in SUBSCRIBED.items():
        stack.subscribe(USER_OF[connection_id], connection_id, *channels)


def test_any_batch(stack):
    # GIVEN four users with one or two connections each
    for user_id, connection_ids in CONNECTIONS.items():
        stack.connect(user_id, *connection_ids)
    stack.connect("u4", OPENING, age_s=0)
    subscribe_all(stack)

    @settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
    @given(batch=st.lists(records, max_size=8))
    def check(batch: list[Any]) -> None:
        stack.api.reset()  # the DLQ needs no reset: messages read once stay hidden for 10 min
        stack.api.behave(GONE, "gone")
        stack.api.behave(OPENING, "gone")
        stack.connect("u3", GONE)
        stack.subscribe("u3", GONE, *SUBSCRIBED[GONE])
        posts, dead_bodies, garbage = expected_posts(batch)
        must_prune = posts.pop(GONE)["pruned"] == 1
        posts.pop(OPENING)
        # WHEN the batch arrives (no exception may escape)
        response = handler({"Records": batch}, LambdaContext())
        # THEN nothing is retried: no failures were injected
        assert response == {"batchItemFailures": []}
        # AND every target connection got each of its requests exactly once
        for connection_id, expected in posts.items():
            got = Counter(canonical_of(frame) for frame in stack.api.received(connection_id))
            assert got == expected, connection_id
        # AND a gone connection that was targeted is deleted from the table
        assert (GONE not in stack.connection_ids()) is must_prune
        gone_subscriptions = {s for s in stack.subscriptions() if s[1] == GONE}
        assert (not gone_subscriptions) is must_prune
        # AND a record younger than the grace period is never pruned, nor its subscriptions
        assert OPENING in stack.connection_ids()
        assert ("room-1", OPENING) in stack.subscriptions()
        # AND every invalid record is in the DLQ with its reason
        dead = stack.dead_letters()
        assert all(message["MessageAttributes"]["reason"]["StringValue"] for message in dead)
        sqs_dead = Counter(
            message["Body"]
            for message in dead
            if message["MessageAttributes"]["event_source"]["StringValue"] == "aws:sqs"
        )
        assert sqs_dead == dead_bodies
        assert len(dead) - sum(sqs_dead.values()) == garbage

    check()


json_keys = st.sampled_from(
    ["Records", "eventSource", "EventSource", "messageId", "body", "Sns", "Message", "MessageId"]
)
loose_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(
        [
            "aws:sqs",
            "aws:sns",
            '{"data": 1}',
            '{"users": [], "data": 1}',
            '{"channels": ["room-1"], "data": 1}',
            '{"channels": ["room-1", "room-2"], "users": ["u0"], "data": 1}',
        ]
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(json_keys, children, max_size=4)
    ),
    max_leaves=12,
)
# Issue 19: fanout-job messages, valid (a scan segment, or a narrowed job naming connections)
# and invalid (claiming the kind but breaking the contract), from SQS and SNS alike.
_job_connections = st.lists(
    st.sampled_from(sorted(USER_OF.items())).map(
        lambda pair: {"user_id": pair[1], "connection_id": pair[0]}
    ),
    min_size=1,
    max_size=3,
)
valid_jobs = st.one_of(
    st.integers(min_value=1, max_value=3).flatmap(
        lambda total: st.fixed_dictionaries(
            {
                "kind": st.just("fanout-job"),
                "origin_id": st.just("m-1"),
                "data": json_values,
                "segment": st.integers(min_value=0, max_value=total - 1),
                "total_segments": st.just(total),
                "attempt": st.integers(min_value=0, max_value=6),
            },
            optional={"exclude_users": st.lists(st.sampled_from(USER_POOL), max_size=3)},
        )
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("fanout-job"),
            "origin_id": st.just("m-2"),
            "data": json_values,
            "connections": _job_connections,
            "attempt": st.integers(min_value=0, max_value=6),
        }
    ),
)
invalid_jobs = st.dictionaries(
    st.sampled_from(["kind", "origin_id", "data", "segment", "total_segments", "connections"]),
    loose_values,
    max_size=5,
).map(lambda job: {**job, "kind": "fanout-job"})
job_bodies = st.builds(json.dumps, valid_jobs | invalid_jobs)
any_events = st.one_of(
    loose_values,
    st.fixed_dictionaries({"Records": st.lists(loose_values, max_size=4)}),
    st.fixed_dictionaries({"Records": st.lists(records, max_size=4)}),
    st.builds(
        lambda batch: {"Records": [sns_event(body)["Records"][0] for body in batch]},
        st.lists(valid_bodies() | invalid_bodies, max_size=2),
    ),
    st.fixed_dictionaries({"Records": st.lists(st.builds(sqs_record, job_bodies), max_size=3)}),
    st.builds(sns_event, job_bodies),
)


def test_any_event_whatever_the_management_api_answers(stack):
    # GIVEN a few connections, one still in its $connect
    for user_id, connection_ids in CONNECTIONS.items():
        stack.connect(user_id, *connection_ids)
    stack.connect("u4", OPENING, age_s=0)
    subscribe_all(stack)

    @settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
    @given(event=any_events, answer=st.sampled_from(["ok", "gone", "forbidden", "too_large"]))
    def check(event: Any, answer: str) -> None:
        stack.api.reset()
        stack.api.default_behaviour = answer
        # WHEN any event arrives, THEN the handler answers with a batch response, or raises
        # IncompleteDelivery for an SNS delivery to retry; nothing else escapes
        try:
            response = handler(event, LambdaContext())
        except IncompleteDelivery:
            return
        assert set(response) == {"batchItemFailures"}
        assert all(set(item) == {"itemIdentifier"} for item in response["batchItemFailures"])
        # AND a 410 never removes a record younger than the grace period, nor its subscriptions
        assert OPENING in stack.connection_ids()
        assert ("room-1", OPENING) in stack.subscriptions()

    check()
