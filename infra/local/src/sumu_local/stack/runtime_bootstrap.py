"""A Lambda runtime for Python handlers: the loop AWS's runtime interface client runs.

sumu-local starts this file with a function's own interpreter (``python runtime_bootstrap.py``)
so a team's virtual environment needs no extra package: it uses the standard library only and
runs under any Python >= 3.9. It reads ``_HANDLER`` (``module.function``) and
``LAMBDA_TASK_ROOT``, imports the handler once (module state survives between invocations, as in
a warm Lambda environment) and then loops over the Lambda Runtime API at
``AWS_LAMBDA_RUNTIME_API``:
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""
# This file runs under the function's interpreter, which may be as old as 3.9: annotations are
# never evaluated (the __future__ import), no `X | Y` elsewhere, no datetime.UTC, nothing outside
# the standard library.

from __future__ import annotations

import http.client
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

API_PREFIX = "/2018-06-01/runtime"


class LambdaContext:
    """The attributes and method of Lambda's Python context object.

    https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
    """

    def __init__(self, request_id: str, deadline_ms: int, function_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class RuntimeApi:
    """One keep-alive HTTP connection to the Runtime API (the runtime is single-threaded)."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self._host, self._port = host, int(port)
        self._connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):
            if self._connection is None:
                # /next is a long poll: it returns when an invocation arrives, so no timeout.
                self._connection = http.client.HTTPConnection(self._host, self._port)
            try:
                self._connection.request(
                    method, API_PREFIX + path, body=body, headers=headers or {}
                )
                response = self._connection.getresponse()
                payload = response.read()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
            except (http.client.HTTPException, OSError):
                self._connection.close()
                self._connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def post(self, path: str, document: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(document).encode("utf-8")
        self.request("POST", path, body, {"Content-Type": "application/json", **(headers or {})})


def error_document(error: BaseException) -> dict[str, Any]:
    """Lambda's error shape: errorMessage, errorType, stackTrace (one string per frame)."""
    frames: list[str] = traceback.format_list(traceback.extract_tb(error.__traceback__))
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": [frame.rstrip("\n") for frame in frames],
    }


def load_handler(name: str) -> Callable[[Any, Any], Any]:
    module_name, _, attribute = name.rpartition(".")
    if not module_name:
        raise ValueError(f"Bad handler '{name}': not a module.function path")
    module = importlib.import_module(module_name)
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise AttributeError(f"Handler '{attribute}' missing on module '{module_name}'")
    return handler  # type: ignore[no-any-return]


def main() -> None:
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    # Python put this file's folder (sumu-local's package) first on the path; Lambda puts the
    # task root there, so the function's modules are found first and sumu-local's never.
    sys.path[0] = task_root
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as error:  # noqa: BLE001 - every import failure is the function's init error
        document = error_document(error)
        document["errorType"] = "Runtime.ImportModuleError"
        document["errorMessage"] = "Unable to import module '{}': {}".format(
            os.environ.get("_HANDLER", ""),
            error,
        )
        traceback.print_exc()
        api.post(
            "/init/error",
            document,
            {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"},
        )
        sys.exit(1)
    while True:
        status, headers, body = api.request("GET", "/invocation/next")
        if status != 200:
            sys.stderr.write(f"runtime API /next answered {status}\n")
            sys.exit(1)
        request_id = headers["lambda-runtime-aws-request-id"]
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("lambda-runtime-trace-id", "")
        context = LambdaContext(
            request_id,
            int(headers.get("lambda-runtime-deadline-ms", "0")),
            headers.get("lambda-runtime-invoked-function-arn", ""),
        )
        try:
            result = handler(json.loads(body) if body else None, context)
            api.post(f"/invocation/{request_id}/response", result)
        except Exception as error:  # noqa: BLE001 - reported to the caller, as Lambda does
            document = error_document(error)
            traceback.print_exc()
            api.post(
                f"/invocation/{request_id}/error",
                document,
                {"Lambda-Runtime-Function-Error-Type": "Unhandled"},
            )


if __name__ == "__main__":
    main()
