"""Runs ``sumu conformance`` the way a team's CI does: a process of its own, a sumu.toml."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BROKEN = Path(__file__).with_name("broken")
KIT_TIMEOUT_SECONDS = 280


@dataclass(frozen=True)
class KitRun:
    exit_status: int
    output: str
    report: dict[str, Any]

    def statuses(self) -> dict[str, str]:
        return {case["case"]: case["status"] for case in self.report["cases"]}

    def failed(self) -> set[str]:
        return {case for case, status in self.statuses().items() if status == "FAIL"}


def run_kit(
    service: str, tmp_path: Path, *, config: str | None = None, junit: bool = False
) -> KitRun:
    arguments = [sys.executable, "-m", "sumu_local.cli", "conformance", service]
    if config is not None:
        config_path = tmp_path / "sumu.toml"
        config_path.write_text(config, "utf-8")
        arguments += ["--config", str(config_path)]
    report_path = tmp_path / "report.json"
    arguments += ["--json", str(report_path), "--log", str(tmp_path / "functions.log")]
    if junit:
        arguments += ["--junit", str(tmp_path / "report.xml")]
    completed = subprocess.run(
        arguments,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=KIT_TIMEOUT_SECONDS,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert report_path.exists(), output
    return KitRun(completed.returncode, output, json.loads(report_path.read_text("utf-8")))


def broken_config(service: str, module: str) -> str:
    return f'[functions.{service}]\nhandler = "{module}.handler"\ncode = "{BROKEN}"\n'
