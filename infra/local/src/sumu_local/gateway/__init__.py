"""A local API Gateway WebSocket API: the same events into handlers, the same answers to
clients and to the management API, on one aiohttp port."""

from sumu_local.gateway.config import GatewayConfig, load_gateway_config
from sumu_local.gateway.invocation import LambdaContext
from sumu_local.gateway.server import Gateway

__all__ = ["Gateway", "GatewayConfig", "LambdaContext", "load_gateway_config"]
