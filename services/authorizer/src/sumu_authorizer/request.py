"""Read the two things the authorizer needs from a REQUEST authorizer event: token and methodArn.

Event shape (WebSocket $connect): https://docs.aws.amazon.com/apigateway/latest/developerguide/
apigateway-websocket-api-lambda-auth.html. Browsers cannot set headers on a WebSocket upgrade,
so the token usually arrives in the ``authorization`` query parameter; other clients send the
``Authorization`` header. Either map may be absent or null.
"""

from __future__ import annotations

from sumu_authorizer.decision import Denied

CREDENTIAL_NAME = "authorization"
_BEARER = "bearer "


def _lookup(parameters: object, name: str) -> object:
    """The value of ``name`` in a header or query map, matching the name case-insensitively."""
    if not isinstance(parameters, dict):
        return None
    if name in parameters:
        return parameters[name]
    for key, value in parameters.items():
        if isinstance(key, str) and key.lower() == name:
            return value
    return None


def _credential(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Denied("token is not a string")
    credential = value.strip()
    if credential[: len(_BEARER)].lower() == _BEARER:
        credential = credential[len(_BEARER) :].strip()
    elif credential.lower() == _BEARER.strip():
        credential = ""
    return credential or None


def method_arn(event: object) -> str | None:
    value = event.get("methodArn") if isinstance(event, dict) else None
    return value if isinstance(value, str) and value else None


def bearer_token(event: object) -> str | None:
    """The token (query parameter first, then header); None when the request carries none.

    Raises Denied when a credential is present but cannot be a token (not a string).
    """
    if not isinstance(event, dict):
        return None
    token = _credential(_lookup(event.get("queryStringParameters"), CREDENTIAL_NAME))
    if token is None:
        token = _credential(_lookup(event.get("headers"), CREDENTIAL_NAME))
    return token
