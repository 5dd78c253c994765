"""Pusher cases: who receives a notification request, what happens on every answer of the
management API, and what the function reports back to its event source.

Connections are records in the table (connected an hour ago, so a prune grace period never
applies) whose ids the management API stand-in knows as live; a post is "delivered" when the
stand-in answered it 200. The SQS event's ``batchItemFailures`` and an SNS invocation's error
are what Lambda would retry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from sumu_local.conformance.checks import contract_errors, require, short
from sumu_local.conformance.environment import Environment, attribute
from sumu_local.conformance.events import sns_event, sqs_event
from sumu_local.conformance.management_api import Answer
from sumu_local.conformance.report import Case, CaseFailed
from sumu_local.conformance.runtime import Outcome
from sumu_local.conformance.suite import Context, Suite, bounded

README = "services/pusher/README.md"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:conformance-notifications"


def _invoke_sqs(context: Context, bodies: list[str]) -> tuple[Outcome, list[str], int]:
    """Invoke with one SQS batch; the outcome, the records' messageIds, and where its posts start."""
    event, message_ids = sqs_event(bodies, context.environment.notifications_queue_arn)
    first_post = len(context.environment.management.posts)
    return context.invoke(event), message_ids, first_post


def _failures(outcome: Outcome) -> set[str]:
    require(
        not outcome.failed,
        f"the invocation failed ({outcome.describe()}): Lambda would retry the whole batch",
    )
    result = outcome.result
    if result is None:
        return set()
    require(isinstance(result, dict), f"the answer {short(result)} is not a partial batch response")
    failures = result.get("batchItemFailures", [])
    require(isinstance(failures, list), f"batchItemFailures is {short(failures)}")
    return {str(failure.get("itemIdentifier")) for failure in failures if isinstance(failure, dict)}


def _deliveries(environment: Environment, first_post: int) -> dict[str, list[Any]]:
    delivered: dict[str, list[Any]] = {}
    for post in environment.management.posts[first_post:]:
        if post.answer == 200:
            try:
                value: Any = json.loads(post.data)
            except ValueError:
                value = post.data.decode("utf-8", "replace")
            delivered.setdefault(post.connection_id, []).append(value)
    return delivered


def _require_exactly(
    delivered: dict[str, list[Any]], expected: Iterable[str], data: Any, what: str
) -> None:
    expected_ids = set(expected)
    missing = expected_ids - set(delivered)
    extra = set(delivered) - expected_ids
    require(
        not missing,
        f"{what}: {len(missing)} target connection(s) got nothing: {sorted(missing)[:5]}",
    )
    require(
        not extra,
        f"{what}: {len(extra)} connection(s) that are not targets got it: {sorted(extra)[:5]}",
    )
    for connection_id in expected_ids:
        bodies = delivered[connection_id]
        require(len(bodies) == 1, f"{what}: {connection_id} got it {len(bodies)} times in one run")
        require(
            bodies[0] == data,
            f"{what}: {connection_id} got {short(bodies[0])}, expected data verbatim {short(data)}",
        )


def _users(
    context: Context, environment: Environment, counts: list[int]
) -> list[tuple[str, list[str]]]:
    """Users with that many live connections each."""
    users = []
    for count in counts:
        user = context.unique("user")
        connections = [context.unique(f"{user}-c") for _ in range(count)]
        for connection_id in connections:
            environment.put_connection(user, connection_id)
        users.append((user, connections))
    return users


def _data(context: Context) -> dict[str, Any]:
    return {"type": "notification", "id": context.unique("n"), "text": "héllo ✓"}


def _dead_letters(environment: Environment) -> list[dict[str, Any]]:
    return environment.drain(environment.dlq_url)


def _require_dead_lettered(letters: list[dict[str, Any]], body: str, what: str) -> None:
    mine = [letter for letter in letters if letter["Body"] == (body or "(empty body)")]
    require(bool(mine), f"{what}: not in the DLQ (it holds {len(letters)} other message(s))")
    reason = attribute(mine[0], "reason")
    require(
        bool(reason),
        f"{what}: dead-lettered without a 'reason' message attribute ({short(mine[0].get('MessageAttributes'))})",
    )


def _setup(context: Context) -> None:
    context.environment.management.reset()
    context.environment.drain(context.environment.dlq_url)


def selected(context: Context) -> None:
    environment = context.environment
    (a, a_conns), (b, b_conns), (_, _c_conns) = _users(context, environment, [2, 1, 1])
    data = _data(context)
    outcome, _, first = _invoke_sqs(context, [json.dumps({"users": [a, b], "data": data})])
    require(
        not _failures(outcome), f"a deliverable request was reported failed: {outcome.describe()}"
    )
    _require_exactly(_deliveries(environment, first), a_conns + b_conns, data, "selected users")


def broadcast(context: Context) -> None:
    environment = context.environment
    environment.clear_table()
    users = _users(context, environment, [1, 2, 1])
    data = _data(context)
    outcome, _, first = _invoke_sqs(context, [json.dumps({"data": data})])
    require(not _failures(outcome), f"a broadcast was reported failed: {outcome.describe()}")
    _require_exactly(
        _deliveries(environment, first), [c for _, conns in users for c in conns], data, "broadcast"
    )


def all_but_many_excluded(context: Context) -> None:
    environment = context.environment
    environment.clear_table()
    excluded_with_connections = _users(context, environment, [1, 2, 1])
    excluded = [user for user, _ in excluded_with_connections] + [
        context.unique("gone-user") for _ in range(147)
    ]
    kept = _users(context, environment, [1, 2])
    data = _data(context)
    outcome, _, first = _invoke_sqs(
        context, [json.dumps({"exclude_users": excluded, "data": data})]
    )
    require(not _failures(outcome), f"an all-but request was reported failed: {outcome.describe()}")
    _require_exactly(
        _deliveries(environment, first),
        [c for _, conns in kept for c in conns],
        data,
        f"all but {len(excluded)} users",
    )


def exclude_selected(context: Context) -> None:
    environment = context.environment
    (a, a_conns), (b, _), (c, c_conns) = _users(context, environment, [1, 2, 1])
    data = _data(context)
    request = {"users": [a, b, c], "exclude_users": [b], "data": data}
    outcome, _, first = _invoke_sqs(context, [json.dumps(request)])
    require(not _failures(outcome), f"reported failed: {outcome.describe()}")
    _require_exactly(
        _deliveries(environment, first), a_conns + c_conns, data, "users [a, b, c] excluding b"
    )


def duplicate_users(context: Context) -> None:
    environment = context.environment
    (a, a_conns), (b, b_conns) = _users(context, environment, [2, 1])
    data = _data(context)
    outcome, _, first = _invoke_sqs(context, [json.dumps({"users": [a, a, b, a, b], "data": data})])
    require(not _failures(outcome), f"reported failed: {outcome.describe()}")
    _require_exactly(
        _deliveries(environment, first), a_conns + b_conns, data, "users listed several times"
    )


def _one_user_with(context: Context, answers: list[Answer], then: Answer) -> tuple[str, str, str]:
    """A user with a scripted connection and a live one: (user, scripted, live)."""
    environment = context.environment
    ((user, (scripted, live)),) = _users(context, environment, [2])
    environment.management.script(scripted, answers, then=then)
    return user, scripted, live


def prune_gone(context: Context) -> None:
    environment = context.environment
    user, gone, live = _one_user_with(context, [], then=410)
    data = _data(context)
    outcome, _, first = _invoke_sqs(context, [json.dumps({"users": [user], "data": data})])
    require(
        not _failures(outcome),
        f"a request whose only failure was a 410 was reported failed: {outcome.describe()}",
    )
    _require_exactly(_deliveries(environment, first), [live], data, "the live connection")
    require(
        environment.get_connection(user, gone) is None,
        f"connection {gone} answered 410 but its record is still in the table after the run",
    )
    require(
        environment.get_connection(user, live) is not None,
        "the live connection's record was deleted",
    )


def _retried(context: Context, status: int) -> None:
    environment = context.environment
    user, flaky, live = _one_user_with(context, [status, status], then=200)
    data = _data(context)
    outcome, _, first = _invoke_sqs(context, [json.dumps({"users": [user], "data": data})])
    require(
        not _failures(outcome), f"two {status}s then 200 was reported failed: {outcome.describe()}"
    )
    posts = [post.answer for post in environment.management.posts_to(flaky)]
    require(
        posts.count(200) == 1,
        f"{flaky} answered {status}, {status}, then would take it; the pusher posted {posts}",
    )
    _require_exactly(_deliveries(environment, first), [flaky, live], data, f"after {status}s")


def retry_429(context: Context) -> None:
    _retried(context, 429)


def retry_500(context: Context) -> None:
    _retried(context, 500)


def exhausted_500_reported(context: Context) -> None:
    environment = context.environment
    user, broken, live = _one_user_with(context, [], then=500)
    data = _data(context)
    outcome, ids, first = _invoke_sqs(context, [json.dumps({"users": [user], "data": data})])
    failures = _failures(outcome)
    answers = [post.answer for post in environment.management.posts_to(broken)]
    require(
        ids[0] in failures,
        f"{broken} answered 500 to every post ({answers}) yet the record is not in batchItemFailures ({sorted(failures)}): it would be lost",
    )
    require(
        bool(_deliveries(environment, first).get(live)),
        "the other connection of the user got nothing: one connection's failure must stay its own",
    )


def payload_too_large_dead_lettered(context: Context) -> None:
    environment = context.environment
    user, _refusing, _ = _one_user_with(context, [], then=413)
    body = json.dumps({"users": [user], "data": _data(context)})
    outcome, ids, _ = _invoke_sqs(context, [body])
    require(
        ids[0] not in _failures(outcome),
        "a request the API refuses with 413 was returned for a retry that cannot succeed",
    )
    _require_dead_lettered(_dead_letters(environment), body, "a request answered 413")


INVALID_BODIES = (
    "this is not json",
    '{"users": "alice", "data": 1}',
    '{"data": 1, "extra": true}',
    '{"users": ["alice"]}',
    '{"users": [""], "data": 1}',
    '{"exclude_users": [42], "data": 1}',
    "[1, 2, 3]",
)


def invalid_dead_lettered(context: Context) -> None:
    environment = context.environment
    ((user, conns),) = _users(context, environment, [1])
    data = _data(context)
    valid = json.dumps({"users": [user], "data": data})
    outcome, _ids, first = _invoke_sqs(context, [*INVALID_BODIES[:3], valid, *INVALID_BODIES[3:]])
    failures = _failures(outcome)
    require(not failures, f"invalid requests were returned for a blind retry: {sorted(failures)}")
    _require_exactly(
        _deliveries(environment, first), conns, data, "the valid request among invalid ones"
    )
    letters = _dead_letters(environment)
    for body in INVALID_BODIES:
        _require_dead_lettered(letters, body, f"invalid request {body!r}")


def empty_users_reach_nobody(context: Context) -> None:
    environment = context.environment
    _users(context, environment, [1, 1])
    body = json.dumps({"users": [], "data": _data(context)})
    outcome, ids, first = _invoke_sqs(context, [body])
    require(ids[0] not in _failures(outcome), "a request for nobody was returned for a retry")
    delivered = _deliveries(environment, first)
    require(
        not delivered,
        f"users [] reached {len(delivered)} connection(s): an empty list is nobody, not a broadcast",
    )


def forbidden_retried(context: Context) -> None:
    environment = context.environment
    user, _, _ = _one_user_with(context, [], then=403)
    body = json.dumps({"users": [user], "data": _data(context)})
    outcome, ids, _ = _invoke_sqs(context, [body])
    letters = [letter for letter in _dead_letters(environment) if letter["Body"] == body]
    require(not letters, "a 403 (the function's own permissions) dead-lettered a valid request")
    require(
        ids[0] in _failures(outcome),
        "a 403 from the management API did not return the record for a retry",
    )


def partial_batch(context: Context) -> None:
    environment = context.environment
    (a, a_conns), (c, c_conns) = _users(context, environment, [1, 1])
    b, _throttled, b_live = _one_user_with(context, [], then=429)
    data = _data(context)
    bodies = [json.dumps({"users": [user], "data": data}) for user in (a, b, c)]
    outcome, ids, first = _invoke_sqs(context, bodies)
    failures = _failures(outcome)
    require(
        failures == {ids[1]},
        f"batchItemFailures {sorted(failures)}, expected exactly the throttled record {ids[1]} (the others were delivered)",
    )
    delivered = _deliveries(environment, first)
    for connection_id in a_conns + c_conns + [b_live]:
        require(
            delivered.get(connection_id) == [data],
            f"{connection_id} got {short(delivered.get(connection_id))}",
        )


def hanging_connection(context: Context) -> None:
    environment = context.environment
    user, hanging, live = _one_user_with(context, [], then="hang")
    data = _data(context)
    started = time.monotonic()
    outcome, ids, first = _invoke_sqs(context, [json.dumps({"users": [user], "data": data})])
    took = time.monotonic() - started
    require(
        not outcome.timed_out,
        f"the function ran past its timeout ({took:.1f} s) on a hanging connection",
    )
    require(
        ids[0] in _failures(outcome),
        f"{hanging} never answered, yet the record is not in batchItemFailures",
    )
    require(
        _deliveries(environment, first).get(live) == [data],
        "the live connection got nothing while another hung",
    )


def sns_input(context: Context) -> None:
    environment = context.environment
    ((user, conns),) = _users(context, environment, [2])
    data = _data(context)
    first = len(environment.management.posts)
    outcome = context.invoke(sns_event(json.dumps({"users": [user], "data": data}), TOPIC_ARN))
    require(not outcome.failed, f"an SNS notification request failed: {outcome.describe()}")
    _require_exactly(_deliveries(environment, first), conns, data, "a request through SNS")


def sns_incomplete_raises(context: Context) -> None:
    user, broken, _ = _one_user_with(context, [], then=500)
    outcome = context.invoke(
        sns_event(json.dumps({"users": [user], "data": _data(context)}), TOPIC_ARN)
    )
    require(
        outcome.failed,
        f"{broken} answered 500 to every post, yet the SNS invocation succeeded ({outcome.describe()}): Lambda would not retry it",
    )


def sns_invalid_not_retried(context: Context) -> None:
    outcome = context.invoke(sns_event('{"users": "alice", "data": 1}', TOPIC_ARN))
    require(
        not outcome.failed,
        f"an invalid SNS request failed the invocation ({outcome.describe()}): Lambda would retry what no retry can fix",
    )


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


def any_valid_request(context: Context) -> None:
    environment = context.environment
    environment.clear_table()
    universe = _users(context, environment, [2, 1, 0, 1, 2])
    names = [user for user, _ in universe]
    connections = dict(universe)
    optional_users = st.none() | st.lists(st.sampled_from(names), min_size=1, max_size=6)

    @bounded(15)
    @given(users=optional_users, excluded=optional_users, data=_json)
    def check(users: list[str] | None, excluded: list[str] | None, data: Any) -> None:
        request: dict[str, Any] = {"data": data}
        if users is not None:
            request["users"] = users
        if excluded is not None:
            request["exclude_users"] = excluded
        targets = set(names if users is None else users) - set(excluded or ())
        expected = [c for user in targets for c in connections[user]]
        outcome, _, first = _invoke_sqs(context, [json.dumps(request)])
        try:
            require(not _failures(outcome), f"reported failed: {outcome.describe()}")
            _require_exactly(_deliveries(environment, first), expected, data, "the request")
        except CaseFailed as failure:
            raise CaseFailed(f"{failure} (request {short(request)})") from None

    check()


_invalid_bodies = st.one_of(
    st.text(max_size=30).filter(lambda text: not _is_json(text)),
    st.builds(
        lambda users, data: {"users": users, "data": data},
        _json.filter(lambda v: not isinstance(v, list)),
        _json,
    ),
    st.builds(
        lambda key, data: {key: 1, "data": data},
        st.text(min_size=1, max_size=8).filter(
            lambda k: k not in ("users", "exclude_users", "data")
        ),
        _json,
    ),
    st.builds(
        lambda users: {"users": users}, st.lists(st.text(min_size=1, max_size=5), max_size=2)
    ),
    st.builds(
        lambda bad: {"exclude_users": [bad], "data": 1},
        st.one_of(st.integers(), st.just(""), st.none()),
    ),
    st.lists(_json, max_size=3),
).map(lambda value: value if isinstance(value, str) else json.dumps(value))


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _is_invalid(body: str) -> bool:
    if not body.strip():
        return False  # SQS refuses an empty message: no backend can send one
    if not _is_json(body):
        return True
    return bool(contract_errors("notification-request", json.loads(body)))


def any_invalid_request(context: Context) -> None:
    environment = context.environment
    ((user, conns),) = _users(context, environment, [1])

    @bounded(10)
    @given(bodies=st.lists(_invalid_bodies, min_size=1, max_size=3, unique=True))
    def check(bodies: list[str]) -> None:
        for body in bodies:
            assume(_is_invalid(body))
        data = _data(context)
        valid = json.dumps({"users": [user], "data": data})
        outcome, _, first = _invoke_sqs(context, [*bodies, valid])
        try:
            failures = _failures(outcome)
            require(
                not failures,
                f"invalid requests were returned for a blind retry: {sorted(failures)}",
            )
            _require_exactly(
                _deliveries(environment, first), conns, data, "the valid request of the batch"
            )
            letters = _dead_letters(environment)
            for body in bodies:
                _require_dead_lettered(letters, body, f"invalid request {body[:60]!r}")
        except CaseFailed as failure:
            raise CaseFailed(f"{failure} (batch {short(bodies)})") from None

    check()


def _case(name: str, rule: str, run: Any) -> Case:
    return Case(f"pusher.{name}", rule, run)


SUITE = Suite(
    service="pusher",
    setup=_setup,
    cases=(
        _case(
            "selected-users",
            "notification-request users; DESIGN.md 5: delivered to every live connection of its targets",
            selected,
        ),
        _case("broadcast", "notification-request: no users = every connected user", broadcast),
        _case(
            "all-but-over-100-excluded",
            "notification-request exclude_users: no limit on its size, broadcast mode",
            all_but_many_excluded,
        ),
        _case(
            "exclude-applies-to-selected",
            "notification-request exclude_users: never notified, in both selective and broadcast mode",
            exclude_selected,
        ),
        _case(
            "duplicate-users-once",
            "notification-request users: duplicates allowed and delivered once",
            duplicate_users,
        ),
        _case(
            "prune-410",
            "DESIGN.md 5: a connection that answers 410 is deleted from the table in the same run",
            prune_gone,
        ),
        _case("retry-429", f"{README}: 429 retried with backoff", retry_429),
        _case("retry-500", f"{README}: 5xx retried with backoff", retry_500),
        _case(
            "exhausted-500-reported",
            "DESIGN.md 5: nothing silently dropped; an undelivered record is in batchItemFailures",
            exhausted_500_reported,
        ),
        _case(
            "hang-reported",
            "DESIGN.md 5: a post that never answers leaves the record incomplete, within the timeout",
            hanging_connection,
        ),
        _case(
            "empty-users-reach-nobody",
            "DESIGN.md 6: an empty users list reaches nobody",
            empty_users_reach_nobody,
        ),
        _case(
            "403-retried-not-dead-lettered",
            f"{README} (issue 13): a 403 is a configuration error; the batch is retried, the request kept",
            forbidden_retried,
        ),
        _case(
            "partial-batch-failure",
            f"{README} at-least-once: only incomplete records in batchItemFailures",
            partial_batch,
        ),
        _case(
            "413-dead-lettered",
            "DESIGN.md 5: no blind retry; 413 to the DLQ with a reason",
            payload_too_large_dead_lettered,
        ),
        _case(
            "invalid-dead-lettered",
            "notification-request; DESIGN.md 5: a request that breaks its contract goes to the DLQ at once, with a reason",
            invalid_dead_lettered,
        ),
        _case("sns-input", f"{README}: SNS records are accepted", sns_input),
        _case(
            "sns-incomplete-raises",
            f"{README}: an incomplete SNS delivery fails the invocation (Lambda retries)",
            sns_incomplete_raises,
        ),
        _case(
            "sns-invalid-not-retried",
            "DESIGN.md 5: an invalid request from SNS is logged with its reason, not retried",
            sns_invalid_not_retried,
        ),
        _case(
            "property-any-valid-request-exact",
            "issue 15: any valid request is delivered exactly to its targets' live connections (hypothesis)",
            any_valid_request,
        ),
        _case(
            "property-any-invalid-request-dead-lettered",
            "issue 15: any invalid request is dead-lettered with a reason and never blocks its batch (hypothesis)",
            any_invalid_request,
        ),
    ),
)
