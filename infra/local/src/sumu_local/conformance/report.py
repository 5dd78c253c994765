"""Case results and the three ways they are reported: one line per case, JSON, JUnit XML."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, TextIO
from xml.etree import ElementTree

Status = Literal["PASS", "FAIL", "SKIP"]


class CaseFailed(AssertionError):
    """A case saw an effect its rule forbids; the message is what was observed."""


class CaseSkipped(Exception):
    """A case cannot run here; the message says why."""


@dataclass(frozen=True)
class Case:
    """One rule checked from outside: ``run`` drives the function and raises CaseFailed."""

    id: str  # "<service>.<name>", stable: teams grep and baseline on it
    rule: str  # the contract or README rule it enforces
    run: Callable[[Any], None]


@dataclass(frozen=True)
class CaseResult:
    service: str
    case: str
    rule: str
    status: Status
    observation: str
    seconds: float

    def line(self) -> str:
        """One line per case, whatever the observation holds (greppable, diffable in CI logs)."""
        text = f"{self.status} {self.case}  [{self.rule}]"
        if self.status != "PASS" and self.observation:
            text += "  " + ("observed" if self.status == "FAIL" else "why") + ": "
            text += " ".join(self.observation.split())
        return text


def summary(results: Sequence[CaseResult], seconds: float) -> str:
    counts = {
        status: sum(r.status == status for r in results) for status in ("PASS", "FAIL", "SKIP")
    }
    verdict = "FAILED" if counts["FAIL"] else "OK"
    return (
        f"{len(results)} cases: {counts['PASS']} passed, {counts['FAIL']} failed, "
        f"{counts['SKIP']} skipped in {seconds:.1f} s -> {verdict}"
    )


def print_result(result: CaseResult, out: TextIO) -> None:
    print(result.line(), file=out, flush=True)


def write_json(
    path: Path, results: Sequence[CaseResult], seconds: float, implementations: dict[str, str]
) -> None:
    document = {
        "implementations": implementations,
        "seconds": round(seconds, 3),
        "passed": all(result.status != "FAIL" for result in results),
        "cases": [asdict(result) for result in results],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", "utf-8")


def write_junit(path: Path, results: Sequence[CaseResult], seconds: float) -> None:
    """JUnit XML as CI servers read it: one testsuite per service, one testcase per case."""
    root = ElementTree.Element("testsuites", name="sumu conformance", time=f"{seconds:.3f}")
    for service in dict.fromkeys(result.service for result in results):
        mine = [result for result in results if result.service == service]
        suite = ElementTree.SubElement(
            root,
            "testsuite",
            name=f"conformance.{service}",
            tests=str(len(mine)),
            failures=str(sum(r.status == "FAIL" for r in mine)),
            skipped=str(sum(r.status == "SKIP" for r in mine)),
            time=f"{sum(r.seconds for r in mine):.3f}",
        )
        for result in mine:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"conformance.{service}",
                name=result.case,
                time=f"{result.seconds:.3f}",
            )
            ElementTree.SubElement(case, "system-out").text = result.rule
            if result.status == "FAIL":
                ElementTree.SubElement(
                    case, "failure", message=result.observation[:500]
                ).text = f"{result.rule}\n{result.observation}"
            elif result.status == "SKIP":
                ElementTree.SubElement(case, "skipped", message=result.observation[:500])
    ElementTree.indent(root)
    path.write_bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")
