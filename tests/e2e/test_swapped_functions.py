"""A team swaps services for its own implementations, each in an environment of its own, as on
Lambda: a pusher in a virtual environment holding an aiobotocore the workspace's lock forbids,
and an authorizer run by AWS's own runtime interface client (``python -m awslambdaric``).
Lambda's timeouts hold too: the authorizer's (500 on connect) and the pusher's (the message goes
back to the queue and, after max_receive_count, to the DLQ).

The virtual environment is built with uv from PyPI once per session; without uv or the network
the test is skipped, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiobotocore
import pytest
from websockets.exceptions import InvalidStatus

from tests.conftest import LiveStack, running_stack, unique

# aiobotocore 2.4 pins botocore 1.27.59: the workspace (aiobotocore 3.x, botocore 1.4x) cannot
# import it next to its own.
OLD_AIOBOTOCORE = "2.4.2"
INSTALL_SECONDS = 240

TEAM_PUSHER = '''
"""A pusher built on an old aiobotocore: the selected users' connections get the data."""
import asyncio
import json
import os

import aiobotocore
from aiobotocore.session import get_session

SESSION = get_session()  # once per environment, as Lambda code does


async def push(request):
    endpoint = os.environ["AWS_ENDPOINT_URL"]  # botocore 1.27 does not read it by itself
    region = os.environ["AWS_REGION"]
    async with SESSION.create_client("dynamodb", endpoint_url=endpoint, region_name=region) as db, \\
            SESSION.create_client("apigatewaymanagementapi", region_name=region,
                                  endpoint_url=os.environ["APIGW_ENDPOINT"]) as api:
        for user in request["users"]:
            found = await db.query(
                TableName=os.environ["CONNECTIONS_TABLE_NAME"],
                KeyConditionExpression="user_id = :u",
                ExpressionAttributeValues={":u": {"S": user}},
            )
            for item in found["Items"]:
                data = {"data": request["data"], "aiobotocore": aiobotocore.__version__}
                await api.post_to_connection(
                    ConnectionId=item["connection_id"]["S"], Data=json.dumps(data).encode()
                )


def handler(event, context):
    for record in event["Records"]:
        request = json.loads(record["body"])
        if request["data"] == "sleep":
            import time
            time.sleep(10)
        asyncio.run(push(request))
    print("team pusher delivered", len(event["Records"]))
    return {"batchItemFailures": []}
'''

TEAM_AUTHORIZER = '''
"""Allows any token as its own principal, but "deny" (401) and "slow" (past the timeout)."""
import os
import time


def handler(event, context):
    token = event["queryStringParameters"]["authorization"]
    if token == "deny":
        raise Exception("Unauthorized")
    if token == "slow":
        time.sleep(10)
    return {
        "principalId": token,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
            ],
        },
        "context": {"runtime": os.environ.get("AWS_EXECUTION_ENV", "")},
    }
'''

SWAPPED_TOML = """
[timeouts]
visibility_timeout_seconds = 2
max_receive_count = 2
ttl_sweep_seconds = 1

[functions.authorizer]
command = ["{python}", "-m", "awslambdaric", "team_authorizer.handler"]
code = "{code}"
timeout_seconds = 2

[functions.pusher]
python = "{python}"
handler = "team_pusher.handler"
code = "{code}"
timeout_seconds = 3
concurrency = 2
"""


@pytest.fixture(scope="session")
def team_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with an old aiobotocore and awslambdaric, from PyPI."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: cannot build the team's virtual environment")
    venv = tmp_path_factory.mktemp("team-venv") / "venv"
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    steps = [
        [uv, "venv", "--quiet", "--python", python_version, str(venv)],
        [
            uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
            f"aiobotocore=={OLD_AIOBOTOCORE}", "awslambdaric",
        ],
    ]  # fmt: skip
    for step in steps:
        try:
            done = subprocess.run(
                step, capture_output=True, text=True, timeout=INSTALL_SECONDS, check=False
            )
        except subprocess.TimeoutExpired:
            pytest.skip(f"{' '.join(step[:3])} took over {INSTALL_SECONDS} s (no network?)")
        if done.returncode != 0:
            pytest.skip(
                f"cannot build the team's venv ({' '.join(step[:3])}): {done.stderr[-500:]}"
            )
    return venv


@pytest.fixture(scope="module")
def swapped(team_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    code = tmp_path_factory.mktemp("team-code")
    (code / "team_pusher.py").write_text(textwrap.dedent(TEAM_PUSHER), "utf-8")
    (code / "team_authorizer.py").write_text(textwrap.dedent(TEAM_AUTHORIZER), "utf-8")
    toml = SWAPPED_TOML.format(python=team_venv / "bin" / "python", code=code)
    with running_stack(tmp_path_factory.mktemp("sumu-up-swapped"), toml) as stack:
        yield stack


def notify(live: LiveStack, request: dict[str, Any]) -> None:
    live.client("sqs").send_message(
        QueueUrl=live.manifest.notifications_queue_url, MessageBody=json.dumps(request)
    )


def test_a_pusher_with_a_dependency_the_workspace_cannot_hold_delivers(
    swapped: LiveStack,
) -> None:
    # GIVEN a user connected through the awslambdaric authorizer (its token is its principal)
    user = unique("team")
    socket = swapped.connect(user, token=user)
    swapped.connection_id(socket)
    # WHEN a backend notifies the user
    notify(swapped, {"users": [user], "data": {"hello": "from the team"}})
    # THEN the team's pusher, on its own aiobotocore, delivered it
    frame = json.loads(socket.recv(timeout=30))
    assert frame == {"data": {"hello": "from the team"}, "aiobotocore": OLD_AIOBOTOCORE}
    assert aiobotocore.__version__ != OLD_AIOBOTOCORE  # what the workspace holds
    # AND its output is in sumu up's, tagged with the function's name
    assert wait_for_output(swapped, "[pusher] team pusher delivered 1")


def test_the_awslambdaric_authorizer_refuses_with_401_and_times_out_with_500(
    swapped: LiveStack,
) -> None:
    # WHEN the authorizer raises Unauthorized THEN the upgrade is refused with 401
    with pytest.raises(InvalidStatus) as denied:
        swapped.connect(unique("denied"), token="deny")
    assert denied.value.response.status_code == 401
    # WHEN it runs past its 2 s timeout THEN API Gateway's 500, at about the timeout
    started = time.monotonic()
    with pytest.raises(InvalidStatus) as slow:
        swapped.connect(unique("slow"), token="slow")
    assert slow.value.response.status_code == 500
    assert time.monotonic() - started < 15
    # AND the next connection gets a fresh, working environment
    socket = swapped.connect(unique("after"), token="after-the-timeout")
    assert swapped.connection_id(socket)


def test_a_pusher_timeout_returns_the_batch_to_the_queue_then_the_dlq(
    swapped: LiveStack,
) -> None:
    # GIVEN a request the team's pusher works on past its 3 s timeout
    marker = unique("slow-request")
    notify(swapped, {"users": [marker], "data": "sleep"})
    # THEN after max_receive_count (2) timed-out receives the message is in the DLQ
    sqs = swapped.client("sqs")
    deadline = time.monotonic() + 60
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not found:
        messages = sqs.receive_message(
            QueueUrl=swapped.manifest.notifications_dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
        ).get("Messages", [])
        found = [message for message in messages if marker in message["Body"]]
    assert found, "the timed-out request never reached the DLQ"
    stack_log = (swapped.workdir / "sumu-up.log").read_text("utf-8")
    assert "pusher: Task timed out after 3.00 seconds" in stack_log


def wait_for_output(live: LiveStack, text: str, seconds: float = 10) -> bool:
    """True once ``text`` is in sumu up's stdout (copied to a file by the launcher)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in (live.workdir / "sumu-up.stdout.log").read_text("utf-8"):
            return True
        time.sleep(0.1)
    return False
