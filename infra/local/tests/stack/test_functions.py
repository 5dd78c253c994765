"""Functions in processes of their own, over the Lambda Runtime API: warm reuse, timeouts,
crashes, init errors, concurrency, Lambda's variables and output capture. Real processes and
HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sumu_local.stack.functions import Function, FunctionError, FunctionSpec, FunctionTimeout

HANDLERS = """
import os
import sys
import time

INVOCATIONS = 0
print("init of", os.environ["AWS_LAMBDA_FUNCTION_NAME"])


def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    print("invocation", INVOCATIONS, "of pid", os.getpid())
    action = event.get("action")
    if action == "sleep":
        time.sleep(event["seconds"])
    elif action == "raise":
        raise ValueError(event["message"])
    elif action == "crash":
        print("about to crash", flush=True)
        os._exit(3)
    elif action == "environment":
        return {name: os.environ.get(name) for name in event["names"]}
    elif action == "context":
        return {
            "request_id": context.aws_request_id,
            "arn": context.invoked_function_arn,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "function_name": context.function_name,
            "cwd": os.getcwd(),
            "path0": sys.path[0],
        }
    return {"invocations": INVOCATIONS, "pid": os.getpid(), "started": time.time()}
"""


class Lines:
    """A log sink that keeps every (function, line) it is given."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, function_name: str, line: str) -> None:
        with self._lock:
            self.lines.append((function_name, line))

    def of(self, function_name: str) -> list[str]:
        with self._lock:
            return [line for name, line in self.lines if name == function_name]


@pytest.fixture
def code(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "team_handlers.py").write_text(textwrap.dedent(HANDLERS), "utf-8")
    return folder


@pytest.fixture
def lines() -> Lines:
    return Lines()


def spec(code: Path, **overrides: Any) -> FunctionSpec:
    values: dict[str, Any] = {
        "name": "team",
        "handler": "team_handlers.handler",
        "code": code,
        "timeout_seconds": 5.0,
        "concurrency": 1,
    }
    return FunctionSpec(**{**values, **overrides})


@pytest.fixture
def function(code: Path, lines: Lines) -> Iterator[Function]:
    with Function(spec(code, timeout_seconds=1.0), log_sink=lines) as started:
        yield started


def test_a_warm_environment_is_reused_with_its_module_state(function: Function) -> None:
    # GIVEN a started function WHEN it is invoked twice
    first = function.invoke({})
    second = function.invoke({})
    # THEN the same process served both and kept its module globals
    assert first["pid"] == second["pid"]
    assert (first["invocations"], second["invocations"]) == (1, 2)


def test_a_handler_error_keeps_its_type_and_message_and_the_environment(
    function: Function,
) -> None:
    before = function.invoke({})
    # WHEN the handler raises
    with pytest.raises(FunctionError) as raised:
        function.invoke({"action": "raise", "message": "Unauthorized"})
    # THEN the caller gets Lambda's errorType / errorMessage, the environment stays warm
    assert (raised.value.error_type, str(raised.value)) == ("ValueError", "Unauthorized")
    after = function.invoke({})
    assert after["pid"] == before["pid"]
    assert after["invocations"] == before["invocations"] + 2


def test_a_timeout_kills_the_environment_and_the_next_one_starts_fresh(
    function: Function,
) -> None:
    before = function.invoke({})
    started = time.monotonic()
    # WHEN an invocation runs past the 1 s timeout
    with pytest.raises(FunctionTimeout) as raised:
        function.invoke({"action": "sleep", "seconds": 30})
    # THEN Lambda's timeout error comes back at the deadline, naming the function
    assert raised.value.error_type == "Sandbox.Timedout"
    assert "team: Task timed out after 1.00 seconds" in str(raised.value)
    assert time.monotonic() - started < 10
    # AND the process is gone; the next invocation gets a fresh environment
    with pytest.raises(ProcessLookupError):
        os.kill(before["pid"], 0)
    after = function.invoke({})
    assert after["pid"] != before["pid"]
    assert after["invocations"] == 1


def test_a_crash_is_reported_with_the_name_and_last_output_then_a_fresh_start(
    function: Function,
) -> None:
    before = function.invoke({})
    # WHEN the process exits in the middle of an invocation
    with pytest.raises(FunctionError) as raised:
        function.invoke({"action": "crash"})
    # THEN the caller gets Runtime.ExitError with the function's name and its last lines
    error = raised.value
    assert error.error_type == "Runtime.ExitError"
    assert "team:" in str(error)
    assert "exit status 3" in str(error)
    assert "about to crash" in error.log_tail
    assert "about to crash" in str(error)
    after = function.invoke({})
    assert after["pid"] != before["pid"]
    assert after["invocations"] == 1


def test_an_init_error_fails_start_with_the_name_and_the_traceback(
    code: Path, lines: Lines
) -> None:
    # GIVEN a module that raises while it is imported
    (code / "broken.py").write_text("print('loading')\nraise RuntimeError('no config')\n")
    function = Function(spec(code, handler="broken.handler"), log_sink=lines)
    # WHEN the function starts THEN its init error is Lambda's, with its output
    with pytest.raises(FunctionError) as raised:
        function.start()
    error = raised.value
    assert error.error_type == "Runtime.ImportModuleError"
    assert str(error).startswith("team: Unable to import module 'broken.handler'")
    assert "RuntimeError: no config" in "\n".join(error.log_tail)
    assert "loading" in lines.of("team")


def test_an_init_that_exits_is_reported_and_retried_by_the_next_invocation(
    code: Path, lines: Lines, tmp_path: Path
) -> None:
    # GIVEN a module that exits during its first init only (a flag file marks the first)
    flag = tmp_path / "first-init-done"
    (code / "flaky.py").write_text(
        textwrap.dedent(
            f"""
            import pathlib, sys
            flag = pathlib.Path({str(flag)!r})
            if not flag.exists():
                flag.write_text("x")
                print("first init gives up")
                sys.exit(4)

            def handler(event, context):
                return "second environment"
            """
        )
    )
    function = Function(spec(code, handler="flaky.handler"), log_sink=lines)
    with pytest.raises(FunctionError) as raised:
        function.start()
    assert raised.value.error_type == "Runtime.ExitError"
    assert "first init gives up" in raised.value.log_tail
    # WHEN it is started again THEN a fresh environment initialises
    with Function(spec(code, handler="flaky.handler"), log_sink=lines) as retried:
        assert retried.invoke({}) == "second environment"


def test_concurrency_bounds_the_environments_and_invocations_queue(
    code: Path, lines: Lines
) -> None:
    # GIVEN at most 2 environments; WHEN 6 invocations of 0.4 s arrive at once
    with (
        Function(spec(code, concurrency=2), log_sink=lines) as function,
        ThreadPoolExecutor(max_workers=6) as pool,
    ):
        results = list(
            pool.map(lambda _: function.invoke({"action": "sleep", "seconds": 0.4}), range(6))
        )
    # THEN all succeed, served by 2 processes at most, in at least 3 rounds
    pids = {result["pid"] for result in results}
    assert len(pids) <= 2
    starts = sorted(result["started"] for result in results)
    assert starts[-1] - starts[0] >= 0.7  # the last ones waited for a free environment


def test_concurrent_callers_on_an_event_loop_share_the_pool(code: Path, lines: Lines) -> None:
    import asyncio  # noqa: PLC0415 - only this test awaits

    async def burst(function: Function) -> list[Any]:
        return await asyncio.gather(*(function.ainvoke({}) for _ in range(8)))

    with Function(spec(code, concurrency=3), log_sink=lines) as function:
        results = asyncio.run(burst(function))
    assert len({result["pid"] for result in results}) <= 3
    assert len(results) == 8


def test_lambda_variables_and_both_environments_reach_the_process(
    code: Path, lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a variable of the stack's own process, stack variables and the function's own
    monkeypatch.setenv("SUMU_STACK_PROCESS_ONLY", "secret")
    names = [
        "AWS_LAMBDA_RUNTIME_API", "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_TIMEOUT", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_LAMBDA_LOG_GROUP_NAME", "STACK_VARIABLE", "OWN_VARIABLE",
        "SUMU_STACK_PROCESS_ONLY",
    ]  # fmt: skip
    own = spec(code, environment={"OWN_VARIABLE": "own", "AWS_LAMBDA_FUNCTION_NAME": "spoof"})
    with Function(
        own, environment={"STACK_VARIABLE": "stack"}, region="eu-west-1", log_sink=lines
    ) as function:
        variables = function.invoke({"action": "environment", "names": names})
        context = function.invoke({"action": "context"})
    # THEN Lambda's variables are set (and win over the function's), the process's own are not
    assert variables["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert variables["_HANDLER"] == "team_handlers.handler"
    assert variables["LAMBDA_TASK_ROOT"] == str(code)
    assert variables["AWS_LAMBDA_FUNCTION_NAME"] == "team"
    assert variables["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "5"
    assert variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert variables["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert variables["AWS_REGION"] == variables["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert variables["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/team"
    assert (variables["STACK_VARIABLE"], variables["OWN_VARIABLE"]) == ("stack", "own")
    assert variables["SUMU_STACK_PROCESS_ONLY"] is None
    # AND the context is Lambda's; the code folder is the working directory and first on the path
    assert context["arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:team"
    assert 0 < context["remaining_ms"] <= 5000
    assert context["function_name"] == "team"
    assert context["cwd"] == context["path0"] == str(code)


def test_every_line_of_output_reaches_the_sink_tagged_with_the_function(
    function: Function, lines: Lines
) -> None:
    function.invoke({})
    deadline = time.monotonic() + 5
    while not any(line.startswith("invocation 1") for line in lines.of("team")):
        assert time.monotonic() < deadline, lines.lines
        time.sleep(0.01)
    assert "init of team" in lines.of("team")


def test_a_program_named_by_command_speaks_the_runtime_api_itself(
    tmp_path: Path, lines: Lines
) -> None:
    # GIVEN a runtime written against the Runtime API with nothing but the standard library:
    # it checks Lambda's headers and status codes itself and reports what it saw
    runtime = tmp_path / "runtime.py"
    runtime.write_text(textwrap.dedent(RAW_RUNTIME), "utf-8")
    command = (sys.executable, str(runtime))
    with Function(spec(tmp_path, handler=None, command=command), log_sink=lines) as function:
        # WHEN it is invoked THEN it answers with what the API told it
        seen = function.invoke({"hello": "world"})
        assert seen["event"] == {"hello": "world"}
        assert seen["next_status"] == 200
        assert seen["arn"].endswith(":function:team")
        assert seen["deadline_ms"] > time.time() * 1000
        assert seen["trace_id"].startswith("Root=1-")
        assert seen["bad_id_status"] == 400
        # AND an error posted with Lambda's body shape comes back as FunctionError
        with pytest.raises(FunctionError) as raised:
            function.invoke({"fail": True})
        assert (raised.value.error_type, str(raised.value)) == ("Custom.Error", "asked to fail")
        assert function.invoke({"last": True})["response_status"] == 202


RAW_RUNTIME = """
import http.client
import json
import os

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
base = "/2018-06-01/runtime"
last_status = None
while True:
    connection = http.client.HTTPConnection(host, int(port))
    connection.request("GET", base + "/invocation/next")
    response = connection.getresponse()
    event = json.loads(response.read())
    request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
    if event.get("fail"):
        body = {"errorMessage": "asked to fail", "errorType": "Custom.Error", "stackTrace": []}
        connection.request("POST", f"{base}/invocation/{request_id}/error", json.dumps(body),
                           {"Lambda-Runtime-Function-Error-Type": "Custom.Error"})
        connection.getresponse().read()
        continue
    connection.request("POST", base + "/invocation/not-a-request/response", "{}")
    bad_id = connection.getresponse()
    bad_id.read()
    answer = {
        "event": event,
        "next_status": response.status,
        "arn": response.getheader("Lambda-Runtime-Invoked-Function-Arn"),
        "deadline_ms": int(response.getheader("Lambda-Runtime-Deadline-Ms")),
        "trace_id": response.getheader("Lambda-Runtime-Trace-Id"),
        "bad_id_status": bad_id.status,
        "response_status": last_status,
    }
    connection.request("POST", f"{base}/invocation/{request_id}/response", json.dumps(answer))
    posted = connection.getresponse()
    posted.read()
    last_status = posted.status
"""
