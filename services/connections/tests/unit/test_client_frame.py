"""The frame reader agrees with the client-frame contract, and says precisely what is wrong."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from sumu_connections.client_frame import (
    ChannelRequest,
    Forward,
    Ping,
    frame_limit_bytes,
    read_client_frame,
)
from sumu_connections.refusal import Refusal
from sumu_contracts import ContractError, load_schema, validate


def test_the_limit_is_the_contracts():
    assert frame_limit_bytes() == load_schema("client-frame")["x-sumu-max-bytes"] == 131_072


@given(from_schema(load_schema("client-frame")))
def test_every_frame_the_contract_accepts_is_served(frame):
    # GIVEN any frame the contract accepts, as a client would send it
    # WHEN it is read
    read = read_client_frame(json.dumps(frame))

    # THEN it is a ping, a channel request or a message to forward, unchanged
    if frame["action"] == "ping":
        assert read == Ping()
    elif frame["action"] in ("subscribe", "unsubscribe"):
        # since is kept for subscribe (recovery, issue 18) and dropped for unsubscribe.
        since = frame.get("since") if frame["action"] == "subscribe" else None
        assert read == ChannelRequest(action=frame["action"], channel=frame["channel"], since=since)
    else:
        assert read == Forward(action=frame["action"], message=frame["message"])


def _contract_accepts(text: str) -> bool:
    size = len(text.encode("utf-8", "surrogatepass"))
    try:
        validate("client-frame", json.loads(text), serialised_size=size)
    except (ValueError, RecursionError, ContractError):
        return False
    return True


@given(
    st.text(max_size=100)
    | st.dictionaries(
        st.sampled_from(["action", "message", "x"]),
        st.sampled_from(["ping", "send", "publish", "other"]) | st.integers() | st.none(),
    ).map(json.dumps)
)
def test_whatever_the_contract_refuses_is_refused(text):
    # WHEN any text is read
    read = read_client_frame(text)

    # THEN it is refused exactly when the contract refuses it
    assert isinstance(read, Refusal) != _contract_accepts(text)


@pytest.mark.parametrize(
    ("frame", "code", "pointer", "action"),
    [
        ("", "invalid_json", None, None),
        ("   ", "invalid_json", None, None),
        ("{", "invalid_json", None, None),
        ('{"action": "send", "message": Infinity}', "invalid_json", None, None),
        ("[]", "invalid_frame", "", None),
        ('"ping"', "invalid_frame", "", None),
        ("{}", "unknown_action", None, None),
        ('{"action": null}', "unknown_action", None, None),
        ('{"action": "PING"}', "unknown_action", None, "PING"),
        ('{"action": "send"}', "missing_message", None, "send"),
        ('{"action": "ping", "message": 1}', "invalid_frame", "/message", "ping"),
        ('{"action": "publish", "message": 1, "a~b": 2}', "invalid_frame", "/a~0b", "publish"),
        ('{"action": "send", "message": 1e400}', "invalid_frame", None, None),
        ("[" * 100_000, "invalid_frame", None, None),
    ],
)
def test_each_bad_frame_has_its_code(frame, code, pointer, action):
    read = read_client_frame(frame)
    assert isinstance(read, Refusal)
    assert (read.code, read.pointer, read.action) == (code, pointer, action)
    assert read.status_code == 400
    assert not read.retryable


def test_an_unknown_action_is_echoed_only_in_part():
    read = read_client_frame(json.dumps({"action": "x" * 10_000}))
    assert isinstance(read, Refusal)
    assert read.action == "x" * 64


def test_a_binary_frame_is_refused_as_not_json():
    read = read_client_frame(None, frame_is_text=False)
    assert isinstance(read, Refusal)
    assert read.code == "invalid_json"


def test_size_counts_utf8_bytes_not_characters():
    # GIVEN a frame under the limit in characters but over it in UTF-8 bytes
    frame = json.dumps({"action": "send", "message": "é" * 70_000}, ensure_ascii=False)
    assert len(frame) < 131_072 < len(frame.encode())

    # WHEN it is read
    read = read_client_frame(frame)

    # THEN it is too large, with 413
    assert isinstance(read, Refusal)
    assert (read.code, read.status_code) == ("message_too_large", 413)
