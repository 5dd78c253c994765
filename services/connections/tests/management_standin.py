"""A stand-in for the API Gateway management API's PostToConnection, on 127.0.0.1: it records
every post, in arrival order, per connection (recovery replays history through it, issue 18).
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/@connections/"


class PostRecorder:
    def __init__(self, stage: str = "mvp") -> None:
        self.stage = stage
        self.posts: dict[str, list[Any]] = defaultdict(list)
        self.gone: set[str] = set()
        self.failing = False
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                connection_id = self.path.removeprefix(f"/{recorder.stage}{PREFIX}")
                status = recorder.answer(connection_id, body)
                self.send_response(status)
                payload = b"" if status == 200 else b'{"message": "no"}'
                if status == 410:
                    self.send_header("x-amzn-ErrorType", "GoneException")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/{self.stage}"

    def answer(self, connection_id: str, body: bytes) -> int:
        with self._lock:
            if self.failing:
                return 500
            if connection_id in self.gone:
                return 410
            self.posts[connection_id].append(json.loads(body))
            return 200

    def received(self, connection_id: str) -> list[Any]:
        with self._lock:
            return list(self.posts.get(connection_id, ()))

    def reset(self) -> None:
        with self._lock:
            self.posts.clear()
            self.gone.clear()
            self.failing = False

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
