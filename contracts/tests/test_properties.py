"""Property tests: the schemas, the models and validate agree.

- every message generated from a schema validates, and its model reads it and dumps it back to
  the same JSON; every message a model builds validates;
- targeted mutations of valid messages are rejected: a required member dropped, a wrong type, an
  extra member on a closed (inbound) object, a message over its x-sumu-max-bytes.

Free-form members (data, message, body) take any JSON, which makes generation slow; example
counts are capped (BOUNDED) so the whole contracts suite stays well under a minute.

server-frame's top level is ``if`` / ``then`` over "any JSON": hypothesis-jsonschema handles it,
but nearly everything it generates is then plain pushed data. The typed frames (pong, ack, error)
are therefore generated from their own definitions, as are client-frame's two branches, so
mutations hit the members that matter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, get_args

import pytest
from contract_strategies import bounded
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from pydantic import BaseModel, TypeAdapter, ValidationError
from sumu_contracts import CONTRACT_NAMES, ContractError, contract_info, load_schema, validate
from sumu_contracts.models import (
    AckFrame,
    AuthorizerResponse,
    ChannelAckFrame,
    ChannelMessage,
    ClientFrame,
    ConnectionRecord,
    ErrorCode,
    ErrorFrame,
    MessageFrame,
    NotificationRequest,
    PingFrame,
    PolicyDocument,
    PolicyStatement,
    PongFrame,
    PresenceEvent,
    SubscriptionRecord,
    UserMessage,
)
from sumu_contracts.registry import max_bytes

BOUNDED = settings(
    max_examples=min(settings.default.max_examples, 20),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Mutation tests run once per shape (nine shapes, three mutations): fewer examples each.
MUTATIONS = settings(BOUNDED, max_examples=min(settings.default.max_examples, 12))
Model = TypeVar("Model", bound=BaseModel)
MODEL_OF: dict[str, Any] = {
    "notification-request": NotificationRequest,
    "client-frame": ClientFrame,
}

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Shape:
    """A schema to generate from: a whole contract or one of its definitions."""

    contract: str
    label: str
    schema: dict[str, Any]

    @property
    def root(self) -> dict[str, Any]:
        return load_schema(self.contract)

    @property
    def closed(self) -> bool:
        return bool(contract_info(self.contract)["direction"] == "inbound")


_STRATEGIES: dict[tuple[str, str], st.SearchStrategy[Any]] = {}


def whole(contract: str) -> Shape:
    return Shape(contract, "whole", load_schema(contract))


def messages_of(shape: Shape) -> st.SearchStrategy[Any]:
    """from_schema of the bounded schema, built once per shape."""
    key = (shape.contract, shape.label)
    if key not in _STRATEGIES:
        _STRATEGIES[key] = from_schema(bounded(shape.schema))
    return _STRATEGIES[key]


def definition(contract: str, name: str) -> dict[str, Any]:
    """One definition as a standalone schema (its $refs still resolve: definitions come along)."""
    root = load_schema(contract)
    return {**root["definitions"][name], "definitions": root.get("definitions", {})}


# The shapes mutations run on: every object schema a message can take, whole or by branch.
BRANCHES = {
    "client-frame": ("ping", "message", "channel"),
    "server-frame": ("pong", "ack", "channel_ack", "error", "message"),
}
MUTABLE = [
    Shape(name, branch, definition(name, branch))
    for name in CONTRACT_NAMES
    for branch in BRANCHES.get(name, ())
] + [whole(name) for name in CONTRACT_NAMES if name not in BRANCHES]

# In server-frame, "type" is what makes a value a SUMU frame: without it, or with another type,
# the value is simply pushed data, which may be anything. So it is not mutated.
UNMUTATED: dict[str, set[Path]] = {"server-frame": {("type",), ()}}


def resolve(schema: Any, root: dict[str, Any]) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        node: Any = root
        for token in schema["$ref"].removeprefix("#/").split("/"):
            node = node[token]
        schema = node
    return schema


def required_paths(
    schema: Any, root: dict[str, Any], instance: Any, path: Path = ()
) -> Iterator[Path]:
    """Paths of present members that their object schema lists as required."""
    schema = resolve(schema, root)
    if not isinstance(schema, dict):
        return
    if isinstance(instance, dict):
        for name in schema.get("required", []):
            if name in instance:
                yield (*path, name)
        for name, subschema in schema.get("properties", {}).items():
            if name in instance:
                yield from required_paths(subschema, root, instance[name], (*path, name))
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(instance):
            yield from required_paths(schema["items"], root, item, (*path, index))


def typed_paths(
    schema: Any, root: dict[str, Any], instance: Any, path: Path = ()
) -> Iterator[tuple[Path, Any]]:
    """(path, schema) of present values whose schema pins a type, a const or an enum."""
    schema = resolve(schema, root)
    if not isinstance(schema, dict):
        return
    if {"type", "const", "enum"} & schema.keys():
        yield path, schema
    if isinstance(instance, dict):
        for name, subschema in schema.get("properties", {}).items():
            if name in instance:
                yield from typed_paths(subschema, root, instance[name], (*path, name))
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(instance):
            yield from typed_paths(schema["items"], root, item, (*path, index))


_CANDIDATES: list[tuple[Any, set[str]]] = [
    (None, {"null"}),
    (True, {"boolean"}),
    (12345, {"integer", "number"}),
    (1.5, {"number"}),
    ("wrong", {"string"}),
    ([], {"array"}),
    ({"unexpected": 1}, {"object"}),
]


def wrong_values(schema: dict[str, Any]) -> list[Any]:
    """Values of a JSON type the schema does not allow (and outside its const / enum)."""
    declared = schema.get("type")
    allowed = {declared} if isinstance(declared, str) else set(declared or ())
    pinned = [schema["const"]] if "const" in schema else schema.get("enum")
    wrong = []
    for value, types in _CANDIDATES:
        if (allowed and not types & allowed) or (
            not allowed
            and pinned is not None
            and all(value != pin or type(value) is not type(pin) for pin in pinned)
        ):
            wrong.append(value)
    return wrong


def without(instance: Any, path: Path) -> Any:
    """A deep copy of instance with the member at path removed."""
    *parents, last = path
    copy = _copy(instance)
    container = _walk(copy, parents)
    del container[last]
    return copy


def replaced(instance: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    *parents, last = path
    copy = _copy(instance)
    _walk(copy, parents)[last] = value
    return copy


def _walk(instance: Any, path: list[str | int]) -> Any:
    for token in path:
        instance = instance[token]
    return instance


def _copy(instance: Any) -> Any:
    if isinstance(instance, dict):
        return {key: _copy(value) for key, value in instance.items()}
    if isinstance(instance, list):
        return [_copy(value) for value in instance]
    return instance


# --- generated instances: valid, and round trips through the models --------------------------

JSON_TEXT = {"sort_keys": True, "ensure_ascii": False}


def as_json(value: Any) -> str:
    """JSON text, so 1, 1.0 and true stay three different things (Python's == says otherwise)."""
    return json.dumps(value, **JSON_TEXT)


def round_trips(contract: str, model: Any, message: Any) -> None:
    # GIVEN a message the schema accepts
    validate(contract, message)
    # WHEN its model reads it and dumps it back
    adapter = TypeAdapter(model)
    parsed = adapter.validate_python(message)
    dumped = adapter.dump_python(parsed, mode="json", by_alias=True, exclude_unset=True)
    # THEN the JSON is the same
    assert as_json(dumped) == as_json(message)


@BOUNDED
@given(message=messages_of(whole("server-frame")))
@example(["pushed", "data"])
@example({"type": "presence", "message": {}})
def test_server_frame_generated_from_its_if_then_validates(message: Any) -> None:
    # The other contracts are generated whole by their round-trip tests below.
    validate("server-frame", message)


@BOUNDED
@given(message=messages_of(whole("notification-request")))
@example({"data": None})
@example({"users": [], "exclude_users": ["a"], "data": {"nested": [None, 1.0, True]}})
def test_notification_request_round_trips(message: Any) -> None:
    round_trips("notification-request", NotificationRequest, message)


@BOUNDED
@given(message=messages_of(whole("client-frame")))
@example({"action": "send", "message": None})
def test_client_frame_round_trips(message: Any) -> None:
    round_trips("client-frame", ClientFrame, message)


@pytest.mark.parametrize(
    ("branch", "model"),
    [
        ("pong", PongFrame),
        ("ack", AckFrame),
        ("channel_ack", ChannelAckFrame),
        ("error", ErrorFrame),
        ("message", ChannelMessage),
    ],
)
@BOUNDED
@given(data=st.data())
def test_server_frame_round_trips(branch: str, model: Any, data: st.DataObject) -> None:
    round_trips(
        "server-frame",
        model,
        data.draw(messages_of(Shape("server-frame", branch, definition("server-frame", branch)))),
    )


# An open object may carry a member named like a model field's Python name.
PONG_WITH_PYTHON_NAME = {
    "type": "pong",
    "statusCode": 200,
    "connectionId": "a",
    "connection_id": "b",
}


def test_pong_keeps_a_member_named_like_its_python_field() -> None:
    round_trips("server-frame", PongFrame, PONG_WITH_PYTHON_NAME)


@BOUNDED
@given(message=messages_of(whole("user-message")))
@example(
    {
        "body": None,
        "attributes": {
            "user_id": {"DataType": "String", "StringValue": "a"},
            "timestamp": {"DataType": "Number", "StringValue": "1"},
            "source": {"DataType": "String", "StringValue": "apigw.route.send"},
        },
    }
)
def test_user_message_round_trips(message: Any) -> None:
    round_trips("user-message", UserMessage, message)


@BOUNDED
@given(message=messages_of(whole("presence-event")))
def test_presence_event_round_trips(message: Any) -> None:
    round_trips("presence-event", PresenceEvent, message)


@BOUNDED
@given(message=messages_of(whole("connection-record")))
def test_connection_record_round_trips(message: Any) -> None:
    round_trips("connection-record", ConnectionRecord, message)


@BOUNDED
@given(message=messages_of(whole("subscription-record")))
@example({"channel": "a", "connection_id": "c", "user_id": "u", "subscribed_at": 0, "delete_at": 0})
def test_subscription_record_round_trips(message: Any) -> None:
    round_trips("subscription-record", SubscriptionRecord, message)


@BOUNDED
@given(message=messages_of(whole("authorizer-response")))
@example(
    {
        "principalId": "a",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": ["*"]}],
        },
        "context": {"flag": True, "count": 1, "ratio": 0.5, "name": "a"},
    }
)
def test_authorizer_response_round_trips(message: Any) -> None:
    round_trips("authorizer-response", AuthorizerResponse, message)


# --- what the models build validates ---------------------------------------------------------


def made(model: type[Model]) -> Callable[..., Model]:
    """The model's constructor called with Python field names, as services call it.

    st.builds(Model, ...) would also fill pydantic's signature, which names fields by alias, and
    the alias wins over the name.
    """

    def construct(**fields: Any) -> Model:
        return model(**fields)

    return construct


user_ids = st.text(min_size=1, max_size=20)
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
timestamps = st.integers(min_value=0, max_value=2**53) | st.floats(
    min_value=0, max_value=2e10, allow_nan=False
)


@BOUNDED
@given(
    request=st.builds(
        NotificationRequest,
        users=st.lists(user_ids, max_size=3),
        exclude_users=st.lists(user_ids, max_size=3),
        data=json_values,
    )
)
def test_built_notification_request_validates(request: NotificationRequest) -> None:
    validate("notification-request", request.to_json_dict())


@BOUNDED
@given(
    frame=st.builds(PingFrame, action=st.just("ping"))
    | st.builds(MessageFrame, action=st.sampled_from(["send", "publish"]), message=json_values)
)
def test_built_client_frame_validates(frame: PingFrame | MessageFrame) -> None:
    validate("client-frame", frame.to_json_dict())


@BOUNDED
@given(
    frame=st.builds(made(PongFrame), connection_id=user_ids)
    | st.builds(
        made(AckFrame),
        action=st.sampled_from(["send", "publish"]),
        message_id=user_ids,
        request_id=st.none() | st.text(max_size=10),
    )
    | st.builds(
        made(ErrorFrame),
        status_code=st.integers(min_value=400, max_value=599),
        code=st.sampled_from(list(get_args(ErrorCode))),
        message=st.text(max_size=20),
        retryable=st.none() | st.booleans(),
        action=st.none() | st.text(max_size=10),
        pointer=st.none() | st.text(max_size=10),
        request_id=st.none() | st.text(max_size=10),
    )
)
def test_built_server_frame_validates(frame: PongFrame | AckFrame | ErrorFrame) -> None:
    validate("server-frame", frame.to_json_dict())


@BOUNDED
@given(
    message=st.builds(
        UserMessage.build,
        body=json_values,
        user_id=user_ids,
        timestamp_ms=st.integers(min_value=0, max_value=2**53),
        source=st.sampled_from(["apigw.route.send", "apigw.route.publish"]),
    )
)
@example(
    message=UserMessage.build(body=None, user_id="a", timestamp_ms=0, source="apigw.route.send")
)
def test_built_user_message_validates(message: UserMessage) -> None:
    validate("user-message", message.to_json_dict())
    assert message.message_attributes() == message.to_json_dict()["attributes"]


@BOUNDED
@given(
    event=st.builds(
        PresenceEvent.build,
        user_id=user_ids,
        status=st.sampled_from(["ONLINE", "OFFLINE"]),
        timestamp=timestamps,
    )
)
@example(event=PresenceEvent.build(user_id="a", status="OFFLINE", timestamp=1e-7))
@example(event=PresenceEvent.build(user_id="a", status="ONLINE", timestamp=1e20))
def test_built_presence_event_validates(event: PresenceEvent) -> None:
    validate("presence-event", event.to_json_dict())


@BOUNDED
@given(
    record=st.builds(
        ConnectionRecord,
        user_id=user_ids,
        connection_id=user_ids,
        connected_at=st.integers(min_value=0),
        delete_at=st.integers(min_value=0),
        source_ip=st.none() | st.text(max_size=15),
        user_agent=st.none() | st.text(max_size=15),
    )
)
def test_built_connection_record_validates(record: ConnectionRecord) -> None:
    validate("connection-record", record.to_json_dict())


context_values = (
    st.text(max_size=5)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
)


@BOUNDED
@given(
    response=st.builds(
        made(AuthorizerResponse),
        principal_id=user_ids,
        policy_document=st.builds(
            made(PolicyDocument),
            statement=st.lists(
                st.builds(
                    made(PolicyStatement),
                    effect=st.sampled_from(["Allow", "Deny"]),
                    resource=user_ids | st.lists(user_ids, min_size=1, max_size=2),
                ),
                min_size=1,
                max_size=2,
            ),
        ),
        context=st.none() | st.dictionaries(st.text(max_size=5), context_values, max_size=3),
    )
)
def test_built_authorizer_response_validates(response: AuthorizerResponse) -> None:
    validate("authorizer-response", response.to_json_dict())


@pytest.mark.parametrize(
    "build",
    [
        lambda: NotificationRequest(users=None, data=1),  # type: ignore[arg-type]
        lambda: PresenceEvent.build(user_id="a", status="ONLINE", timestamp=float("nan")),
        lambda: PresenceEvent.build(user_id="a", status="ONLINE", timestamp=True),
        lambda: UserMessage.build(body=1, user_id="", timestamp_ms=1, source="apigw.route.send"),
        lambda: ErrorFrame(status_code=200, code="internal_error", message="x"),
    ],
    ids=["null users", "NaN timestamp", "bool timestamp", "empty user id", "status 200 error"],
)
def test_models_refuse_what_the_schema_refuses(build: Callable[[], Any]) -> None:
    with pytest.raises(ValidationError):
        build()


# --- targeted mutations are rejected ----------------------------------------------------------


@pytest.mark.parametrize("shape", MUTABLE, ids=lambda shape: f"{shape.contract}: {shape.label}")
@MUTATIONS
@given(data=st.data())
def test_dropping_a_required_member_is_rejected(shape: Shape, data: st.DataObject) -> None:
    message = data.draw(messages_of(shape))
    validate(shape.contract, message)
    paths = [
        path
        for path in required_paths(shape.schema, shape.root, message)
        if path not in UNMUTATED.get(shape.contract, set())
    ]
    path = data.draw(st.sampled_from(paths))
    mutated = without(message, path)
    with pytest.raises(ContractError):
        validate(shape.contract, mutated)
    rejected_by_model(shape, mutated)


@pytest.mark.parametrize("shape", MUTABLE, ids=lambda shape: f"{shape.contract}: {shape.label}")
@MUTATIONS
@given(data=st.data())
def test_a_wrong_type_is_rejected(shape: Shape, data: st.DataObject) -> None:
    message = data.draw(messages_of(shape))
    validate(shape.contract, message)
    skip = UNMUTATED.get(shape.contract, set())
    candidates = [
        (path, value)
        for path, schema in typed_paths(shape.schema, shape.root, message)
        if path not in skip
        for value in wrong_values(schema)
    ]
    path, value = data.draw(st.sampled_from(candidates))
    mutated = replaced(message, path, value)
    with pytest.raises(ContractError) as raised:
        validate(shape.contract, mutated)
    assert raised.value.reason
    rejected_by_model(shape, mutated)


@pytest.mark.parametrize(
    "shape",
    [shape for shape in MUTABLE if shape.closed],
    ids=lambda shape: f"{shape.contract}: {shape.label}",
)
@MUTATIONS
@given(data=st.data(), name=st.text(min_size=1, max_size=10))
def test_an_extra_member_on_a_closed_object_is_rejected(
    shape: Shape, data: st.DataObject, name: str
) -> None:
    message = data.draw(messages_of(shape))
    validate(shape.contract, message)
    assume(name not in shape.schema.get("properties", {}))
    mutated = {**message, name: "extra"}
    with pytest.raises(ContractError):
        validate(shape.contract, mutated)
    rejected_by_model(shape, mutated)


def rejected_by_model(shape: Shape, mutated: Any) -> None:
    """Closed (inbound) models refuse what the schema refuses. Outbound models are lenient on
    purpose: they fill defaults such as a pong's statusCode, so they are not checked here."""
    if shape.closed:
        with pytest.raises(ValidationError):
            TypeAdapter(MODEL_OF[shape.contract]).validate_python(mutated)


LIMITED = [name for name in CONTRACT_NAMES if max_bytes(name) is not None]
GENERIC_MEMBER = {"notification-request": "data", "client-frame": "message"}


@pytest.mark.parametrize("contract", LIMITED)
@MUTATIONS
@given(data=st.data())
def test_a_message_over_its_size_limit_is_rejected(contract: str, data: st.DataObject) -> None:
    # GIVEN a valid message WHEN its free-form member is padded past x-sumu-max-bytes
    limit = max_bytes(contract)
    assert limit is not None
    message = data.draw(
        messages_of(whole(contract)).filter(lambda m: GENERIC_MEMBER[contract] in m)
    )
    oversize = {**message, GENERIC_MEMBER[contract]: "x" * limit}
    # THEN it is rejected at the root, saying how big it is
    with pytest.raises(ContractError) as raised:
        validate(contract, oversize)
    assert raised.value.pointer == ""
    assert raised.value.reason.endswith(f"over the limit of {limit}")


@pytest.mark.parametrize("contract", LIMITED)
def test_a_message_exactly_at_its_size_limit_passes(contract: str) -> None:
    limit = max_bytes(contract)
    assert limit is not None
    member = GENERIC_MEMBER[contract]
    skeleton = {"action": "send", member: ""} if contract == "client-frame" else {member: ""}
    padding = limit - len(json.dumps(skeleton, separators=(",", ":")).encode())
    at_limit = {**skeleton, member: "x" * padding}
    validate(contract, at_limit)
    with pytest.raises(ContractError):
        validate(contract, {**skeleton, member: "x" * (padding + 1)})
