"""A stand-in for API Gateway's management API that records every call and answers as told.

Live connections (registered by the kit) answer 200 to ``POST /{stage}/@connections/{id}``;
unknown ones 410 ``GoneException``, as API Gateway does. A connection can be scripted with a
sequence of answers (410, 413, 429, 500, 403 or ``hang``) before it settles on its final one.
Errors carry ``x-amzn-ErrorType`` (botocore reads the error code from it) and a JSON message.
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sumu_local.conformance.http_servers import LoopbackServer, QuietHandler

Answer = int | Literal["hang"]
HANG_SECONDS = 8.0  # longer than any sane post timeout, bounded so a stopped kit never waits long

_ERRORS = {
    403: "ForbiddenException",
    410: "GoneException",
    413: "PayloadTooLargeException",
    429: "LimitExceededException",
    500: "InternalServerErrorException",
    503: "ServiceUnavailableException",
}


@dataclass(frozen=True)
class Post:
    connection_id: str
    data: bytes
    answer: Answer
    at: float


class ManagementApi:
    def __init__(self, stage: str = "conformance") -> None:
        self.stage = stage
        self._lock = threading.Lock()
        self._live: set[str] = set()
        self._scripts: dict[str, list[Answer]] = {}
        self._final: dict[str, Answer] = {}
        self.posts: list[Post] = []
        self._server = LoopbackServer(_Handler, self)
        self._stopping = threading.Event()

    @property
    def endpoint(self) -> str:
        """APIGW_ENDPOINT: the management API base URL including the stage."""
        return f"{self._server.url}/{self.stage}"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._stopping.set()
        self._server.stop()

    def live(self, *connection_ids: str) -> None:
        with self._lock:
            self._live.update(connection_ids)

    def script(self, connection_id: str, answers: Sequence[Answer], then: Answer = 200) -> None:
        """Answer ``answers`` in order, then ``then`` for every later post."""
        with self._lock:
            self._live.add(connection_id)
            self._scripts[connection_id] = list(answers)
            self._final[connection_id] = then

    def reset(self) -> None:
        with self._lock:
            self._live.clear()
            self._scripts.clear()
            self._final.clear()
            self.posts.clear()

    def posts_to(self, connection_id: str) -> list[Post]:
        with self._lock:
            return [post for post in self.posts if post.connection_id == connection_id]

    def delivered(self) -> dict[str, list[bytes]]:
        """Connection id -> the bodies it accepted (answered 200), in order."""
        with self._lock:
            result: dict[str, list[bytes]] = {}
            for post in self.posts:
                if post.answer == 200:
                    result.setdefault(post.connection_id, []).append(post.data)
            return result

    def _next_answer(self, connection_id: str, data: bytes) -> Answer:
        with self._lock:
            script = self._scripts.get(connection_id)
            if script:
                answer: Answer = script.pop(0)
            elif connection_id in self._final:
                answer = self._final[connection_id]
            else:
                answer = 200 if connection_id in self._live else 410
            if answer == 200 and len(data) > 128 * 1024:
                answer = 413  # API Gateway's message quota
            self.posts.append(Post(connection_id, data, answer, time.monotonic()))
            return answer


class _Handler(QuietHandler):
    def _connection_id(self) -> str | None:
        owner: ManagementApi = self.server.owner  # type: ignore[attr-defined]
        path = urllib.parse.urlsplit(self.path).path
        prefix = f"/{owner.stage}/@connections/"
        if not path.startswith(prefix):
            return None
        return urllib.parse.unquote(path[len(prefix) :])

    def do_POST(self) -> None:
        owner: ManagementApi = self.server.owner  # type: ignore[attr-defined]
        data = self.read_body()
        connection_id = self._connection_id()
        if connection_id is None:
            self.answer(404, b'{"message": "Not Found"}')
            return
        answer = owner._next_answer(connection_id, data)
        if answer == "hang":
            owner._stopping.wait(HANG_SECONDS)
            self.close_connection = True
            return
        if answer == 200:
            self.answer(200, headers={"x-amzn-RequestId": "conformance"})
            return
        message = None if answer == 410 else f"conformance stand-in answered {answer}"
        self.answer(
            answer,
            json.dumps({"message": message}).encode(),
            {
                "Content-Type": "application/json",
                "x-amzn-ErrorType": _ERRORS.get(answer, "BadRequestException"),
                "x-amzn-RequestId": "conformance",
            },
        )

    def do_DELETE(self) -> None:
        self.read_body()
        self.answer(204)

    def do_GET(self) -> None:
        self.answer(200, b'{"connectedAt": "2026-01-01T00:00:00.000Z"}')
