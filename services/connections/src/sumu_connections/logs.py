"""Structured log lines: one JSON object per line, so CloudWatch Logs Insights and metric
filters can query fields (``event``, ``code``, ``connection_id``) instead of parsing prose."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from sumu_connections.events import WebSocketRequest

logger = logging.getLogger("sumu_connections")
# Lambda's runtime leaves the root logger at WARNING unless its log level is configured; the
# refusals logged at INFO are wanted by default. AWS_LAMBDA_LOG_LEVEL still wins when set:
# https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html
# Lambda also knows TRACE and FATAL, which the logging module does not: map them, and fall back
# to INFO on anything else, so a log-level setting can never break a cold start.
_LAMBDA_LEVELS = {"TRACE": logging.DEBUG, "FATAL": logging.CRITICAL}
_level_name = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").upper()
_level = _LAMBDA_LEVELS.get(_level_name, logging.getLevelName(_level_name))
logger.setLevel(_level if isinstance(_level, int) else logging.INFO)


def log_event(level: int, event: str, **fields: Any) -> None:
    line = {"level": logging.getLevelName(level), "event": event, **fields}
    logger.log(level, json.dumps(line, default=str, separators=(",", ":")))


def log_request(level: int, event: str, request: WebSocketRequest, **fields: Any) -> None:
    """A log line about one request, with the identifiers that find it again."""
    log_event(
        level,
        event,
        route=request.route_key,
        user_id=request.principal_id,
        connection_id=request.connection_id,
        request_id=request.request_id,
        **fields,
    )
