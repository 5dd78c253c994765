"""The monorepo's rules, as tests: packages stand alone and share only sumu_contracts."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES = sorted(
    path for path in (ROOT / "services").iterdir() if (path / "pyproject.toml").exists()
)
PACKAGES = [ROOT / "contracts", *SERVICES, ROOT / "infra" / "local"]
MONOREPO_MODULES = (
    "sumu_authorizer",
    "sumu_connections",
    "sumu_pusher",
    "sumu_presence",
    "sumu_local",
)
IMPORT = re.compile(r"^\s*(?:from|import)\s+(sumu_\w+)", re.MULTILINE)


@pytest.mark.parametrize("service", SERVICES, ids=lambda path: path.name)
def test_a_service_imports_no_other_package_of_the_monorepo(service: Path) -> None:
    own = f"sumu_{service.name}"
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in service.rglob("*.py")
        for module in IMPORT.findall(path.read_text("utf-8"))
        if module in MONOREPO_MODULES and module != own
    ]
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES, ids=lambda path: path.name)
def test_a_service_depends_on_no_other_package_of_the_monorepo(service: Path) -> None:
    project = tomllib.loads((service / "pyproject.toml").read_text("utf-8"))["project"]
    names = {re.split(r"[\[<>=~! ]", dependency)[0] for dependency in project["dependencies"]}
    assert {name for name in names if name.startswith("sumu-")} <= {"sumu-contracts"}


@pytest.mark.parametrize("package", PACKAGES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_package_has_its_version_changelog_readme_tests_and_pipeline(package: Path) -> None:
    project = tomllib.loads((package / "pyproject.toml").read_text("utf-8"))["project"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    assert "## [" in (package / "CHANGELOG.md").read_text("utf-8")
    assert (package / "README.md").stat().st_size > 200
    assert any((package / "tests").rglob("test_*.py"))
    assert "make pipeline PKG=" in (package / "buildspec.yml").read_text("utf-8")


@pytest.mark.parametrize("package", PACKAGES, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_version_is_the_same_in_pyproject_module_and_changelog(package: Path) -> None:
    # __version__ is a literal (importlib.metadata would cost cold-start milliseconds), so this
    # keeps it, and the newest released CHANGELOG heading, with the pyproject's.
    version = tomllib.loads((package / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    [init] = [
        path
        for path in (package / "src").glob("*/__init__.py")
        if path.parent.name.startswith("sumu_")
    ]
    found = re.search(r'^__version__ = "([^"]+)"', init.read_text("utf-8"), re.MULTILINE)
    assert found is not None, f"{init} has no __version__"
    assert found.group(1) == version, f"{init}: {found.group(1)} != pyproject {version}"
    released = re.findall(
        r"^## \[(\d+\.\d+\.\d+)\]", (package / "CHANGELOG.md").read_text("utf-8"), re.MULTILINE
    )
    assert released, "no released version in CHANGELOG.md"
    assert released[0] == version, f"CHANGELOG's newest release {released[0]} != {version}"


JS_PACKAGES = [ROOT / "clients" / "js"]


@pytest.mark.parametrize("package", JS_PACKAGES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_js_package_has_its_version_changelog_readme_tests_and_pipeline(
    package: Path,
) -> None:
    manifest = json.loads((package / "package.json").read_text("utf-8"))
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["type"] == "module"
    assert "dependencies" not in manifest  # no build step, no dependency
    assert f"## [{manifest['version']}]" in (package / "CHANGELOG.md").read_text("utf-8")
    assert (package / "README.md").stat().st_size > 200
    assert any((package / "test").rglob("*.test.js"))
    assert "make pipeline PKG=" in (package / "buildspec.yml").read_text("utf-8")


@pytest.mark.parametrize(
    "package", [*PACKAGES, *JS_PACKAGES], ids=lambda path: str(path.relative_to(ROOT))
)
def test_make_test_runs_every_package_pipeline(package: Path) -> None:
    test_all = (ROOT / "tools" / "test-all").read_text("utf-8")
    assert str(package.relative_to(ROOT)) in test_all.split("for pkg in ", 1)[1].split(";", 1)[0]


def test_the_local_stack_ships_the_js_client_unchanged() -> None:
    # sumu-local serves GET /sumu-client.js from its package data; clients/js/sync-local-copy.
    source = ROOT / "clients" / "js" / "sumu-client.js"
    shipped = ROOT / "infra" / "local" / "src" / "sumu_local" / "demo" / "sumu-client.js"
    assert shipped.read_bytes() == source.read_bytes(), "run clients/js/sync-local-copy"
