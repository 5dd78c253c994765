"""The ``sumu`` command: ``up``, ``token``, ``notify``, ``listen``, ``gateway`` and more.

Commands other than ``up`` find the running stack through ``.sumu/stack.json`` in the working
directory (or ``--stack FILE``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sumu_contracts import ContractError, validate

from sumu_local.conformance.cli import add_conformance_command
from sumu_local.gateway.cli import add_gateway_command
from sumu_local.listener import listen
from sumu_local.redrive import add_redrive_command
from sumu_local.stack.aws import aws_client
from sumu_local.stack.config import PRESENCE_SOURCES, ConfigError, load_stack_config
from sumu_local.stack.issuer import IssuerError, TokenIssuer, load_key
from sumu_local.stack.manifest import (
    ManifestError,
    StackManifest,
    default_manifest_path,
    read_running,
)

EXIT_USAGE = 2


class CommandError(RuntimeError):
    """A failure to report in one line on stderr, with exit status 1."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except (CommandError, ConfigError, ManifestError) as error:
        print(f"sumu {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sumu", description="SUMU on this machine.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_up(subparsers)
    _add_token(subparsers)
    _add_notify(subparsers)
    _add_listen(subparsers)
    add_gateway_command(subparsers)
    add_conformance_command(subparsers)
    add_redrive_command(subparsers)
    return parser


# --- sumu up ----------------------------------------------------------------------------------


def _add_up(subparsers: Any) -> None:
    up = subparsers.add_parser("up", help="run the whole stack in the foreground")
    up.add_argument("--port", type=int, help="gateway port (default 3001; 0 = any free port)")
    up.add_argument("--aws-port", type=int, help="moto port (default 4566; 0 = any free port)")
    up.add_argument("--stage", help="API stage (default mvp)")
    up.add_argument("--presence", choices=PRESENCE_SOURCES, help="where presence events go")
    up.add_argument("--config", type=Path, help="sumu.toml: handlers, timeouts, environment")
    up.add_argument("--jwks-uri", help="trust this identity provider instead of the local issuer")
    up.add_argument("--issuer", help="expected iss of tokens (with --jwks-uri)")
    up.add_argument("--audience", help="accepted aud values, comma list (with --jwks-uri)")
    up.add_argument("--state-dir", type=Path, help="where stack.json and the key go (.sumu)")
    up.set_defaults(func=_run_up)


def _run_up(args: argparse.Namespace) -> int:
    config = load_stack_config(args.config).with_overrides(
        port=args.port,
        aws_port=args.aws_port,
        stage=args.stage,
        presence_source=args.presence,
        jwks_uri=args.jwks_uri,
        issuer=args.issuer,
        audience=args.audience,
        state_dir=args.state_dir,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # moto logs every AWS call and botocore every credential lookup: noise next to the gateway's
    # access log and the services' structured lines.
    for noisy in ("werkzeug", "botocore", "aiobotocore", "boto3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Imported here: it loads moto and the services, which only `up` needs (`sumu token` stays quick).
    from sumu_local.stack.runner import LocalStack, StackError  # noqa: PLC0415

    try:
        asyncio.run(_serve(LocalStack(config)))
    except StackError as error:
        raise CommandError(str(error)) from error
    return 0


async def _serve(stack: Any) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        manifest = await stack.start()
        print(f"websocket   {manifest.websocket_url}")
        print(f"management  {manifest.management_url}/@connections/{{connectionId}}")
        print(f"jwks        {manifest.jwks_url}")
        print(f"demo        {manifest.demo_url}")
        print(f"aws         {manifest.aws_endpoint_url} ({manifest.region})")
        print(f"stack file  {stack.config.state_dir / 'stack.json'}")
        # One write: the functions' output lines go to the same stdout from other threads.
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        await stopping.wait()
        print("stopping", flush=True)
    finally:
        await stack.stop()


# --- sumu token -------------------------------------------------------------------------------


def _add_stack_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack", type=Path, default=None, help="stack.json of the stack (.sumu/stack.json)"
    )


def _manifest(args: argparse.Namespace) -> StackManifest:
    return read_running(args.stack or default_manifest_path())


def _add_token(subparsers: Any) -> None:
    token = subparsers.add_parser("token", help="print a JWT the running stack accepts")
    token.add_argument("--sub", required=True, help="the user id (JWT sub)")
    token.add_argument("--aud", help="audience (default the stack's)")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    token.add_argument(
        "--claim", action="append", default=[], metavar="K=V", help="extra claim (V as JSON)"
    )
    _add_stack_option(token)
    token.set_defaults(func=_run_token)


def _run_token(args: argparse.Namespace) -> int:
    print(issue_token(_manifest(args), args.sub, args.aud, args.ttl, _claims(args.claim)))
    return 0


def issue_token(
    manifest: StackManifest,
    subject: str,
    audience: str | None = None,
    ttl_seconds: int = 3600,
    claims: dict[str, Any] | None = None,
) -> str:
    if not manifest.signing_key_file:
        raise CommandError("this stack trusts an external identity provider: get a token from it")
    try:
        key = load_key(Path(manifest.signing_key_file))
    except IssuerError as error:
        raise CommandError(str(error)) from error
    issuer = TokenIssuer(key=key, issuer=manifest.issuer, audience=manifest.audience)
    return issuer.token(subject, audience=audience, ttl_seconds=ttl_seconds, claims=claims)


def _claims(pairs: list[str]) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    for pair in pairs:
        name, separator, text = pair.partition("=")
        if not separator or not name:
            raise CommandError(f"--claim {pair!r}: expected NAME=VALUE")
        try:
            claims[name] = json.loads(text)
        except json.JSONDecodeError:
            claims[name] = text  # a bare word is a string claim
    return claims


# --- sumu notify ------------------------------------------------------------------------------


def _add_notify(subparsers: Any) -> None:
    notify = subparsers.add_parser("notify", help="send a notification request to the pusher")
    notify.add_argument("--users", default="", help="comma list of user ids (none = everyone)")
    notify.add_argument("--exclude", default="", help="comma list of user ids to leave out")
    notify.add_argument(
        "--channels",
        default=None,
        help="comma list of channels (their subscribers get an envelope)",
    )
    notify.add_argument("--data", required=True, help="the JSON every target receives")
    notify.add_argument("--via", choices=("sqs", "sns"), default="sqs")
    _add_stack_option(notify)
    notify.set_defaults(func=_run_notify)


def _run_notify(args: argparse.Namespace) -> int:
    try:
        data = json.loads(args.data)
    except json.JSONDecodeError as error:
        raise CommandError(f"--data is not JSON: {error}") from error
    request: dict[str, Any] = {"data": data}
    if users := _user_list(args.users):
        request["users"] = users
    if excluded := _user_list(args.exclude):
        request["exclude_users"] = excluded
    if args.channels is not None:
        # Given, even empty, it is sent: a request with channels is never a broadcast.
        request["channels"] = _user_list(args.channels)
    try:
        validate("notification-request", request)
    except ContractError as error:
        raise CommandError(f"not a valid notification-request: {error}") from error
    manifest = _manifest(args)
    body = json.dumps(request)
    if args.via == "sns":
        sns = aws_client("sns", manifest.aws_endpoint_url, manifest.region)
        response = sns.publish(TopicArn=manifest.notifications_topic_arn, Message=body)
    else:
        sqs = aws_client("sqs", manifest.aws_endpoint_url, manifest.region)
        response = sqs.send_message(QueueUrl=manifest.notifications_queue_url, MessageBody=body)
    print(json.dumps({"via": args.via, "messageId": response["MessageId"]}))
    return 0


def _user_list(text: str) -> list[str]:
    return [user.strip() for user in text.split(",") if user.strip()]


# --- sumu listen ------------------------------------------------------------------------------


def _add_listen(subparsers: Any) -> None:
    listen = subparsers.add_parser("listen", help="connect as a user, print every frame")
    listen.add_argument("--sub", required=True, help="the user id to connect as")
    listen.add_argument("--token", help="use this token instead of one from the local issuer")
    listen.add_argument("--count", type=int, help="exit after this many frames")
    listen.add_argument("--seconds", type=float, help="exit after this many seconds")
    listen.add_argument("--keepalive", type=float, default=30.0, help="ping every N s (0: off)")
    listen.add_argument(
        "--subscribe",
        action="append",
        default=[],
        metavar="CHANNEL",
        help="subscribe to this channel once connected (repeatable; the acks are printed too)",
    )
    _add_stack_option(listen)
    listen.set_defaults(func=_run_listen)


def _run_listen(args: argparse.Namespace) -> int:
    manifest = _manifest(args)
    token = args.token or issue_token(manifest, args.sub)
    return asyncio.run(
        listen(
            manifest.websocket_url,
            token,
            count=args.count,
            seconds=args.seconds,
            keepalive_seconds=args.keepalive,
            channels=tuple(args.subscribe),
        )
    )


if __name__ == "__main__":
    sys.exit(main())
