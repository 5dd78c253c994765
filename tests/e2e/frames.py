"""Reading frames from several sockets at once, for the end-to-end tests."""

from __future__ import annotations

import json
import time
from typing import Any

from websockets.sync.client import ClientConnection

GRACE_SECONDS = 0.7  # after the expected frames, how long an unexpected one has to show up


def collect(
    sockets: dict[str, ClientConnection],
    expected: dict[str, list[Any]],
    *,
    timeout: float = 20.0,
) -> dict[str, list[Any]]:
    """Every frame each socket receives until each has its expected count, then a short grace
    period so a frame that should not arrive has its chance to."""
    received: dict[str, list[Any]] = {name: [] for name in sockets}
    deadline = time.monotonic() + timeout
    grace_until: float | None = None
    while True:
        now = time.monotonic()
        done = all(len(received[name]) >= len(expected.get(name, [])) for name in sockets)
        if done and grace_until is None:
            grace_until = now + GRACE_SECONDS
        if now > deadline or (grace_until is not None and now > grace_until):
            return received
        for name, socket in sockets.items():
            try:
                received[name].append(json.loads(socket.recv(timeout=0.02)))
            except TimeoutError:
                continue


def sorted_frames(frames: list[Any]) -> list[str]:
    return sorted(json.dumps(frame, sort_keys=True) for frame in frames)
