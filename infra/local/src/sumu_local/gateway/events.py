"""The events API Gateway hands to WebSocket integrations and to a REQUEST authorizer.

Shapes follow the developer guide's examples (requestContext keys and their formats):
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html
"""

from __future__ import annotations

import base64
import os
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from multidict import CIMultiDictProxy, MultiMapping

from sumu_local.gateway.config import GatewayConfig

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ID_TRANSLATION = bytes.maketrans(b"+/", b"Zk")


# Ids only need to be unique, not secret: a PRNG seeded once from the OS is enough and spares
# an os.urandom system call per id (several per connect).
_id_random = random.Random(os.urandom(16))  # noqa: S311


def new_aws_id() -> str:
    """An id in API Gateway's format (`L0SM9cOFvHcCIhw=`: 15 base64 characters and `=`).

    Used for connectionId, requestId and messageId. `+` and `/` are mapped to letters so an id
    is the same in a URL path whether or not a client percent-encodes it.
    """
    raw = _id_random.getrandbits(88).to_bytes(11, "big")
    return base64.b64encode(raw).translate(_ID_TRANSLATION).decode("ascii")


def new_uuid() -> str:
    """A version-4 UUID string (Lambda's aws_request_id format) from the same cheap PRNG."""
    return str(uuid.UUID(int=_id_random.getrandbits(128), version=4))


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000


def request_time(epoch_milliseconds: int) -> str:
    """AWS's CLF-like `$context.requestTime`: `27/Nov/2026:18:04:34 +0000` (English months)."""
    moment = datetime.fromtimestamp(epoch_milliseconds / 1000, UTC)
    return f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def iso_timestamp(epoch_milliseconds: int) -> str:
    """The management API's timestamps (`connectedAt`, `lastActiveAt`): ISO 8601, UTC, ms."""
    moment = datetime.fromtimestamp(epoch_milliseconds / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def stringify_context_value(value: str | int | float | bool) -> str:
    """API Gateway hands authorizer context values to integrations as strings (`true`, `42`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True, slots=True)
class Identity:
    source_ip: str
    user_agent: str

    def as_event(self) -> dict[str, str]:
        return {"sourceIp": self.source_ip, "userAgent": self.user_agent}


@dataclass(frozen=True, slots=True)
class UpgradeRequest:
    """What API Gateway keeps of the HTTP upgrade request for $connect and the authorizer."""

    headers: dict[str, str]
    multi_value_headers: dict[str, list[str]]
    query: dict[str, str]
    multi_value_query: dict[str, list[str]]

    @classmethod
    def from_http(
        cls,
        headers: CIMultiDictProxy[str],
        query: MultiMapping[str],
        *,
        source_ip: str,
        port: int,
    ) -> UpgradeRequest:
        multi_value_headers: dict[str, list[str]] = {}
        for name, value in headers.items():
            multi_value_headers.setdefault(name, []).append(value)
        # The headers API Gateway's front end adds before the integration sees the request.
        for name, value in (
            ("X-Forwarded-For", source_ip),
            ("X-Forwarded-Port", str(port)),
            ("X-Forwarded-Proto", "http"),
        ):
            if name not in headers:
                multi_value_headers[name] = [value]
        multi_value_query: dict[str, list[str]] = {}
        for name, value in query.items():
            multi_value_query.setdefault(name, []).append(value)
        return cls(
            # Like AWS, the single-value maps keep the last value of a repeated key.
            headers={name: values[-1] for name, values in multi_value_headers.items()},
            multi_value_headers=multi_value_headers,
            query={name: values[-1] for name, values in multi_value_query.items()},
            multi_value_query=multi_value_query,
        )

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass(frozen=True, slots=True)
class RequestIds:
    request_id: str
    request_time_epoch: int
    request_time: str

    @classmethod
    def new(cls) -> RequestIds:
        now = epoch_ms()
        return cls(request_id=new_aws_id(), request_time_epoch=now, request_time=request_time(now))


def request_context(
    config: GatewayConfig,
    *,
    route_key: str,
    event_type: str,
    connection_id: str,
    connected_at: int,
    identity: Identity,
    ids: RequestIds,
    authorizer: Mapping[str, Any] | None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": ids.request_id,
        "requestTime": ids.request_time,
        "messageDirection": "IN",
        "stage": config.stage,
        "connectedAt": connected_at,
        "requestTimeEpoch": ids.request_time_epoch,
        "identity": identity.as_event(),
        "requestId": ids.request_id,
        "domainName": config.domain_name,
        "connectionId": connection_id,
        "apiId": config.api_id,
    }
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return context


def method_arn(config: GatewayConfig, route_key: str = "$connect") -> str:
    return (
        f"arn:aws:execute-api:{config.region}:{config.account_id}:{config.api_id}"
        f"/{config.stage}/{route_key}"
    )


def authorizer_event(
    config: GatewayConfig, upgrade: UpgradeRequest, context: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "REQUEST",
        "methodArn": method_arn(config),
        "headers": dict(upgrade.headers),
        "multiValueHeaders": {
            key: list(values) for key, values in upgrade.multi_value_headers.items()
        },
        "queryStringParameters": dict(upgrade.query),
        "multiValueQueryStringParameters": {
            key: list(values) for key, values in upgrade.multi_value_query.items()
        },
        "stageVariables": {},
        "requestContext": context,
    }


def connect_event(upgrade: UpgradeRequest, context: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = {
        "headers": dict(upgrade.headers),
        "multiValueHeaders": {
            key: list(values) for key, values in upgrade.multi_value_headers.items()
        },
    }
    # API Gateway leaves the query keys out when the upgrade URL has no query string.
    if upgrade.query:
        event["queryStringParameters"] = dict(upgrade.query)
        event["multiValueQueryStringParameters"] = {
            key: list(values) for key, values in upgrade.multi_value_query.items()
        }
    event["requestContext"] = context
    event["isBase64Encoded"] = False
    return event


def message_event(context: dict[str, Any], message_id: str, body: str) -> dict[str, Any]:
    context["messageId"] = message_id
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(
    config: GatewayConfig, context: dict[str, Any], status_code: int, reason: str
) -> dict[str, Any]:
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    # The headers AWS puts on $disconnect: there is no client request any more, only its own.
    headers = {"Host": config.domain_name, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    return {
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }
