"""Route selection: which route key a client's message goes to.

API Gateway evaluates the API's route selection expression against the JSON body; a body that
is not JSON, lacks the property or names no configured route goes to `$default`, and without
`$default` the client gets an error frame.
https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
"""

from __future__ import annotations

import json
from collections.abc import Container
from typing import Any

DEFAULT_ROUTE = "$default"
# Lifecycle routes are API Gateway's own; a message can never select them.
_LIFECYCLE_ROUTES = frozenset({"$connect", "$disconnect"})


def parse_selection_expression(expression: str) -> tuple[str, ...]:
    """`$request.body.action` or `${request.body.action}` -> ("action",); nested keys allowed."""
    text = expression.strip()
    if text.startswith("${") and text.endswith("}"):
        text = "$" + text[2:-1]
    prefix = "$request.body."
    path = text.removeprefix(prefix)
    if not text.startswith(prefix) or not path or any(not key for key in path.split(".")):
        raise ValueError(
            f"route_selection_expression {expression!r}: only $request.body.<key>[.<key>...] is supported"
        )
    return tuple(path.split("."))


def select_route(body: str, path: tuple[str, ...], routes: Container[str]) -> str | None:
    """The route key for a text message, or None when nothing (not even $default) matches."""
    value: Any
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, str) and value not in _LIFECYCLE_ROUTES and value in routes:
        return value
    return DEFAULT_ROUTE if DEFAULT_ROUTE in routes else None
