"""Typed pydantic models of the messages services build or read (extra ``sumu-contracts[models]``).

Each model is the Python face of one schema: property tests prove that every instance generated
from a schema is accepted by its model and dumps back to the same JSON, and that every instance a
model builds validates. Inbound models forbid unknown keys (closed schemas); outbound models keep
them (open schemas), so a newer writer's extra fields survive a round trip.

No schema allows null for an optional property, so ``None`` means "absent": outbound models leave
such fields out of every dump, and inbound models refuse an explicit ``None``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_serializer,
)

UserId = Annotated[StrictStr, Field(min_length=1, max_length=1024)]
# 1..128 letters, digits and _-:.@= (since 0.3.0): the channel_name definition of the schemas.
ChannelName = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_\-:.@=]{1,128}$")]
JsonValue = Any
# A JSON number: no bool (pydantic's lax float would take True as 1.0), no NaN or infinity
# (not JSON: pydantic would dump them as null).
JsonNumber = StrictInt | Annotated[float, Field(strict=True, allow_inf_nan=False)]


class _Inbound(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_json_dict(self) -> dict[str, Any]:
        """The message as JSON-ready data, with only the keys it was given."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class _Outbound(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    @model_serializer(mode="wrap")
    def _omit_absent_optionals(
        self, serialise: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        # exclude_none would also drop a required field that holds JSON null (a user message
        # whose body is null), so only optional fields are left out.
        dumped = serialise(self)
        if isinstance(dumped, dict):
            for name, spec in type(self).model_fields.items():
                if not spec.is_required() and getattr(self, name) is None:
                    dumped.pop(spec.alias if info.by_alias and spec.alias else name, None)
        return dumped

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


# --- notification-request (backend -> pusher) -------------------------------------------------


class NotificationRequest(_Inbound):
    users: list[UserId] | None = None
    channels: Annotated[list[ChannelName], Field(max_length=100)] | None = None
    exclude_users: list[UserId] | None = None
    data: JsonValue = Field(...)
    # The idempotency key (since 0.4.0): a request whose id was already accepted is not
    # delivered again.
    id: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = None

    @field_validator("users", "channels", "exclude_users", "id", mode="before")
    @classmethod
    def _absent_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must be a list of user ids or left out, not null")
        return value

    @property
    def is_broadcast(self) -> bool:
        # Neither audience named (an empty list names nobody, since 0.2.0 for users).
        return self.users is None and self.channels is None


# --- client-frame (client -> gateway) ---------------------------------------------------------


class PingFrame(_Inbound):
    action: Literal["ping"]


class MessageFrame(_Inbound):
    action: Literal["send", "publish"]
    message: JsonValue = Field(...)


class ChannelFrame(_Inbound):
    action: Literal["subscribe", "unsubscribe"]
    channel: ChannelName
    # The last seq the client saw (since 0.4.0): the messages after it are replayed first.
    since: Annotated[StrictInt, Field(ge=0)] | None = None

    @field_validator("since", mode="before")
    @classmethod
    def _absent_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must be an integer or left out, not null")
        return value


ClientFrame = PingFrame | MessageFrame | ChannelFrame


# --- server-frame (gateway -> client) ---------------------------------------------------------


class PongFrame(_Outbound):
    type: Literal["pong"] = "pong"
    status_code: Literal[200] = Field(200, alias="statusCode")
    connection_id: Annotated[StrictStr, Field(min_length=1)] = Field(alias="connectionId")


class AckFrame(_Outbound):
    type: Literal["ack"] = "ack"
    status_code: Literal[200] = Field(200, alias="statusCode")
    action: Literal["send", "publish"]
    message_id: Annotated[StrictStr, Field(min_length=1)] = Field(alias="messageId")
    request_id: StrictStr | None = Field(None, alias="requestId")


class ChannelAckFrame(_Outbound):
    """server-frame v2: a subscribe or unsubscribe took effect."""

    type: Literal["ack"] = "ack"
    status_code: Literal[200] = Field(200, alias="statusCode")
    action: Literal["subscribe", "unsubscribe"]
    channel: ChannelName
    request_id: StrictStr | None = Field(None, alias="requestId")
    # Subscribe only (since 0.4.0): whether history covered since, and the channel's head seq.
    recovered: StrictBool | None = None
    seq: Annotated[StrictInt, Field(ge=0)] | None = None


class ChannelMessage(_Outbound):
    """server-frame v2: a notification delivered to a channel's subscribers."""

    type: Literal["message"] = "message"
    channel: ChannelName
    id: Annotated[StrictStr, Field(min_length=1)]
    # The position in the channel (since 0.4.0); absent without history.
    seq: Annotated[StrictInt, Field(ge=1)] | None = None
    data: JsonValue = Field(...)


ErrorCode = Literal[
    "invalid_json",
    "unknown_action",
    "missing_message",
    "invalid_frame",
    "message_too_large",
    "upstream_unavailable",
    "internal_error",
    "unauthorized",
    "forbidden",
    "invalid",
    "limit",
]


class ErrorFrame(_Outbound):
    type: Literal["error"] = "error"
    status_code: Annotated[StrictInt, Field(ge=400, le=599)] = Field(alias="statusCode")
    code: ErrorCode
    message: StrictStr
    retryable: StrictBool | None = None
    action: StrictStr | None = None
    pointer: StrictStr | None = None
    channel: StrictStr | None = None
    request_id: StrictStr | None = Field(None, alias="requestId")


# --- message attributes (SNS / SQS wire shape) ------------------------------------------------


class StringAttribute(_Outbound):
    data_type: Literal["String"] = Field("String", alias="DataType")
    string_value: Annotated[StrictStr, Field(min_length=1)] = Field(alias="StringValue")


class NumberAttribute(_Outbound):
    data_type: Literal["Number"] = Field("Number", alias="DataType")
    string_value: Annotated[StrictStr, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$")] = Field(
        alias="StringValue"
    )

    @classmethod
    def of(cls, number: int | float | Decimal) -> NumberAttribute:
        # SNS/SQS carry numbers as strings; avoid exponent notation, which the contract forbids.
        text = format(Decimal(str(number)), "f")
        return cls(string_value=text)


# --- user-message (connections -> backends) ---------------------------------------------------

UserMessageSource = Literal["apigw.route.send", "apigw.route.publish"]


class SourceAttribute(_Outbound):
    data_type: Literal["String"] = Field("String", alias="DataType")
    string_value: UserMessageSource = Field(alias="StringValue")


class UserMessageAttributes(_Outbound):
    user_id: StringAttribute
    timestamp: NumberAttribute
    source: SourceAttribute


class UserMessage(_Outbound):
    body: JsonValue = Field(...)
    attributes: UserMessageAttributes

    @classmethod
    def build(
        cls, *, body: Any, user_id: str, timestamp_ms: int, source: UserMessageSource
    ) -> UserMessage:
        return cls(
            body=body,
            attributes=UserMessageAttributes(
                user_id=StringAttribute(string_value=user_id),
                timestamp=NumberAttribute.of(timestamp_ms),
                source=SourceAttribute(string_value=source),
            ),
        )

    def message_attributes(self) -> dict[str, dict[str, str]]:
        """The ``MessageAttributes`` argument of SQS SendMessage and SNS Publish.

        Dumps the attributes only: the body can be large or deeply nested.
        """
        return self.attributes.to_json_dict()


# --- presence-event (presence -> backends) ----------------------------------------------------

PresenceStatus = Literal["ONLINE", "OFFLINE"]
PRESENCE_SOURCE = "lambda.presence.watchdog"


class PresenceMessage(_Outbound):
    user_id: Annotated[StrictStr, Field(min_length=1)]
    status: PresenceStatus
    timestamp: JsonNumber
    # The stream record's SequenceNumber (since 0.2.0): orders events that share a timestamp.
    sequence_number: Annotated[StrictStr, Field(pattern=r"^[0-9]{1,40}$")] | None = None


class PresenceBody(_Outbound):
    type: Literal["presence"] = "presence"
    message: PresenceMessage


class PresenceSourceAttribute(_Outbound):
    data_type: Literal["String"] = Field("String", alias="DataType")
    string_value: Literal["lambda.presence.watchdog"] = Field(
        "lambda.presence.watchdog", alias="StringValue"
    )


class PresenceAttributes(_Outbound):
    source: PresenceSourceAttribute
    user_id: StringAttribute
    timestamp: NumberAttribute


class PresenceEvent(_Outbound):
    body: PresenceBody
    attributes: PresenceAttributes

    @classmethod
    def build(
        cls,
        *,
        user_id: str,
        status: PresenceStatus,
        timestamp: int | float,
        sequence_number: str | None = None,
    ) -> PresenceEvent:
        message = PresenceMessage(
            user_id=user_id, status=status, timestamp=timestamp, sequence_number=sequence_number
        )
        return cls(
            body=PresenceBody(message=message),
            attributes=PresenceAttributes(
                source=PresenceSourceAttribute(),
                user_id=StringAttribute(string_value=user_id),
                timestamp=NumberAttribute.of(timestamp),
            ),
        )

    def message_attributes(self) -> dict[str, dict[str, str]]:
        return self.attributes.to_json_dict()


# --- connection-record (connections -> table -> pusher, presence) -----------------------------


class ConnectionRecord(_Outbound):
    user_id: Annotated[StrictStr, Field(min_length=1, max_length=1024)]
    connection_id: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    connected_at: Annotated[StrictInt, Field(ge=0)]
    delete_at: Annotated[StrictInt, Field(ge=0)]
    source_ip: StrictStr | None = None
    user_agent: StrictStr | None = None


# --- subscription-record (connections -> subscriptions table -> pusher) ----------------------


class SubscriptionRecord(_Outbound):
    channel: ChannelName
    connection_id: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    user_id: Annotated[StrictStr, Field(min_length=1, max_length=1024)]
    subscribed_at: Annotated[StrictInt, Field(ge=0)]
    delete_at: Annotated[StrictInt, Field(ge=0)]


# --- authorizer-response (authorizer -> API Gateway) ------------------------------------------


class PolicyStatement(_Outbound):
    action: Literal["execute-api:Invoke"] = Field("execute-api:Invoke", alias="Action")
    effect: Literal["Allow", "Deny"] = Field(alias="Effect")
    resource: (
        Annotated[StrictStr, Field(min_length=1)] | list[Annotated[StrictStr, Field(min_length=1)]]
    ) = Field(alias="Resource")


class PolicyDocument(_Outbound):
    version: Literal["2012-10-17"] = Field("2012-10-17", alias="Version")
    statement: Annotated[list[PolicyStatement], Field(min_length=1)] = Field(alias="Statement")


class AuthorizerResponse(_Outbound):
    principal_id: Annotated[StrictStr, Field(min_length=1)] = Field(alias="principalId")
    policy_document: PolicyDocument = Field(alias="policyDocument")
    context: dict[str, StrictStr | JsonNumber | StrictBool] | None = None
