"""One JSON object per line on stdout: what CloudWatch Logs Insights can filter without parsing."""

from __future__ import annotations

import json
import sys
from typing import Any, Literal

Level = Literal["INFO", "WARNING", "ERROR"]


def log(level: Level, message: str, **fields: Any) -> None:
    line = json.dumps(
        {"level": level, "logger": "sumu_presence", "message": message, **fields},
        default=str,
        separators=(",", ":"),
    )
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
