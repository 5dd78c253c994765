"""The whole stack in-process with the real services: the wiring, the issuer, the demo
backend's endpoints, the CLI against it, and a clean stop."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sumu_local.cli import main
from sumu_local.stack.config import StackConfig, Timeouts
from sumu_local.stack.manifest import StackManifest
from sumu_local.stack.runner import LocalStack, StackError
from sumu_testkit import free_port

DESIGN_KEYS = {
    "websocket_url", "management_url", "aws_endpoint_url", "region", "stage",
    "connections_table", "notifications_topic_arn", "notifications_queue_url",
    "notifications_dlq_url", "messages_topic_arn", "messages_queue_url", "messages_dlq_url",
    "jwks_url", "issuer", "audience", "presence_source",
}  # fmt: skip


class StackThread:
    """A LocalStack on its own event loop in a thread, as `sumu up` runs it."""

    def __init__(self, config: StackConfig) -> None:
        self.stack = LocalStack(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[StackThread, StackManifest]]:
    saved = dict(os.environ)
    state_dir = tmp_path_factory.mktemp("state") / ".sumu"
    config = StackConfig(
        port=free_port(),
        aws_port=free_port(),
        state_dir=state_dir,
        timeouts=Timeouts(sqs_wait_seconds=1),
    )
    runner = StackThread(config)
    try:
        manifest = runner.call(runner.stack.start())
        yield runner, manifest
    finally:
        runner.call(runner.stack.stop())
        runner.close()
        os.environ.clear()
        os.environ.update(saved)


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            body = response.read()
            kind = response.headers.get("Content-Type", "")
            return response.status, json.loads(body) if "json" in kind else body.decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def post(url: str, document: Any) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=json.dumps(document).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_stack_json_has_every_key_of_the_design(running: tuple[StackThread, StackManifest]) -> None:
    runner, manifest = running
    written = json.loads((runner.stack.config.state_dir / "stack.json").read_text())
    assert set(written) >= DESIGN_KEYS
    assert manifest.websocket_url.endswith("/mvp")
    assert manifest.jwks_url == f"{manifest.issuer}/.well-known/jwks.json"
    assert manifest.presence_source == "queue"


def test_tokens_of_the_local_issuer_verify_against_the_served_jwks(
    running: tuple[StackThread, StackManifest],
) -> None:
    _, manifest = running
    status, jwks = get(manifest.jwks_url)
    assert status == 200
    status, login = get(f"{manifest.demo_url}demo/token?sub=alice")
    assert status == 200
    assert login["websocket_url"] == manifest.websocket_url
    claims = jwt.decode(login["token"], KeySet.import_key_set(jwks)).claims
    assert (claims["sub"], claims["iss"], claims["aud"]) == ("alice", manifest.issuer, "sumu-local")
    assert get(f"{manifest.demo_url}demo/token")[0] == 400


def test_the_demo_page_and_its_assets_are_served(
    running: tuple[StackThread, StackManifest],
) -> None:
    _, manifest = running
    status, page = get(manifest.demo_url)
    assert status == 200
    assert "/demo/static/demo.js" in page
    assert get(f"{manifest.demo_url}demo/static/demo.js")[0] == 200


def test_demo_notify_validates_then_sends(running: tuple[StackThread, StackManifest]) -> None:
    _, manifest = running
    status, answer = post(f"{manifest.demo_url}demo/notify", {"users": "bob", "data": 1})
    assert status == 400
    assert "users" in answer["error"]
    status, answer = post(f"{manifest.demo_url}demo/notify", {"data": 1, "via": "fax"})
    assert status == 400
    status, answer = post(f"{manifest.demo_url}demo/notify", {"users": ["bob"], "data": 1})
    assert status == 200
    assert answer["messageId"]
    # a cross-site form POST (text/plain, sent by browsers without a preflight) is refused
    form_post = urllib.request.Request(  # noqa: S310 - loopback
        f"{manifest.demo_url}demo/notify",
        data=b'{"data": "from another site"}',
        headers={"Content-Type": "text/plain"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(form_post, timeout=10)  # noqa: S310 - loopback
    assert refused.value.code == 415


def test_the_cli_notifies_a_listener_and_reads_online_users(
    running: tuple[StackThread, StackManifest],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN `sumu listen --sub zoe` in a thread, found through stack.json
    runner, manifest = running
    stack_file = str(runner.stack.config.state_dir / "stack.json")
    result: list[int] = []
    listener = threading.Thread(
        target=lambda: result.append(
            main(
                ["listen", "--sub", "zoe", "--count", "1", "--seconds", "60", "--stack", stack_file]
            )
        )
    )
    listener.start()
    deadline = time.monotonic() + 30  # a cold $connect is slow on a loaded machine
    while get(f"{manifest.demo_url}demo/online")[1]["users"].get("zoe") != 1:
        assert time.monotonic() < deadline, "zoe never connected"
        time.sleep(0.05)
    # WHEN `sumu notify` targets zoe
    assert main(["notify", "--users", "zoe", "--data", '{"hi": "zoe"}', "--stack", stack_file]) == 0
    listener.join(timeout=30)
    # THEN the listener printed the frame as one JSON line and exited 0
    assert result == [0]
    lines = capsys.readouterr().out.splitlines()
    assert '{"hi":"zoe"}' in lines


def test_the_cli_subscribes_a_listener_and_notifies_its_channel(
    running: tuple[StackThread, StackManifest],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN `sumu listen --subscribe` on a public channel (no claim needed), in a thread
    runner, _ = running
    stack_file = str(runner.stack.config.state_dir / "stack.json")
    channel = f"public:cli-{time.monotonic_ns()}"
    result: list[int] = []
    arguments = ["listen", "--sub", "yuki", "--subscribe", channel, "--count", "2"]
    listener = threading.Thread(
        target=lambda: result.append(main([*arguments, "--seconds", "60", "--stack", stack_file]))
    )
    listener.start()
    deadline = time.monotonic() + 30  # a cold $connect is slow on a loaded machine
    while f'"channel":"{channel}"' not in capsys.readouterr().out:
        assert time.monotonic() < deadline, "the subscribe was never acknowledged"
        time.sleep(0.05)
    # WHEN `sumu notify --channels` names it
    assert (
        main(["notify", "--channels", channel, "--data", '{"hi": 1}', "--stack", stack_file]) == 0
    )
    listener.join(timeout=30)
    # THEN the listener printed the channel envelope and exited 0
    assert result == [0]
    [frame] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "hi" in line]
    assert (frame["type"], frame["channel"], frame["data"]) == ("message", channel, {"hi": 1})
    # AND a bad channel name never leaves the CLI
    assert main(["notify", "--channels", "no spaces", "--data", "1", "--stack", stack_file]) == 1


def test_token_claims_are_parsed_as_json(
    running: tuple[StackThread, StackManifest], capsys: pytest.CaptureFixture[str]
) -> None:
    runner, _ = running
    stack_file = str(runner.stack.config.state_dir / "stack.json")
    claim = 'channels=["room-*", "news:*"]'
    assert main(["token", "--sub", "kai", "--claim", claim, "--stack", stack_file]) == 0
    # The in-process stack's functions print their log lines on the same stdout.
    [token] = [
        line
        for line in capsys.readouterr().out.splitlines()
        if re.fullmatch(r"[\w-]+(\.[\w-]+){2}", line)
    ]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["channels"] == ["room-*", "news:*"]


def test_notify_refuses_a_request_that_breaks_the_contract(
    running: tuple[StackThread, StackManifest], capsys: pytest.CaptureFixture[str]
) -> None:
    runner, _ = running
    stack_file = str(runner.stack.config.state_dir / "stack.json")
    assert main(["notify", "--users", "a", "--data", "not json", "--stack", stack_file]) == 1
    assert "--data is not JSON" in capsys.readouterr().err
    too_long = "u" * 1025  # user ids are at most 1024 characters
    assert main(["notify", "--users", too_long, "--data", "1", "--stack", stack_file]) == 1
    assert "not a valid notification-request" in capsys.readouterr().err
    assert main(["notify", "--users", "a b", "--data", "{}", "--stack", stack_file]) == 0
    with pytest.raises(SystemExit):
        main(["notify", "--data", "{}", "--via", "carrier-pigeon"])


def test_a_second_stack_on_a_busy_port_fails_clearly(
    running: tuple[StackThread, StackManifest],
) -> None:
    runner, _ = running
    busy = StackConfig(port=runner.stack.config.port, aws_port=free_port())
    with pytest.raises(StackError, match="in use"):
        asyncio.run(LocalStack(busy).start())


def test_commands_without_a_stack_say_how_to_start_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--sub", "a", "--stack", str(tmp_path / "stack.json")]) == 1
    assert "sumu up" in capsys.readouterr().err


def copy_manifest(running: tuple[StackThread, StackManifest], state_dir: Path, pid: int) -> Path:
    _, manifest = running
    state_dir.mkdir(parents=True, exist_ok=True)
    return dataclasses.replace(manifest, pid=pid).write(state_dir)


def test_a_second_stack_in_the_same_directory_is_refused(
    running: tuple[StackThread, StackManifest], tmp_path: Path
) -> None:
    # GIVEN a stack.json written by a live process (pid 1 always exists)
    copy_manifest(running, tmp_path / ".sumu", pid=1)
    config = StackConfig(port=free_port(), aws_port=free_port(), state_dir=tmp_path / ".sumu")
    # WHEN another stack starts there THEN it refuses before touching any port
    with pytest.raises(StackError, match="already running"):
        asyncio.run(LocalStack(config).start())


def test_a_stack_json_left_by_a_dead_stack_is_reported(
    running: tuple[StackThread, StackManifest], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    finished = subprocess.Popen(["true"])  # once reaped, its pid names no process
    finished.wait()
    path = copy_manifest(running, tmp_path / ".sumu", pid=finished.pid)
    assert main(["notify", "--data", "1", "--stack", str(path)]) == 1
    assert "no longer running" in capsys.readouterr().err


def test_a_handler_path_that_does_not_import_stops_the_stack_clearly(tmp_path: Path) -> None:
    handlers = {**StackConfig().handlers, "pusher": "no_such_team.pusher.handler"}
    # moto keeps its state per process, shared with the module's stack: another stage, other names
    config = StackConfig(
        port=free_port(),
        aws_port=free_port(),
        stage="badhandler",
        state_dir=tmp_path / ".sumu",
        handlers=handlers,
    )
    with pytest.raises(StackError, match=r"function pusher: .*no_such_team"):
        asyncio.run(LocalStack(config).start())
    assert not (tmp_path / ".sumu" / "stack.json").exists()
