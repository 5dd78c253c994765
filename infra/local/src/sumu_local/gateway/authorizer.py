"""The REQUEST authorizer step of $connect: identity sources, the call, the policy verdict.

AWS's rules (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html):
a missing identity source is 401 without calling the function; the function raising
"Unauthorized" is 401; a policy that does not allow the method ARN is 403; anything else that
goes wrong (another exception, a malformed answer) is 500.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sumu_local.gateway.events import UpgradeRequest, stringify_context_value

_HEADER_SOURCE = "route.request.header."
_QUERY_SOURCE = "route.request.querystring."
_INVOKE_ACTIONS = ("execute-api:Invoke", "execute-api:*", "*")


@dataclass(frozen=True)
class AuthorizerVerdict:
    status: int  # 200 allowed; 401, 403, 500 refuse the upgrade
    context: dict[str, Any] | None = None  # requestContext.authorizer when allowed
    error: str | None = None


def identity_sources_present(sources: tuple[str, ...], upgrade: UpgradeRequest) -> bool:
    """True when every identity source has a non-empty value in the upgrade request."""
    for source in sources:
        if source.startswith(_HEADER_SOURCE):
            value = upgrade.header(source.removeprefix(_HEADER_SOURCE))
        elif source.startswith(_QUERY_SOURCE):
            value = upgrade.query.get(source.removeprefix(_QUERY_SOURCE))
        else:
            # stageVariables / context sources: the local gateway has none, so they are absent.
            value = None
        if not value:
            return False
    return True


def verdict_from_exception(error: BaseException) -> AuthorizerVerdict:
    # Lambda authorizers signal 401 by failing with exactly this message.
    if str(error) == "Unauthorized":
        return AuthorizerVerdict(status=401, error="Unauthorized")
    return AuthorizerVerdict(status=500, error=f"{type(error).__name__}: {error}")


def verdict_from_response(
    response: Any, method_arn: str, integration_latency_ms: int
) -> AuthorizerVerdict:
    if not isinstance(response, Mapping):
        return AuthorizerVerdict(status=500, error="authorizer returned no policy object")
    principal_id = response.get("principalId")
    policy = response.get("policyDocument")
    if not isinstance(principal_id, str) or not isinstance(policy, Mapping):
        return AuthorizerVerdict(
            status=500, error="authorizer response lacks principalId or policyDocument"
        )
    if not _policy_allows(policy, method_arn):
        return AuthorizerVerdict(status=403, error="policy does not allow " + method_arn)
    context = _stringified_context(response.get("context") or {})
    if context is None:
        # API Gateway rejects nested objects and arrays in the context with a 500.
        return AuthorizerVerdict(status=500, error="authorizer context values must be scalars")
    context["principalId"] = principal_id
    context["integrationLatency"] = integration_latency_ms
    return AuthorizerVerdict(status=200, context=context)


def _policy_allows(policy: Mapping[str, Any], method_arn: str) -> bool:
    """IAM evaluation reduced to what authorizers use: an explicit Deny wins over any Allow."""
    statements = policy.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        return False
    effects = {_effect_on(statement, method_arn) for statement in statements}
    return "Allow" in effects and "Deny" not in effects


def _stringified_context(raw_context: Any) -> dict[str, Any] | None:
    if not isinstance(raw_context, Mapping):
        return None
    context: dict[str, Any] = {}
    for key, value in raw_context.items():
        if not isinstance(value, str | int | float | bool):
            return None
        context[key] = stringify_context_value(value)
    return context


def _effect_on(statement: Any, method_arn: str) -> str | None:
    """The statement's Effect when it covers Invoke on the method ARN, else None."""
    if not isinstance(statement, Mapping):
        return None
    actions = _as_list(statement.get("Action"))
    resources = _as_list(statement.get("Resource"))
    if not any(action in _INVOKE_ACTIONS for action in actions):
        return None
    if not any(fnmatch.fnmatchcase(method_arn, resource) for resource in resources):
        return None
    effect = statement.get("Effect")
    return effect if effect in ("Allow", "Deny") else None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []
