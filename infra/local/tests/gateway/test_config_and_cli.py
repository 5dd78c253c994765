"""Configuration from TOML, handlers bound by dotted path, and `sumu gateway` as a process."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest
import websockets
from sumu_local.gateway import Gateway, GatewayConfig, load_gateway_config
from sumu_local.gateway.cli import add_gateway_command

HANDLERS_MODULE = textwrap.dedent(
    """
    import json
    import os


    def authorize(event, context):
        return {
            "principalId": event["queryStringParameters"]["authorization"],
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}],
            },
            "context": {"team": os.environ["STANDIN_TEAM"]},
        }


    def echo(event, context):
        return {
            "statusCode": 200,
            "body": json.dumps(
                {
                    "body": event["body"],
                    "principal": event["requestContext"]["authorizer"]["principalId"],
                    "team": event["requestContext"]["authorizer"]["team"],
                    "function": context.function_name,
                    "connectionId": event["requestContext"]["connectionId"],
                }
            ),
        }
    """
)

CONFIG = textwrap.dedent(
    """
    [gateway]
    stage = "dev"
    port = 0
    authorizer = "standin_routes.authorize"
    idle_timeout_seconds = 30
    environment = { STANDIN_TEAM = "blue" }

    [gateway.routes]
    "$default" = "standin_routes:echo"
    "echo" = "standin_routes.echo"
    """
)

SUMU = str(Path(sys.executable).parent / "sumu")
CREDENTIALS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory holding a handlers module and a gateway TOML that points at it."""
    (tmp_path / "standin_routes.py").write_text(HANDLERS_MODULE)
    (tmp_path / "sumu.toml").write_text(CONFIG)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("STANDIN_TEAM", raising=False)
    return tmp_path


def test_load_gateway_config_reads_the_gateway_table(project: Path) -> None:
    config = load_gateway_config(project / "sumu.toml")
    assert config.stage == "dev"
    assert config.port == 0
    assert config.routes == {"$default": "standin_routes:echo", "echo": "standin_routes.echo"}
    assert config.authorizer == "standin_routes.authorize"
    assert config.idle_timeout_seconds == 30
    assert config.max_duration_seconds == 7200
    assert config.environment == {"STANDIN_TEAM": "blue"}
    assert config.identity_sources == ("route.request.querystring.authorization",)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[other]\n", "no [gateway] table"),
        ("[gateway]\nstage = 'x'\n", "[gateway.routes] is required"),
        ("[gateway]\ncolour = 1\n[gateway.routes]\n", "unknown [gateway] keys: colour"),
        (
            "[gateway]\nidle_timeout_seconds = 0\n[gateway.routes]\n",
            "idle_timeout_seconds must be > 0",
        ),
        ("[gateway]\n[gateway.routes]\necho = 3\n", "must be a dotted path"),
    ],
)
def test_bad_config_files_are_refused_with_a_reason(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        load_gateway_config(path)


def test_dotted_path_handlers_serve_a_connection(project: Path) -> None:
    # GIVEN routes and an authorizer named by dotted path, with environment for the handlers
    config = load_gateway_config(project / "sumu.toml")

    async def main() -> Any:
        gateway = Gateway(config)
        await gateway.start()
        try:
            async with websockets.connect(f"{gateway.websocket_url}?authorization=alice") as client:
                await client.send('{"action": "echo"}')
                return json.loads(await asyncio.wait_for(client.recv(), 5))
        finally:
            await gateway.stop()

    # THEN the message reached the dotted-path handler with the authorizer's context
    reply = asyncio.run(main())
    assert "STANDIN_TEAM" not in os.environ  # put back as it was by stop()
    assert reply["principal"] == "alice"
    assert reply["team"] == "blue"
    assert reply["function"] == "standin_routes-echo"


def test_unimportable_handler_fails_at_start_naming_the_route() -> None:
    config = GatewayConfig(routes={"send": "no_such_module.handler"}, port=0)
    with pytest.raises(ValueError, match="route 'send': cannot import 'no_such_module'"):
        asyncio.run(Gateway(config).start())


def test_add_gateway_command_registers_the_subcommand() -> None:
    parser = argparse.ArgumentParser(prog="sumu")
    add_gateway_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["gateway", "--config", "sumu.toml", "--port", "0"])
    assert args.config == Path("sumu.toml")
    assert args.port == 0
    assert callable(args.func)


def test_sumu_gateway_process_serves_clients_and_boto3(project: Path) -> None:
    # GIVEN `sumu gateway --config sumu.toml --port 0` running as its own process
    environment = {**os.environ, "PYTHONPATH": str(project)}
    process = subprocess.Popen(
        # the `sumu` console script this package installs next to the interpreter
        [SUMU, "gateway", "--config", str(project / "sumu.toml"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=project,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().split()
        assert ready[0] == "ready"
        websocket_url = ready[1]

        # WHEN a plain WebSocket client and a plain boto3 client use it
        async def client_session() -> tuple[Any, str, str, int | None]:
            async with websockets.connect(f"{websocket_url}?authorization=bob") as client:
                await client.send("plain text")
                reply = json.loads(await asyncio.wait_for(client.recv(), 5))
                management = boto3.client(
                    "apigatewaymanagementapi",
                    endpoint_url=websocket_url.replace("ws://", "http://"),
                    **CREDENTIALS,
                )
                await asyncio.to_thread(
                    management.post_to_connection,
                    ConnectionId=reply["connectionId"],
                    Data=b"pushed",
                )
                pushed = str(await asyncio.wait_for(client.recv(), 5))
                info = await asyncio.to_thread(
                    management.get_connection, ConnectionId=reply["connectionId"]
                )
                await asyncio.to_thread(
                    management.delete_connection, ConnectionId=reply["connectionId"]
                )
                await asyncio.wait_for(client.wait_closed(), 5)
                with pytest.raises(management.exceptions.GoneException):
                    await asyncio.to_thread(
                        management.get_connection, ConnectionId=reply["connectionId"]
                    )
                return reply, pushed, info["Identity"]["SourceIp"], client.close_code

        reply, pushed, source_ip, close_code = asyncio.run(client_session())
        # THEN everything works, and Ctrl-C stops it cleanly
        assert reply["body"] == "plain text"
        assert (reply["principal"], reply["team"]) == ("bob", "blue")
        assert pushed == "pushed"
        assert source_ip == "127.0.0.1"
        assert close_code == 1000
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    access_lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert {line.get("eventType") for line in access_lines} >= {"CONNECT", "MESSAGE", "DISCONNECT"}
    assert any(line.get("httpMethod") == "POST" and line["status"] == 200 for line in access_lines)


def test_sumu_gateway_with_a_broken_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[gateway]\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sumu_local.gateway",
            "--config",
            str(tmp_path / "bad.toml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "[gateway.routes] is required" in result.stderr
