"""The seed's browser client, for real: Sockette in headless chromium against `sumu up`."""

from __future__ import annotations

import functools
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import LiveStack, unique

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def client_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seed client page and the vendored Sockette, served over HTTP on 127.0.0.1."""
    root = tmp_path_factory.mktemp("seed-client")
    shutil.copy(HERE / "seed_client.html", root / "index.html")
    shutil.copy(HERE / "vendor" / "sockette.min.js", root / "sockette.min.js")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()


def test_sockette_receives_a_notification_and_sends_to_a_backend(
    live: LiveStack, page: Any, client_site: str
) -> None:
    # GIVEN the seed client connected as a user in chromium
    user = unique("web")
    query = urlencode({"ws": live.manifest.websocket_url, "token": live.token(user)})
    page.goto(f"{client_site}?{query}")
    page.wait_for_function("window.opened === true")
    # WHEN a backend sends a notification with boto3 (onopen fired after $connect stored it)
    notification = {"type": "notification", "message": f"hello {user}"}
    live.client("sqs").send_message(
        QueueUrl=live.manifest.notifications_queue_url,
        MessageBody=json.dumps({"users": [user], "data": notification}),
    )
    # THEN the page's onmessage got it
    page.wait_for_function("window.received.length > 0")
    received = page.evaluate("window.received")
    assert notification in received
    # WHEN the page sends the seed's frame
    message = {"text": "from the browser", "nonce": unique("n")}
    page.evaluate("message => window.sendToBackend(message)", message)
    # THEN a backend reads it from the messages queue, from that user
    [delivered] = live.inbox.wait_for(lambda m: m["origin"] == "queue" and m["body"] == message)
    assert delivered["user_id"] == user
    assert delivered["source"] == "apigw.route.send"
    # AND the client got its ack
    page.wait_for_function("window.received.some(f => f.type === 'ack' && f.action === 'send')")
