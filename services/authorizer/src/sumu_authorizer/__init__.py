"""sumu-authorizer: the API Gateway WebSocket REQUEST authorizer (JWT signed by a JWKS)."""

__version__ = "0.4.0"
