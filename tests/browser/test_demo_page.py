"""The demo page in chromium: log in, see yourself online, get a notification, send a message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import LiveStack, unique


def test_the_demo_page_works_end_to_end(live: LiveStack, page: Any, tmp_path: Path) -> None:
    # GIVEN the demo page
    user = unique("demo")
    page.goto(live.manifest.demo_url)
    assert page.title() == "SUMU local demo"
    # WHEN the user logs in
    page.fill("#user-id", user)
    page.click("#connect")
    # THEN it shows the connection and the user online
    page.wait_for_function("document.getElementById('status').textContent === 'connected'")
    page.wait_for_function("document.getElementById('connection-id').textContent !== '-'")
    connection_id = page.text_content("#connection-id")
    assert live.management().get_connection(ConnectionId=connection_id)["ConnectedAt"]
    page.wait_for_selector(f"#online li[data-user='{user}']")
    # WHEN a backend notifies the user
    live.client("sqs").send_message(
        QueueUrl=live.manifest.notifications_queue_url,
        MessageBody=json.dumps({"users": [user], "data": {"message": "hello demo"}}),
    )
    # THEN the notification is listed
    page.wait_for_selector("#notifications li:has-text('hello demo')")
    # WHEN the user sends a message
    page.fill("#message", json.dumps({"text": "from the demo", "user": user}))
    page.click("#send")
    # THEN the page shows the ack and a backend reads the message
    page.wait_for_selector('#acks li:has-text(\'"type":"ack"\')')
    [delivered] = live.inbox.wait_for(
        lambda m: m["origin"] == "queue" and m["body"] == {"text": "from the demo", "user": user}
    )
    assert delivered["user_id"] == user
    # AND the screen is kept for a human to look at
    screenshot = tmp_path / "demo.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_demo_page_subscribes_to_a_channel_and_shows_its_messages(
    live: LiveStack, page: Any
) -> None:
    # GIVEN a user logged in on the demo page (its token allows room-*; a public channel needs
    # no claim at all)
    user, channel = unique("demo"), f"public:{unique('news')}"
    page.goto(live.manifest.demo_url)
    page.fill("#user-id", user)
    page.fill("#token-channels", "room-*")
    page.click("#connect")
    page.wait_for_function("document.getElementById('status').textContent === 'connected'")
    # WHEN the user subscribes to a channel
    page.fill("#channel", channel)
    page.click("#subscribe")
    # THEN the ack lists it among the subscribed channels
    page.wait_for_selector(f"#channels li[data-channel='{channel}']")
    # WHEN a backend notifies the channel
    live.client("sqs").send_message(
        QueueUrl=live.manifest.notifications_queue_url,
        MessageBody=json.dumps({"channels": [channel], "data": {"message": "hello channel"}}),
    )
    # THEN the message is shown with its channel
    page.wait_for_selector(f"#notifications li:has-text('[{channel}]'):has-text('hello channel')")
    # WHEN the user unsubscribes
    page.click("#unsubscribe")
    # THEN the channel leaves the list
    page.wait_for_selector(f"#channels li[data-channel='{channel}']", state="detached")
