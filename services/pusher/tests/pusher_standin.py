"""A stand-in for the API Gateway management API, on a real socket on 127.0.0.1.

It records every ``POST /{stage}/@connections/{id}`` body and answers like API Gateway: 200, or
for chosen connection ids 410 GoneException, 413 PayloadTooLargeException, 429
LimitExceededException, 500 InternalServerErrorException, 403 ForbiddenException, a hang, a
slow 200, or N failures then 200. It also counts the posts in flight at once.
Error bodies carry ``x-amzn-ErrorType`` as the real service does, so botocore parses the code.

Run as a script (``python pusher_standin.py --port N``) it serves in its own process, every post
answered 200: the benchmark uses it that way so the stand-in does not share the pusher's GIL.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

ERRORS = {
    "gone": (410, "GoneException"),
    "too_large": (413, "PayloadTooLargeException"),
    "throttle": (429, "LimitExceededException"),
    "error": (500, "InternalServerErrorException"),
    "forbidden": (403, "ForbiddenException"),
}
HANG_SECONDS = 30.0
SLOW_SECONDS = 0.05


@dataclass(frozen=True)
class Flaky:
    """Answer ``failures`` times with ``behaviour`` (an ERRORS key), then 200."""

    failures: int
    behaviour: str = "error"


class ManagementApiStandIn:
    def __init__(self, stage: str = "mvp") -> None:
        self.stage = stage
        self._lock = threading.Lock()
        self._released = threading.Event()
        self.posts: dict[str, list[bytes]] = defaultdict(list)
        self.attempts: Counter[str] = Counter()
        self.behaviours: dict[str, str | Flaky] = {}
        self.default_behaviour = "ok"
        self.in_flight = 0
        self.max_in_flight = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/{self.stage}"

    def start(self, port: int = 0) -> ManagementApiStandIn:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.posts.clear()
            self.attempts.clear()
            self.behaviours.clear()
            self.default_behaviour = "ok"
            self.max_in_flight = 0
        # Let any hung request of the previous test finish, then arm the next hang.
        self._released.set()
        self._released = threading.Event()

    def behave(self, connection_id: str, behaviour: str | Flaky) -> None:
        with self._lock:
            self.behaviours[connection_id] = behaviour

    def received(self, connection_id: str) -> list[object]:
        with self._lock:
            return [json.loads(body) for body in self.posts.get(connection_id, [])]

    def total_posts(self) -> int:
        with self._lock:
            return sum(len(bodies) for bodies in self.posts.values())

    def answer(self, connection_id: str, body: bytes) -> str:
        """Decide the answer to one post (and record it when it lands)."""
        with self._lock:
            self.attempts[connection_id] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            behaviour = self.behaviours.get(connection_id, self.default_behaviour)
            if isinstance(behaviour, Flaky):
                if behaviour.failures > 0:
                    self.behaviours[connection_id] = Flaky(
                        behaviour.failures - 1, behaviour.behaviour
                    )
                    return behaviour.behaviour
                behaviour = "ok"
            if behaviour in {"ok", "slow"}:
                self.posts[connection_id].append(body)
            return behaviour

    def done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def hang(self) -> None:
        self._released.wait(HANG_SECONDS)


def _handler_for(stand_in: ManagementApiStandIn) -> type[BaseHTTPRequestHandler]:
    prefix = f"/{stand_in.stage}/@connections/"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real endpoint

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not self.path.startswith(prefix):
                self._reply(404, "NotFoundException")
                return
            behaviour = stand_in.answer(unquote(self.path[len(prefix) :]), body)
            try:
                if behaviour == "hang":
                    stand_in.hang()
                elif behaviour == "slow":
                    time.sleep(SLOW_SECONDS)
                if behaviour in ERRORS:
                    self._reply(*ERRORS[behaviour])
                else:
                    self._reply(200, None)
            finally:
                stand_in.done()

        def _reply(self, status: int, error_type: str | None) -> None:
            payload = b"" if error_type is None else json.dumps({"message": error_type}).encode()
            try:
                self.send_response(status)
                if error_type is not None:
                    self.send_header("x-amzn-ErrorType", error_type)
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (timeout) and closed the socket
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stage", default="mvp")
    arguments = parser.parse_args()
    stand_in = ManagementApiStandIn(arguments.stage).start(arguments.port)
    print("ready", stand_in.endpoint, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
