"""Build and check a service's Lambda artifact.

    python tools/lambda_zip.py build services/pusher --out services/pusher/dist
    python tools/lambda_zip.py verify services/pusher/dist/sumu-pusher-0.1.0.zip sumu_pusher.handler

The zip holds the service and its runtime dependencies exactly as uv.lock pins them
(``uv export --package NAME --frozen --no-dev``), installed for Lambda's platform (manylinux
x86_64, Python 3.12). It is reproducible: entries sorted, fixed timestamps and permissions,
hash-checked bytecode (no mtimes), and no install metadata that names the build machine's paths.
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


def _uv() -> str:
    """The uv binary: ``uv run`` exports its own path as $UV; otherwise the one on PATH."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        sys.exit("lambda_zip: uv not found (run `make bootstrap`)")
    return uv


def _run(*args: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"lambda_zip: {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def package_name(package_dir: Path) -> tuple[str, str]:
    project = tomllib.loads((package_dir / "pyproject.toml").read_text())["project"]
    return project["name"], project["version"]


# Install metadata that names this machine or this moment: direct_url.json holds the absolute
# source path, uv_cache.json / uv_build.json a timestamp. Dropped, with their RECORD lines.
_MACHINE_METADATA = ("direct_url.json", "uv_cache.json", "uv_build.json")


def _strip_machine_metadata(target: Path) -> None:
    for dist_info in target.glob("*.dist-info"):
        dropped = [dist_info / name for name in _MACHINE_METADATA if (dist_info / name).exists()]
        if not dropped:
            continue
        prefixes = tuple(f"{dist_info.name}/{path.name}," for path in dropped)
        record = dist_info / "RECORD"
        if record.exists():
            kept = [
                line for line in record.read_text().splitlines() if not line.startswith(prefixes)
            ]
            record.write_text("\n".join(kept) + "\n")
        for path in dropped:
            path.unlink()
    for cache in target.rglob("__pycache__"):
        shutil.rmtree(cache)
    # Console scripts: nothing runs them in Lambda, and their shebang names this machine's Python.
    shutil.rmtree(target / "bin", ignore_errors=True)


def _write_zip(source: Path, zip_path: Path) -> None:
    files = sorted(path for path in source.rglob("*") if path.is_file())
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)


def _with_built_wheels(exported: str, wheel_dir: Path) -> str:
    """Replace the workspace members (``./contracts``) by wheels built from them now.

    Installing the source folder directly lets uv reuse a cached *editable* build of the same
    folder, which would put a .pth pointing at this checkout into the zip.
    """
    lines = []
    for line in exported.splitlines():
        if line.startswith("./"):
            member = ROOT / line.strip()
            name, _ = package_name(member)
            _run(
                _uv(), "build", "--package", name, "--wheel", "--out-dir", str(wheel_dir), "--quiet"
            )
            (wheel,) = wheel_dir.glob(f"{name.replace('-', '_')}-*.whl")
            lines.append(str(wheel))
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def build(package_dir: Path, out_dir: Path) -> Path:
    package_dir = package_dir.resolve()
    name, version = package_name(package_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sumu-lambda-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        exported = _run(
            _uv(),
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
        requirements.write_text(_with_built_wheels(exported, Path(tmp) / "wheels"))
        target = Path(tmp) / "package"
        _run(
            _uv(),
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
        _compile_bytecode(target)
        zip_path = out_dir / f"{name}-{version}.zip"
        _write_zip(target, zip_path)
    return zip_path


def lambda_python() -> str | None:
    """A CPython of Lambda's version that runs here (pyenv's, or one on PATH), or None.

    pyenv's shims answer to ``python3.12`` even when that version is not selected (and then exit
    127), so each candidate is run once before it is trusted.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(pyenv_root.glob(f"versions/{LAMBDA_PYTHON}.*/bin/python{LAMBDA_PYTHON}"))
    on_path = shutil.which(f"python{LAMBDA_PYTHON}")
    for candidate in [*reversed(candidates), *([on_path] if on_path else [])]:
        probe = subprocess.run([str(candidate), "-c", "pass"], capture_output=True, check=False)
        if probe.returncode == 0:
            return str(candidate)
    return None


def _compile_bytecode(target: Path) -> None:
    """Ship .pyc files: /var/task is read-only, so without them every cold start recompiles.

    unchecked-hash pycs carry no source mtime and -d fixes the recorded path to Lambda's, so the
    bytes are the same on every build.
    """
    python = lambda_python()
    if python is None:
        # Without it the zip would differ from machine to machine: refuse rather than guess.
        sys.exit(f"lambda_zip: no python{LAMBDA_PYTHON} on this machine to compile the bytecode")
    _run(
        python,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        "-d",
        "/var/task",
        str(target),
    )


def verify(zip_path: Path, module: str) -> None:
    """Import ``module`` from the unpacked zip in a clean Python 3.12 (-I -S: no site, no env).

    The zip holds wheels for Lambda's Python, so the check needs that interpreter: compiled
    dependencies (pydantic-core) only import on the ABI they were built for.
    """
    python = lambda_python()
    if python is None:
        sys.exit(f"lambda_zip: no python{LAMBDA_PYTHON} on this machine to verify {zip_path}")
    with tempfile.TemporaryDirectory(prefix="sumu-verify-") as tmp:
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(tmp)
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); import importlib; "
            f"handler = importlib.import_module({module!r}).handler; assert callable(handler)"
        )
        env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1"}
        subprocess.run([python, "-I", "-S", "-c", code, tmp], check=True, env=env)


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
