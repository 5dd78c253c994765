"""The handler module imports only the standard library; the rest waits for the first call."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["joserfc", "cryptography", "urllib.request", "sumu_authorizer.verification", "pydantic"]


def test_importing_the_handler_leaves_heavy_modules_for_the_first_invocation() -> None:
    code = (
        "import json, sys; import sumu_authorizer.handler as h; "
        f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == dict.fromkeys(HEAVY, False)
