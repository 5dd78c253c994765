"""Structured JSON log lines, and the invocation figures as CloudWatch Embedded Metric Format.

Lines go straight to stdout: Lambda ships each line to CloudWatch Logs, which extracts the
metrics of any line carrying the ``_aws`` object. (The runtime's logging handler would prefix
the line with a timestamp and request id, and EMF needs the line to be the JSON object alone.)
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

SERVICE = "sumu-pusher"
NAMESPACE = "SUMU"


@dataclass
class InvocationFigures:
    records: int = 0
    invalid: int = 0
    empty_audience: int = 0  # requests with "users": [], which reach nobody
    dead_lettered: int = 0
    incomplete: int = 0
    connections_targeted: int = 0
    delivered: int = 0
    gone: int = 0
    pruned: int = 0
    prune_skipped: int = 0  # 410s of records younger than the grace period, left in the table
    retried: int = 0
    failed: int = 0
    rejected: int = 0
    configuration_errors: int = 0  # 1 when the management API answered 403: alarm on it
    unfinished: int = 0
    dynamodb_calls: int = 0
    duplicates: int = 0  # requests whose id another input message already claimed (issue 18)
    duration_ms: float = 0.0


def _metric_unit(name: str) -> str:
    return "Milliseconds" if name.endswith("_ms") else "Count"


def invocation_line(figures: InvocationFigures, timestamp_ms: int | None = None) -> dict[str, Any]:
    values = asdict(figures)
    return {
        "_aws": {
            "Timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["service"]],
                    "Metrics": [{"Name": name, "Unit": _metric_unit(name)} for name in values],
                }
            ],
        },
        "level": "INFO",
        "message": "notification batch processed",
        "service": SERVICE,
        **values,
    }


def write_line(fields: dict[str, Any]) -> None:
    # ASCII escapes: a body may hold lone surrogates, which no stdout encoding accepts.
    sys.stdout.write(json.dumps(fields, default=str) + "\n")
    sys.stdout.flush()


def log_invocation(figures: InvocationFigures) -> None:
    write_line(invocation_line(figures))


def log_event(level: str, message: str, **fields: Any) -> None:
    write_line({"level": level, "message": message, "service": SERVICE, **fields})
