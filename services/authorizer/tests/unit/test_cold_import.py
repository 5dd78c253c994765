"""The init phase does the work: a fresh container's first token imports nothing and fetches nothing.

Lambda's init phase (module scope) is what provisioned concurrency and SnapStart run ahead of
requests; anything deferred to the first invocation is paid by the first user instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ..conftest import AUDIENCE, JwksServer, Mint, connect_event

FIRST_TOKEN = """
import json, sys
import sumu_authorizer.handler as module
loaded_at_init = set(sys.modules)
response = module.handler(json.loads(sys.argv[1]), None)
print(json.dumps({
    "effect": response["policyDocument"]["Statement"][0]["Effect"],
    "imported_by_first_token": sorted(set(sys.modules) - loaded_at_init),
}))
"""


def run_fresh_interpreter(
    code: str, args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("JWT_")}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=clean | env,
    )


def test_the_first_token_imports_nothing_and_fetches_no_key(
    jwks_server: JwksServer, mint: Mint
) -> None:
    # GIVEN a fresh interpreter configured against a JWKS on 127.0.0.1
    env = {
        "JWT_ISSUER_JWKS_URI": jwks_server.jwks_url,
        "JWT_ISSUER": jwks_server.base_url,
        "JWT_AUTHORIZED_AUDIENCES": AUDIENCE,
    }
    # WHEN it imports the handler (init) and then serves its first token
    result = run_fresh_interpreter(FIRST_TOKEN, [json.dumps(connect_event(mint()))], env)
    first = json.loads(result.stdout)
    # THEN the token is allowed, every module it needed was imported at init, and the keys were
    # fetched once: at init, not by the token
    assert first == {"effect": "Allow", "imported_by_first_token": []}
    assert jwks_server.count("/.well-known/jwks.json") == 1


def test_a_bad_environment_does_not_break_the_import_but_says_why() -> None:
    # GIVEN a key URL without issuer or audience WHEN a fresh interpreter imports the handler
    result = run_fresh_interpreter(
        "import sumu_authorizer.handler",
        [],
        {"JWT_ISSUER_JWKS_URI": "https://www.googleapis.com/robot/v1/metadata/x509/x"},
    )
    # THEN the import succeeds (every invocation then raises) and the init logged the reason
    assert '"event":"settings_error"' in result.stderr
    assert "JWT_AUTHORIZED_AUDIENCES" in result.stderr


FAKE_SNAPSHOT_RESTORE = """
after_restore = []


def register_after_restore(hook, *args, **kwargs):
    after_restore.append((hook, args, kwargs))
    return hook
"""

RESTORE = """
import json, sys
import snapshot_restore_py
import sumu_authorizer.handler as module
for hook, args, kwargs in snapshot_restore_py.after_restore:  # what Lambda does on a restore
    hook(*args, **kwargs)
print(len(snapshot_restore_py.after_restore))
"""


def test_a_snapstart_restore_fetches_the_keys_again(
    jwks_server: JwksServer, tmp_path: Path
) -> None:
    # GIVEN Lambda's SnapStart hook library (a stand-in that records the hooks)
    (tmp_path / "snapshot_restore_py.py").write_text(FAKE_SNAPSHOT_RESTORE)
    env = {
        "JWT_ISSUER_JWKS_URI": jwks_server.jwks_url,
        "JWT_ISSUER": jwks_server.base_url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
    }
    # WHEN the handler is imported (the snapshot's init) and the container is then restored
    result = run_fresh_interpreter(RESTORE, [], env)
    # THEN one after-restore hook was registered, and it fetched the keys a second time
    assert result.stdout.split() == ["1"]
    assert jwks_server.count("/.well-known/jwks.json") == 2
