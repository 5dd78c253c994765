"""The JavaScript client (clients/js, served at /sumu-client.js) in chromium, through the demo
page: a channel's messages arrive once each and in seq order although the server kills the
connection mid-stream while a backend keeps publishing (issue 18: history and recovery)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import LiveStack, unique

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 30
PUBLISH_EVERY_SECONDS = 0.15
SHOWN_SEQS = """(channel) => [...document.querySelectorAll('#notifications li')]
  .filter((li) => li.dataset.channel === channel && li.dataset.seq)
  .reverse()  // the list is newest first
  .map((li) => ({seq: Number(li.dataset.seq), text: li.textContent}))"""


def test_the_stack_serves_the_client_module_unchanged(live: LiveStack) -> None:
    url = live.manifest.demo_url.rstrip("/") + "/sumu-client.js"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - 127.0.0.1
        assert response.headers["Content-Type"].startswith("application/javascript")
        body = response.read()
    assert body == (ROOT / "clients" / "js" / "sumu-client.js").read_bytes()


def _slow_token(route: Any) -> None:
    time.sleep(2)  # blocks only Playwright's dispatch of this page's events, not the stack
    route.continue_()


def _publish(live: LiveStack, channel: str, stop: threading.Event) -> None:
    sqs = live.client("sqs")
    for n in range(MESSAGES):
        if stop.is_set():
            return
        sqs.send_message(
            QueueUrl=live.manifest.notifications_queue_url,
            MessageBody=json.dumps({"channels": [channel], "data": {"n": n}}),
        )
        time.sleep(PUBLISH_EVERY_SECONDS)


def test_a_killed_connection_reconnects_with_a_fresh_token_and_resubscribes(
    live: LiveStack, page: Any
) -> None:
    # GIVEN the demo page connected and subscribed to a channel
    user, channel = unique("jsclient"), f"room-{unique('reconnect')}"
    tokens: list[str] = []
    page.on("request", lambda r: tokens.append(r.url) if "/demo/token" in r.url else None)
    page.goto(live.manifest.demo_url)
    page.fill("#user-id", user)
    page.fill("#token-channels", "room-*")
    page.click("#connect")
    page.wait_for_function("document.getElementById('connection-id').textContent !== '-'")
    first_connection = page.text_content("#connection-id")
    page.fill("#channel", channel)
    page.click("#subscribe")
    page.wait_for_selector(f"#channels li[data-channel='{channel}']")
    tokens_before = len(tokens)
    # WHEN the server kills the connection (the management API's DELETE)
    live.management().delete_connection(ConnectionId=first_connection)
    # THEN the client reconnects on a new connection, with a fresh token
    page.wait_for_function(
        "(first) => !['-', first].includes(document.getElementById('connection-id').textContent)",
        arg=first_connection,
        timeout=30_000,
    )
    assert len(tokens) > tokens_before
    # AND it subscribed the channel again (a second subscribe ack): a backend's message reaches
    # the page
    page.wait_for_function(
        "(channel) => [...document.querySelectorAll('#acks li')].filter((li) =>"
        ' li.textContent.includes(\'"action":"subscribe"\') &&'
        " li.textContent.includes(channel)).length >= 2",
        arg=channel,
    )
    live.client("sqs").send_message(
        QueueUrl=live.manifest.notifications_queue_url,
        MessageBody=json.dumps({"channels": [channel], "data": {"after": "reconnect"}}),
    )
    page.wait_for_selector(f"#notifications li[data-channel='{channel}']:has-text('reconnect')")


def test_a_killed_connection_recovers_every_message_once_in_seq_order(
    live: LiveStack, page: Any
) -> None:
    # GIVEN the demo page connected (its token allows room-*) and subscribed to a new channel
    user, channel = unique("jsclient"), f"room-{unique('recovery')}"
    sent: list[dict[str, Any]] = []  # every frame the page sends, on any of its connections
    received: list[dict[str, Any]] = []
    page.on(
        "websocket",
        lambda socket: (
            socket.on("framesent", lambda frame: sent.append(json.loads(frame))),
            socket.on("framereceived", lambda frame: received.append(json.loads(frame))),
        ),
    )
    page.goto(live.manifest.demo_url)
    page.fill("#user-id", user)
    page.fill("#token-channels", "room-*")
    page.click("#connect")
    page.wait_for_function("document.getElementById('connection-id').textContent !== '-'")
    first_connection = page.text_content("#connection-id")
    page.fill("#channel", channel)
    page.click("#subscribe")
    page.wait_for_selector(f"#channels li[data-channel='{channel}']")
    # WHEN a backend publishes a stream of messages to the channel
    stop = threading.Event()
    publisher = threading.Thread(target=_publish, args=(live, channel, stop), daemon=True)
    publisher.start()
    try:
        page.wait_for_function(f"({SHOWN_SEQS})({json.dumps(channel)}).length >= 5", timeout=30_000)
        # AND the server kills the connection mid-stream (the management API's DELETE), and
        # the page's reconnect waits 2 s for its fresh token, so messages are surely missed
        page.route("**/demo/token*", _slow_token)
        live.management().delete_connection(ConnectionId=first_connection)
        # THEN the client reconnects on a new connection ...
        page.wait_for_function(
            "(first) => !['-', first].includes(document.getElementById('connection-id')"
            ".textContent)",
            arg=first_connection,
            timeout=30_000,
        )
        publisher.join(timeout=MESSAGES * PUBLISH_EVERY_SECONDS + 30)
        assert not publisher.is_alive()
        # ... and the page shows every message exactly once, in seq order
        page.wait_for_function(
            f"({SHOWN_SEQS})({json.dumps(channel)}).length >= {MESSAGES}", timeout=60_000
        )
    finally:
        stop.set()
    page.wait_for_timeout(1500)  # a duplicate arriving late would show up here
    shown = page.evaluate(SHOWN_SEQS, channel)
    assert [item["seq"] for item in shown] == list(range(1, MESSAGES + 1))
    numbers = [json.loads(item["text"].split("] #", 1)[1].split(" ", 1)[1])["n"] for item in shown]
    assert sorted(numbers) == list(range(MESSAGES))
    assert not page.query_selector("#notifications li[data-recovered='false']")
    # AND it recovered them: it resubscribed with since = the last seq it had shown, and the
    # ack (recovered, head seq) came after the replay of the messages it had missed
    resubscribe = [f for f in sent if f.get("action") == "subscribe" and "since" in f]
    assert [frame["channel"] for frame in resubscribe] == [channel]
    since = resubscribe[0]["since"]
    [ack] = [f for f in received if f.get("action") == "subscribe" and "recovered" in f]
    assert ack["recovered"] is True
    assert ack["seq"] > since, (since, ack)
    assert page.query_selector("#acks li:has-text('\"recovered\":true')")
