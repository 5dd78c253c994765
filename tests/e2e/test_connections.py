"""The WebSocket side: authorisation, ping/pong, send and publish with their acks."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.conftest import LiveStack, unique


def test_a_connection_without_a_valid_token_is_refused(live: LiveStack) -> None:
    url = live.manifest.websocket_url
    for query in ("", "?authorization=not-a-jwt"):
        with pytest.raises(InvalidStatus) as refused:
            connect(url + query, open_timeout=20, proxy=None, legacy=True)
        assert refused.value.response.status_code in {401, 403}
    # a well-formed token for another audience is refused too
    token = live.token(unique("mallory"), audience="someone-else")
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{url}?authorization={token}", open_timeout=20, proxy=None, legacy=True)
    assert refused.value.response.status_code in {401, 403}


@pytest.mark.parametrize("header", ["Authorization", "authorization"])
def test_a_token_in_the_authorization_header_is_accepted_too(live: LiveStack, header: str) -> None:
    # GIVEN a client that cannot put its token in the URL (a server-side client, say)
    token = live.token(unique("hank"))
    # WHEN it sends the token as a Bearer header THEN the upgrade succeeds and the route works
    with connect(
        live.manifest.websocket_url,
        additional_headers={header: f"Bearer {token}"},
        open_timeout=20,
        proxy=None,
    ) as socket:
        socket.send(json.dumps({"action": "ping"}))
        assert json.loads(socket.recv(timeout=10))["type"] == "pong"


def test_ping_gets_a_pong_with_the_connection_id(live: LiveStack) -> None:
    socket = live.connect(unique("frank"))
    socket.send(json.dumps({"action": "ping"}))
    pong = json.loads(socket.recv(timeout=10))
    assert pong["type"] == "pong"
    assert pong["statusCode"] == 200
    info = live.management().get_connection(ConnectionId=pong["connectionId"])
    assert info["Identity"]["SourceIp"] == "127.0.0.1"


@pytest.mark.parametrize(("action", "origin"), [("send", "queue"), ("publish", "topic")])
def test_a_message_reaches_backends_with_its_attributes_and_is_acked(
    live: LiveStack, action: str, origin: str
) -> None:
    # GIVEN a connected user
    user = unique("gina")
    socket = live.connect(user)
    message = {"text": f"hello via {action}", "nonce": unique("m")}
    # WHEN the client sends the seed's frame
    socket.send(json.dumps({"action": action, "message": message}))
    # THEN it gets its ack
    ack = json.loads(socket.recv(timeout=15))
    assert ack["type"] == "ack"
    assert ack["action"] == action
    assert ack["messageId"]
    # AND a backend reads the message from the queue (send) or the topic (publish)
    [delivered] = live.inbox.wait_for(lambda m: m["origin"] == origin and m["body"] == message)
    assert delivered["user_id"] == user
    assert delivered["source"] == f"apigw.route.{action}"
    assert int(delivered["timestamp"]) > 1_700_000_000_000
