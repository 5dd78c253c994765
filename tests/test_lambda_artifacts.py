"""Every service's Lambda zip builds, is reproducible, and its handler imports from the zip alone.

The import runs in a clean Python 3.12 (Lambda's) with no site-packages, so a dependency that
the zip forgot, or a wheel built for the wrong ABI, fails here rather than on AWS.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "lambda_zip.py"
SERVICES = ["authorizer", "connections", "pusher", "presence"]


def _build(service: str, out_dir: Path) -> Path:
    result = subprocess.run(
        [sys.executable, str(TOOL), "build", f"services/{service}", "--out", str(out_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(result.stdout.strip())


@pytest.fixture(scope="module")
def built_zips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out_dir = tmp_path_factory.mktemp("zips")
    return {service: _build(service, out_dir) for service in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_the_handler_imports_from_the_unpacked_zip_in_a_clean_python(
    built_zips: dict[str, Path], service: str
) -> None:
    subprocess.run(
        [sys.executable, str(TOOL), "verify", str(built_zips[service]), f"sumu_{service}.handler"],
        cwd=ROOT,
        check=True,
    )


@pytest.mark.parametrize("service", SERVICES)
def test_the_zip_holds_no_path_of_the_build_machine(
    built_zips: dict[str, Path], service: str
) -> None:
    with zipfile.ZipFile(built_zips[service]) as zf:
        names = zf.namelist()
        assert not [
            name for name in names if name.endswith((".pth", "direct_url.json", "uv_cache.json"))
        ]
        assert f"sumu_{service}/handler.py" in names
        assert not [name for name in names if name.startswith("bin/")]  # console scripts
        # and no byte of any entry names this checkout or the build's temporary folders
        marks = (str(ROOT).encode(), b"sumu-lambda-")
        leaking = [name for name in names if any(mark in zf.read(name) for mark in marks)]
        assert leaking == []
        # Bytecode for Lambda's read-only /var/task, compiled by Python 3.12 (cpython-312).
        assert f"sumu_{service}/__pycache__/handler.cpython-312.pyc" in names
        assert "sumu_contracts/schemas/notification-request.v1.schema.json" in names


def test_the_same_inputs_give_the_same_sha256(built_zips: dict[str, Path], tmp_path: Path) -> None:
    # One service is enough: every zip comes out of the same builder.
    again = _build("presence", tmp_path)
    digest = [
        hashlib.sha256(path.read_bytes()).hexdigest() for path in (built_zips["presence"], again)
    ]
    assert digest[0] == digest[1]
