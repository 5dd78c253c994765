"""Presence cases: the events backends get from the connections table's stream.

The kit changes the table first, then hands the function the stream records those changes
produce, as Lambda would after DynamoDB wrote them. A deleted item stays visible to eventually
consistent reads for the whole case (the DynamoDB proxy's "ghosts"): only a strongly consistent
read sees that the user's last connection is gone, as on DynamoDB right after a delete.

Each record gets its own ``ApproximateCreationDateTime``, and presence-event's ``timestamp`` is
that value (the contract), so an event names the record it was sent for.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sumu_local.conformance.checks import require, require_valid
from sumu_local.conformance.environment import Environment, as_contract_message, attribute
from sumu_local.conformance.events import created_at, sequence_number, stream_record
from sumu_local.conformance.report import Case, CaseFailed
from sumu_local.conformance.runtime import Outcome
from sumu_local.conformance.suite import Context, Suite, bounded
from sumu_local.stack.functions import FunctionError

README = "services/presence/README.md"
SOURCE = "lambda.presence.watchdog"

Event = tuple[str, str, float]  # user_id, status, timestamp


def _stream_arn(environment: Environment) -> str:
    return f"arn:aws:dynamodb:us-east-1:123456789012:table/{environment.table}/stream/2026-01-01T00:00:00.000"


class Devices:
    """The kit's side of a case: connects and disconnects devices, builds the stream records."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.environment = context.environment
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def connect(self, user: str, device: str) -> dict[str, Any]:
        item = self.environment.put_connection(user, device, age_seconds=0)
        self.items[(user, device)] = item
        return stream_record("INSERT", item, _stream_arn(self.environment))

    def disconnect(self, user: str, device: str, *, ttl: bool = False) -> dict[str, Any]:
        item = self.items.pop((user, device))
        self.environment.delete_connection(user, device)
        self.environment.proxy.ghost(item)  # still there for an eventually consistent read
        return stream_record("REMOVE", item, _stream_arn(self.environment), ttl=ttl)

    def modify(self, user: str, device: str) -> dict[str, Any]:
        return stream_record("MODIFY", self.items[(user, device)], _stream_arn(self.environment))


def _failed_sequence_numbers(outcome: Outcome) -> set[str] | None:
    """None when the whole invocation failed, else the reported sequence numbers."""
    if outcome.failed:
        return None
    result = outcome.result
    if not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures") or []
    return {str(failure.get("itemIdentifier")) for failure in failures if isinstance(failure, dict)}


def _deliver(context: Context, records: list[dict[str, Any]]) -> None:
    outcome = context.invoke({"Records": records})
    failed = _failed_sequence_numbers(outcome)
    require(
        failed is not None and not failed,
        f"a batch the table and queue could serve was reported failed: {outcome.describe()}",
    )


def _events(environment: Environment, users: set[str], queue_url: str | None = None) -> list[Event]:
    """The presence events of these users now on the messages queue (or another queue),
    validated, by timestamp."""
    events: list[Event] = []
    for message in environment.drain(queue_url or environment.messages_queue_url):
        if attribute(message, "source") != SOURCE or attribute(message, "user_id") not in users:
            continue
        event = as_contract_message(message)
        require_valid("presence-event", event, "the event")
        body = event["body"]["message"]
        require(
            body["user_id"] == attribute(message, "user_id"),
            f"body user_id {body['user_id']!r} differs from the attribute",
        )
        events.append((body["user_id"], body["status"], float(body["timestamp"])))
    return sorted(events, key=lambda event: event[2])


def _expect(environment: Environment, users: set[str], expected: list[Event], what: str) -> None:
    got = _events(environment, users)
    require(got == expected, f"{what}: events {_describe(got)}, expected {_describe(expected)}")


def _describe(events: list[Event]) -> str:
    return (
        "["
        + ", ".join(f"{status} {user} @{timestamp:.0f}" for user, status, timestamp in events)
        + "]"
    )


def _teardown(context: Context) -> None:
    context.environment.proxy.clear_ghosts()
    context.environment.proxy.failing.clear()


def online_on_connect(context: Context) -> None:
    devices, user = Devices(context), context.unique("user")
    record = devices.connect(user, context.unique("phone"))
    _deliver(context, [record])
    _expect(context.environment, {user}, [(user, "ONLINE", created_at(record))], "one connect")


def offline_last_device(context: Context) -> None:
    devices, user, phone = Devices(context), context.unique("user"), context.unique("phone")
    _deliver(context, [devices.connect(user, phone)])
    _events(context.environment, {user})
    remove = devices.disconnect(user, phone)
    _deliver(context, [remove])
    _expect(
        context.environment,
        {user},
        [(user, "OFFLINE", created_at(remove))],
        "the only device closed",
    )


def no_offline_while_connected(context: Context) -> None:
    devices, user = Devices(context), context.unique("user")
    phone, laptop = context.unique("phone"), context.unique("laptop")
    _deliver(context, [devices.connect(user, phone)])
    _deliver(context, [devices.connect(user, laptop)])
    _events(context.environment, {user})
    _deliver(context, [devices.disconnect(user, phone)])
    _expect(context.environment, {user}, [], "one of two devices closed")
    last = devices.disconnect(user, laptop)
    _deliver(context, [last])
    _expect(
        context.environment,
        {user},
        [(user, "OFFLINE", created_at(last))],
        "the second device closed",
    )


def two_devices_one_batch(context: Context) -> None:
    devices, user = Devices(context), context.unique("user")
    phone, laptop = context.unique("phone"), context.unique("laptop")
    _deliver(context, [devices.connect(user, phone), devices.connect(user, laptop)])
    _events(context.environment, {user})
    first, last = devices.disconnect(user, phone), devices.disconnect(user, laptop)
    _deliver(context, [first, last])
    _expect(
        context.environment,
        {user},
        [(user, "OFFLINE", created_at(last))],
        "both devices closed, one batch (the phone closed while the laptop was connected)",
    )


def ttl_expiry(context: Context) -> None:
    devices, user, phone = Devices(context), context.unique("user"), context.unique("phone")
    _deliver(context, [devices.connect(user, phone)])
    _events(context.environment, {user})
    remove = devices.disconnect(user, phone, ttl=True)
    _deliver(context, [remove])
    _expect(
        context.environment,
        {user},
        [(user, "OFFLINE", created_at(remove))],
        "the record expired (TTL delete)",
    )


def modify_ignored(context: Context) -> None:
    devices, user, phone = Devices(context), context.unique("user"), context.unique("phone")
    _deliver(context, [devices.connect(user, phone)])
    _events(context.environment, {user})
    _deliver(context, [devices.modify(user, phone)])
    _expect(context.environment, {user}, [], "a MODIFY record")


def _recovers(context: Context, records: list[dict[str, Any]], outcome: Outcome, what: str) -> int:
    """The index Lambda would retry from, checked to lose nothing: every record before it was
    done, so with nothing sent it must be the first record."""
    failed = _failed_sequence_numbers(outcome)
    if failed is None:
        return 0
    numbers = [sequence_number(record) for record in records]
    require(
        bool(failed),
        f"{what}: the batch was reported fine ({outcome.describe()}): its events are lost",
    )
    unknown = failed - set(numbers)
    require(
        not unknown, f"{what}: batchItemFailures names {sorted(unknown)}, not records of the batch"
    )
    first = min(numbers.index(number) for number in failed)
    require(
        first == 0,
        f"{what}: reported failure from record {first}, but records before it sent nothing: they would be lost",
    )
    return first


def send_failure_reported(context: Context) -> None:
    environment = context.environment
    devices, user = Devices(context), context.unique("user")
    records = [
        devices.connect(user, context.unique("phone")),
        devices.connect(user, context.unique("laptop")),
    ]
    sqs = environment.client("sqs")
    name = environment.messages_queue_url.rsplit("/", 1)[1]
    sqs.delete_queue(QueueUrl=environment.messages_queue_url)
    try:
        outcome = context.invoke({"Records": records})
    finally:
        sqs.create_queue(QueueName=name)
    start = _recovers(context, records, outcome, "the messages queue was gone")
    _deliver(context, records[start:])
    got = _events(environment, {user})
    require(
        bool(got) and got[0] == (user, "ONLINE", created_at(records[0])),
        f"after the retry: events {_describe(got)}, expected an ONLINE for the first connect",
    )


def read_failure_reported(context: Context) -> None:
    environment = context.environment
    devices, user, phone = Devices(context), context.unique("user"), context.unique("phone")
    _deliver(context, [devices.connect(user, phone)])
    _events(environment, {user})
    remove = devices.disconnect(user, phone)
    environment.proxy.failing.add("Query")
    try:
        outcome = context.invoke({"Records": [remove]})
    finally:
        environment.proxy.failing.discard("Query")
    _expect(environment, {user}, [], "the table could not be read")
    _recovers(context, [remove], outcome, "the table could not be read")
    _deliver(context, [remove])
    _expect(environment, {user}, [(user, "OFFLINE", created_at(remove))], "the retried REMOVE")


def topic_source(context: Context) -> None:
    environment = context.environment
    try:
        on_topic = context.start_another({**context.variables, "PRESENCE_SOURCE": "topic"})
    except FunctionError as error:
        raise CaseFailed(
            f"with PRESENCE_SOURCE=topic the function did not start: {error}"
        ) from None
    try:
        devices, user, phone = Devices(context), context.unique("user"), context.unique("phone")
        # An ONLINE only: this case is about where events go, the OFFLINE rules have their own.
        connect = devices.connect(user, phone)
        outcome = on_topic.invoke({"Records": [connect]})
        failed = _failed_sequence_numbers(outcome)
        require(failed is not None and not failed, f"reported failed: {outcome.describe()}")
    finally:
        on_topic.close()
    got = _events(environment, {user}, environment.topic_capture_queue_url)
    expected = [(user, "ONLINE", created_at(connect))]
    require(
        got == expected,
        f"on the messages topic: events {_describe(got)}, expected {_describe(expected)}",
    )
    require(
        not _events(environment, {user}),
        "with PRESENCE_SOURCE=topic, events also went to the queue",
    )


_steps = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 2)), min_size=2, max_size=8)


def churn(context: Context) -> None:
    @bounded(8)
    @given(steps=_steps)
    def check(steps: list[tuple[int, int]]) -> None:
        devices = Devices(context)
        users = [context.unique("user") for _ in range(2)]
        connected: set[tuple[str, str]] = set()
        names = {(u, d): f"{users[u]}-device{d}" for u in range(2) for d in range(3)}
        expected: list[Event] = []
        for user_index, device_index in steps:
            user, device = users[user_index], names[(user_index, device_index)]
            if (user, device) in connected:
                connected.discard((user, device))
                record = devices.disconnect(user, device)
                if not any(owner == user for owner, _ in connected):
                    expected.append((user, "OFFLINE", created_at(record)))
            else:
                connected.add((user, device))
                record = devices.connect(user, device)
                expected.append((user, "ONLINE", created_at(record)))
            _deliver(context, [record])
        try:
            _expect(context.environment, set(users), expected, "one record per batch")
        except CaseFailed as failure:
            raise CaseFailed(f"{failure} (steps (user, device): {steps})") from None

    check()


def _case(name: str, rule: str, run: Any) -> Case:
    return Case(f"presence.{name}", rule, run)


SUITE = Suite(
    service="presence",
    teardown=_teardown,
    cases=(
        _case(
            "online-on-connect",
            "presence-event; DESIGN.md 5: ONLINE whenever a user connects",
            online_on_connect,
        ),
        _case(
            "offline-last-device",
            "DESIGN.md 5: OFFLINE when the last connection closes (a strongly consistent read)",
            offline_last_device,
        ),
        _case(
            "no-offline-while-connected",
            "DESIGN.md 5: OFFLINE only when the user's last connection closes",
            no_offline_while_connected,
        ),
        _case(
            "two-devices-one-batch",
            f"{README}: never OFFLINE while a connection remained at that record",
            two_devices_one_batch,
        ),
        _case("ttl-expiry-offline", "DESIGN.md 5: OFFLINE for any cause, TTL included", ttl_expiry),
        _case("modify-ignored", f"{README}: MODIFY -> nothing", modify_ignored),
        _case(
            "send-failure-reported",
            f"{README}: a failed send is reported in batchItemFailures; nothing lost",
            send_failure_reported,
        ),
        _case(
            "read-failure-reported",
            f"{README}: a failed table read is reported; nothing decided, nothing lost",
            read_failure_reported,
        ),
        _case(
            "topic-source",
            "DESIGN.md 3: PRESENCE_SOURCE=topic publishes the presence-events to MESSAGES_TOPIC_ARN",
            topic_source,
        ),
        _case(
            "property-multi-device-churn",
            "DESIGN.md 5: ONLINE per connect, OFFLINE exactly when the last device goes (hypothesis)",
            churn,
        ),
    ),
)
