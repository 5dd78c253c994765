from __future__ import annotations

import json
from typing import get_args

from hypothesis import given
from hypothesis import strategies as st
from sumu_connections import server_frames
from sumu_connections.refusal import Refusal
from sumu_contracts import validate
from sumu_contracts.models import ErrorCode

refusals = st.builds(
    Refusal,
    code=st.sampled_from(get_args(ErrorCode)),
    message=st.text(),
    status_code=st.integers(400, 599),
    retryable=st.booleans(),
    pointer=st.none() | st.text(),
    action=st.none() | st.text(),
)


@given(refusals, st.none() | st.text())
def test_every_error_frame_is_a_server_frame(refusal, request_id):
    frame = json.loads(server_frames.error(refusal, request_id))
    validate("server-frame", frame)
    assert (frame["type"], frame["code"], frame["statusCode"]) == (
        "error",
        refusal.code,
        refusal.status_code,
    )


@given(st.text(min_size=1))
def test_every_pong_is_a_server_frame(connection_id):
    frame = json.loads(server_frames.pong(connection_id))
    validate("server-frame", frame)
    assert frame == {"type": "pong", "statusCode": 200, "connectionId": connection_id}


@given(st.sampled_from(["send", "publish"]), st.text(min_size=1), st.none() | st.text())
def test_every_ack_is_a_server_frame(action, message_id, request_id):
    frame = json.loads(server_frames.ack(action, message_id, request_id))
    validate("server-frame", frame)
    assert frame["messageId"] == message_id


def test_the_error_codes_are_the_contracts():
    from typing import get_args  # noqa: PLC0415

    from sumu_connections.refusal import ErrorCode  # noqa: PLC0415
    from sumu_contracts import load_schema  # noqa: PLC0415

    enum = load_schema("server-frame")["definitions"]["error"]["properties"]["code"]["enum"]
    assert list(get_args(ErrorCode)) == enum
