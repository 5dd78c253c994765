"""``sumu conformance all`` passes on the built-in services (CI runs this), and what it writes
for a team's CI: the text lines, the JSON report, JUnit XML."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

from .kit import run_kit


def test_all_passes_on_the_builtin_services(tmp_path: Path) -> None:
    run = run_kit("all", tmp_path, junit=True)

    assert run.exit_status == 0, run.output
    statuses = run.statuses()
    assert set(statuses.values()) == {"PASS"}, run.output
    services = {case.split(".")[0] for case in statuses}
    assert services == {"authorizer", "connections", "pusher", "presence"}
    # one line per case, each naming the rule it enforces, and a summary
    for case in statuses:
        assert re.search(rf"^PASS {re.escape(case)}  \[.+\]$", run.output, re.MULTILINE), case
    assert re.search(
        r"^\d+ cases: \d+ passed, 0 failed, 0 skipped in [\d.]+ s -> OK$", run.output, re.MULTILINE
    )
    assert run.report["passed"] is True
    junit = ElementTree.parse(tmp_path / "report.xml").getroot()  # noqa: S314 - the kit wrote it
    assert junit.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in junit}
    assert set(suites) == {f"conformance.{name}" for name in services}
    assert sum(int(suite.get("tests", "0")) for suite in suites.values()) == len(statuses)
    assert all(suite.get("failures") == "0" for suite in suites.values())


def test_a_function_that_does_not_start_fails_every_case(tmp_path: Path) -> None:
    run = run_kit("presence", tmp_path, config='[handlers]\npresence = "no_such_module.handler"\n')

    assert run.exit_status == 1
    assert run.failed() == set(run.statuses()), run.output
    assert "did not start" in run.output
