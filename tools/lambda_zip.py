"""Build and check a service's Lambda artifact.

    python tools/lambda_zip.py build services/pusher --out services/pusher/dist
    python tools/lambda_zip.py verify services/pusher/dist/sumu-pusher-0.1.0.zip sumu_pusher.handler

The zip holds the service and its runtime dependencies exactly as uv.lock pins them
(``uv export --package NAME --frozen --no-dev``), installed for Lambda's platform (manylinux
x86_64, Python 3.12). It is reproducible: entries sorted, fixed timestamps and permissions,
no bytecode, and no install metadata that names the build machine's paths.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_PYTHON = "3.12"
LAMBDA_PLATFORM = "x86_64-manylinux2014"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _run(*args: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True)
    return result.stdout


def package_name(package_dir: Path) -> tuple[str, str]:
    project = tomllib.loads((package_dir / "pyproject.toml").read_text())["project"]
    return project["name"], project["version"]


def _strip_machine_metadata(target: Path) -> None:
    """Drop direct_url.json (it holds the absolute source path) and its RECORD line."""
    for direct_url in target.glob("*.dist-info/direct_url.json"):
        record = direct_url.parent / "RECORD"
        if record.exists():
            lines = [
                line
                for line in record.read_text().splitlines()
                if not line.startswith(f"{direct_url.parent.name}/direct_url.json,")
            ]
            record.write_text("\n".join(lines) + "\n")
        direct_url.unlink()
    for cache in target.rglob("__pycache__"):
        shutil.rmtree(cache)


def _write_zip(source: Path, zip_path: Path) -> None:
    files = sorted(path for path in source.rglob("*") if path.is_file())
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)


def build(package_dir: Path, out_dir: Path) -> Path:
    package_dir = package_dir.resolve()
    name, version = package_name(package_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sumu-lambda-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        exported = _run(
            "python3",
            "-m",
            "uv",
            "export",
            "--package",
            name,
            "--frozen",
            "--no-dev",
            "--no-editable",
            "--no-hashes",
            "--no-header",
            "--no-annotate",
        )
        requirements.write_text(exported)
        target = Path(tmp) / "package"
        _run(
            "python3",
            "-m",
            "uv",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--target",
            str(target),
            "--python-platform",
            LAMBDA_PLATFORM,
            "--python-version",
            LAMBDA_PYTHON,
            "-r",
            str(requirements),
        )
        _strip_machine_metadata(target)
        zip_path = out_dir / f"{name}-{version}.zip"
        _write_zip(target, zip_path)
    return zip_path


def verify(zip_path: Path, module: str) -> None:
    """Import ``module`` from the unpacked zip in a clean interpreter (-I: no site, no env)."""
    with tempfile.TemporaryDirectory(prefix="sumu-verify-") as tmp:
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(tmp)
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); import importlib; "
            f"m = importlib.import_module({module!r}); assert callable(m.handler); "
            "assert all(p.startswith(sys.argv[1]) or 'site-packages' not in p for p in "
            "[getattr(mod, '__file__', '') or '' for mod in sys.modules.values()])"
        )
        env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1"}
        subprocess.run([sys.executable, "-I", "-S", "-c", code, tmp], check=True, env=env)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build")
    build_cmd.add_argument("package_dir", type=Path)
    build_cmd.add_argument("--out", type=Path, required=True)
    verify_cmd = commands.add_parser("verify")
    verify_cmd.add_argument("zip", type=Path)
    verify_cmd.add_argument("module")
    args = parser.parse_args()
    if args.command == "build":
        zip_path = build(args.package_dir, args.out)
        print(zip_path)
        print(f"sha256 {sha256(zip_path)}", file=sys.stderr)
    else:
        verify(args.zip, args.module)
        print(f"verified: {args.module} imports from {args.zip}", file=sys.stderr)


if __name__ == "__main__":
    main()
