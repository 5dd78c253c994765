"""One JSON line per connect, message, disconnect and management call, like an API Gateway
access log whose format lists the `$context` variables (requestId, routeKey, status...).
https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-logging.html
"""

from __future__ import annotations

import json
import logging
from typing import Any

access_logger = logging.getLogger("sumu_local.gateway.access")


def log_access(**fields: Any) -> None:
    if access_logger.isEnabledFor(logging.INFO):
        access_logger.info(
            json.dumps({key: value for key, value in fields.items() if value is not None})
        )
