"""Cold start as a user pays it: a fresh interpreter imports the handler and serves its first
SQS event against moto, minus what importing the SDK (``aiobotocore.session``) alone costs.

    python3 -m uv run --frozen python services/pusher/bench/cold_start.py [--runs 9]
        [--compare DIR]   # DIR: another sumu_pusher source tree, e.g. an older commit's
                          # (git archive COMMIT services/pusher/src | tar -x -C /tmp/old)

Each measured interpreter is a child process that first imports the SDK (timed), then the
handler, then serves one SQS event (one Query, one post); "over SDK" is the handler import plus
the first event. moto and the management API stand-in run in this process. Prints the medians in
milliseconds (and the minimum, and the CPU time, the least disturbed by a busy machine) as one
JSON line per version; with ``--compare`` the two versions' runs alternate, so both see the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
from sumu_testkit.moto import aws_environment, start_moto_server
from sumu_testkit.tables import create_connections_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pusher_standin import ManagementApiStandIn

TABLE = "cold-start"
FIRST_EVENT = """
import time
started, started_cpu = time.perf_counter(), time.process_time()
import aiobotocore.session
sdk, sdk_cpu = time.perf_counter(), time.process_time()
from sumu_pusher.handler import handler
imported = time.perf_counter()
event = {"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "receiptHandle": "h",
    "body": '{"users": ["alice"], "data": {"hello": "world"}}'}]}
response = handler(event, None)
served, served_cpu = time.perf_counter(), time.process_time()
assert response == {"batchItemFailures": []}, response
print("RESULT", *(round(seconds * 1000, 1) for seconds in
    (sdk - started, imported - sdk, served - imported, served_cpu - sdk_cpu)))
"""


Run = tuple[float, float, float, float]


def measure(environment: dict[str, str], source: str | None) -> Run:
    if source:
        environment = {**environment, "PYTHONPATH": source}
    completed = subprocess.run(
        [sys.executable, "-c", FIRST_EVENT],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT"))
    sdk, handler_import, first_event, cpu = (float(part) for part in line.split()[1:])
    return sdk, handler_import, first_event, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--compare", help="another sumu_pusher source tree (its src folder)")
    arguments = parser.parse_args()
    versions = {"current": None, **({"compared": arguments.compare} if arguments.compare else {})}
    moto = start_moto_server()
    api = ManagementApiStandIn("mvp").start()
    try:
        environment = {**os.environ, **aws_environment(moto.endpoint_url)}
        dynamodb = boto3.client("dynamodb", endpoint_url=moto.endpoint_url)
        create_connections_table(dynamodb, TABLE)
        dynamodb.put_item(
            TableName=TABLE,
            Item={
                "user_id": {"S": "alice"},
                "connection_id": {"S": "a1"},
                "connected_at": {"N": "0"},
                "delete_at": {"N": "7200"},
            },
        )
        environment.update(
            CONNECTIONS_TABLE_NAME=TABLE, APIGW_ENDPOINT=api.endpoint, PUSHER_SCAN_SEGMENTS="1"
        )
        # Lambda zips ship .pyc files (tools/lambda_zip.py): the children write and reuse theirs
        # outside the source tree, and the run that wrote them is discarded.
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
        environment["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "sumu-pusher-pyc")
        runs: dict[str, list[Run]] = {name: [] for name in versions}
        for source in versions.values():
            measure(environment, source)
        for _ in range(arguments.runs):
            for name, source in versions.items():
                runs[name].append(measure(environment, source))
    finally:
        api.stop()
        moto.stop()
    for name, measured in runs.items():
        sdk, handler_import, first_event, cpu = (
            statistics.median(column) for column in zip(*measured, strict=True)
        )
        over_sdk = [run[1] + run[2] for run in measured]
        print(
            json.dumps(
                {
                    "version": name,
                    "runs": arguments.runs,
                    "sdk_import_ms": sdk,
                    "handler_import_ms": handler_import,
                    "first_event_ms": first_event,
                    "over_sdk_ms": round(statistics.median(over_sdk), 1),
                    "over_sdk_min_ms": round(min(over_sdk), 1),
                    # CPU time of this process from the SDK's import to the answer: what a busy
                    # machine disturbs least (moto's time to answer is not in it).
                    "over_sdk_cpu_ms": round(cpu, 1),
                }
            )
        )


if __name__ == "__main__":
    with_credentials = {**aws_environment("http://127.0.0.1:1")}
    for name, value in with_credentials.items():
        os.environ.setdefault(name, value)
    main()
