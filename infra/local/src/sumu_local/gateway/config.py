"""The gateway's settings: what a Terraform `aws_apigatewayv2_api` + routes + stage would say.

Defaults are API Gateway's own quotas, so a gateway built with no arguments behaves like AWS:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

Handler = Callable[[Any, Any], Any]
HandlerRef = str | Handler


@dataclass(frozen=True)
class GatewayConfig:
    routes: Mapping[str, HandlerRef]
    authorizer: HandlerRef | None = None
    # AWS syntax; every source must be present or the client gets 401 without the authorizer
    # being called. () = always call it (API Gateway's behaviour with no identity sources).
    identity_sources: tuple[str, ...] = ("route.request.querystring.authorization",)
    host: str = "127.0.0.1"
    port: int = 3001
    stage: str = "mvp"
    api_id: str = "local"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    route_selection_expression: str = "$request.body.action"
    idle_timeout_seconds: float = 600.0
    max_duration_seconds: float = 7200.0
    handler_timeout_seconds: float = 29.0
    # Per route key ("authorizer" for the authorizer): how long the gateway waits for that
    # integration, e.g. the function's Lambda timeout; capped at handler_timeout_seconds.
    handler_timeouts: Mapping[str, float] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("idle_timeout_seconds", "max_duration_seconds", "handler_timeout_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"gateway setting {name} must be > 0")
        for route_key, seconds in self.handler_timeouts.items():
            if seconds <= 0:
                raise ValueError(f"gateway setting handler_timeouts[{route_key!r}] must be > 0")
        if not self.stage or "/" in self.stage:
            raise ValueError(f"gateway setting stage must be one path segment, got {self.stage!r}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"gateway setting port must be 0..65535, got {self.port}")

    def timeout_for(self, route_key: str) -> float:
        """API Gateway waits for the integration at most its own timeout (29 s by default)."""
        own = self.handler_timeouts.get(route_key, self.handler_timeout_seconds)
        return min(own, self.handler_timeout_seconds)

    @property
    def domain_name(self) -> str:
        """What requestContext.domainName says: AWS's execute-api host name for this API."""
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


def load_gateway_config(path: Path) -> GatewayConfig:
    """Read the [gateway] table of a TOML file; [gateway.routes] maps route keys to dotted paths."""
    with path.open("rb") as config_file:
        document = tomllib.load(config_file)
    table = document.get("gateway")
    if not isinstance(table, dict):
        raise ValueError(f"{path}: no [gateway] table")
    known = {config_field.name for config_field in fields(GatewayConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"{path}: unknown [gateway] keys: {', '.join(unknown)}")
    values: dict[str, Any] = dict(table)
    if "routes" not in values or not isinstance(values["routes"], dict):
        raise ValueError(f"{path}: [gateway.routes] is required (route key = dotted handler path)")
    for route_key, target in values["routes"].items():
        if not isinstance(target, str):
            raise ValueError(f"{path}: route {route_key!r} must be a dotted path string")
    if "identity_sources" in values:
        values["identity_sources"] = tuple(values["identity_sources"])
    if "environment" in values:
        values["environment"] = {key: str(value) for key, value in values["environment"].items()}
    return GatewayConfig(**values)
