"""sumu-connections: every route a WebSocket client can hit, as one Lambda.

Entry point: ``sumu_connections.handler.handler`` (API Gateway WebSocket, AWS_PROXY).
"""

__version__ = "0.4.0"
