"""What the authorizer answers: an IAM policy (authorizer-response contract) or a denial reason.

API Gateway's Lambda authorizer output format:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

POLICY_VERSION = "2012-10-17"
ANONYMOUS_PRINCIPAL = "anonymous"

ContextValue = str | int | float | bool


class Statement(TypedDict):
    Action: str
    Effect: Literal["Allow", "Deny"]
    Resource: str | list[str]


class PolicyDocument(TypedDict):
    Version: str
    Statement: list[Statement]


class AuthorizerResponse(TypedDict):
    principalId: str
    policyDocument: PolicyDocument
    context: NotRequired[dict[str, ContextValue]]


class Denied(Exception):
    """The request is refused; ``reason`` goes to the log line, never to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _policy(effect: Literal["Allow", "Deny"], resource: str | list[str]) -> PolicyDocument:
    return {
        "Version": POLICY_VERSION,
        "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
    }


def allow(
    principal_id: str, resources: list[str], context: dict[str, ContextValue]
) -> AuthorizerResponse:
    return {
        "principalId": principal_id,
        "policyDocument": _policy("Allow", resources),
        "context": context,
    }


def deny(method_arn: str | None) -> AuthorizerResponse:
    # Without a methodArn (a malformed event) there is nothing narrower to deny than everything.
    return {
        "principalId": ANONYMOUS_PRINCIPAL,
        "policyDocument": _policy("Deny", method_arn or "*"),
    }
