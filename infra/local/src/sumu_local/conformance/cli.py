"""``sumu conformance authorizer|connections|pusher|presence|all [--config] [--json] [--junit]``."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sumu_local.stack.config import load_stack_config

CHOICES = ("authorizer", "connections", "pusher", "presence", "all")


def add_conformance_command(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "conformance",
        help="prove an implementation of a service honours the contracts (black-box cases)",
    )
    command.add_argument("service", choices=CHOICES, help="the service to check, or all")
    command.add_argument("--config", type=Path, help="sumu.toml naming the implementation")
    command.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    command.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML")
    command.add_argument(
        "--log", type=Path, metavar="FILE", help="the functions' output (default: a temp file)"
    )
    command.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    # Imported here: moto and the runtime load only for this command.
    from sumu_local.conformance.report import summary, write_json, write_junit  # noqa: PLC0415
    from sumu_local.conformance.runner import SERVICES, run_conformance  # noqa: PLC0415
    from sumu_local.conformance.runtime import describe_implementation  # noqa: PLC0415

    config = load_stack_config(args.config)
    services = list(SERVICES) if args.service == "all" else [args.service]
    for noisy in ("werkzeug", "botocore", "boto3", "moto", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    implementations = {service: describe_implementation(config, service) for service in services}
    log_path = args.log or Path(tempfile.mkstemp(prefix="sumu-conformance-", suffix=".log")[1])
    out = sys.stdout
    for service, implementation in implementations.items():
        print(f"# {service}: {implementation}", file=out)
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        try:
            results = run_conformance(services, config, out, log)
        except OSError as error:  # a port, a file: the environment itself could not start
            print(f"sumu conformance: cannot start the environment: {error}", file=sys.stderr)
            return 2
    seconds = time.monotonic() - started
    print(summary(results, seconds), file=out)
    print(f"# the functions' output: {log_path}", file=out)
    if args.json:
        write_json(args.json, results, seconds, implementations)
    if args.junit:
        write_junit(args.junit, results, seconds)
    return 1 if any(result.status == "FAIL" for result in results) else 0
