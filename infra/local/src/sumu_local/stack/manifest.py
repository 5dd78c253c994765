"""``.sumu/stack.json``: where a running stack is, for the CLI, tests and backends.

The keys are fixed by DESIGN.md section 3; backends read ``aws_endpoint_url`` and the queue
and topic ids from it, clients read ``websocket_url``.
"""

from __future__ import annotations

import json
import os
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path

STACK_FILE = "stack.json"


class ManifestError(RuntimeError):
    """No readable stack.json: the stack is not running here, or the file is damaged."""


@dataclass(frozen=True)
class StackManifest:
    websocket_url: str
    management_url: str
    aws_endpoint_url: str
    region: str
    stage: str
    connections_table: str
    connections_stream_arn: str
    subscriptions_table: str
    notifications_topic_arn: str
    notifications_queue_url: str
    notifications_dlq_url: str
    messages_topic_arn: str
    messages_queue_url: str
    messages_dlq_url: str
    jwks_url: str
    issuer: str
    audience: str
    presence_source: str
    demo_url: str
    signing_key_file: str  # empty when the stack trusts an external identity provider
    pid: int
    # Issue 18 (sumu-local 0.4.0): the history and idempotency tables.
    history_table: str = ""
    idempotency_table: str = ""

    def write(self, state_dir: Path) -> Path:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / STACK_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n", "utf-8")
        temporary.replace(path)  # readers never see half a file
        return path

    @classmethod
    def read(cls, path: Path) -> StackManifest:
        try:
            document = json.loads(path.read_text("utf-8"))
        except FileNotFoundError as error:
            raise ManifestError(
                f"{path} not found: start the stack with `sumu up` here, or pass --stack FILE"
            ) from error
        except json.JSONDecodeError as error:
            raise ManifestError(f"{path} is not JSON: {error}") from error
        names = {item.name for item in fields(cls)}
        # Keys added later have defaults: a stack.json written before them still reads.
        required = {item.name for item in fields(cls) if item.default is MISSING}
        missing = required - set(document)
        if missing:
            raise ManifestError(f"{path} lacks {', '.join(sorted(missing))}")
        return cls(**{name: document[name] for name in names if name in document})


def process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def read_running(path: Path) -> StackManifest:
    """The manifest of a stack that is still running (not one left behind by a killed stack)."""
    manifest = StackManifest.read(path)
    if not process_is_alive(manifest.pid):
        raise ManifestError(
            f"{path} was written by a stack that is no longer running (pid {manifest.pid}): "
            "start it again with `sumu up`"
        )
    return manifest


def default_manifest_path() -> Path:
    return Path(".sumu") / STACK_FILE
