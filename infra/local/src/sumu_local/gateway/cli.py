"""`sumu gateway --config FILE [--port N]`: the gateway alone, in the foreground, until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from sumu_local.gateway.config import GatewayConfig, load_gateway_config
from sumu_local.gateway.server import Gateway

DESCRIPTION = (
    "Serve a WebSocket API (routes bound to Python handlers) and its @connections management "
    "API on one port, as API Gateway does."
)


def add_gateway_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `gateway` on the `sumu` CLI's subparsers; the parser's `func` runs it."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "gateway", help="run the API Gateway WebSocket emulator alone", description=DESCRIPTION
    )
    _add_arguments(parser)
    parser.set_defaults(func=run_gateway_command)
    return parser


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, required=True, help="TOML file with a [gateway] table"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="override the configured port (0 = any free port)"
    )


def run_gateway_command(args: argparse.Namespace) -> int:
    try:
        config = load_gateway_config(args.config)
    except (OSError, ValueError) as error:
        print(f"sumu gateway: {error}", file=sys.stderr)
        return 2
    if args.port is not None:
        config = dataclasses.replace(config, port=args.port)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        asyncio.run(serve_until_interrupted(config))
    except ValueError as error:  # a route whose handler cannot be imported
        print(f"sumu gateway: {error}", file=sys.stderr)
        return 2
    return 0


async def serve_until_interrupted(config: GatewayConfig) -> None:
    gateway = Gateway(config)
    await gateway.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal_number, stop.set)
    print(f"ready {gateway.websocket_url}", flush=True)
    try:
        await stop.wait()
    finally:
        await gateway.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m sumu_local.gateway --config FILE`: the same as `sumu gateway`."""
    parser = argparse.ArgumentParser(prog="python -m sumu_local.gateway", description=DESCRIPTION)
    _add_arguments(parser)
    return run_gateway_command(parser.parse_args(argv))
