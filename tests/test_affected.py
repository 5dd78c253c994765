"""`make affected`: which package pipelines a change must run, in a throwaway git repository."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "affected.py"


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("affected", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


affected = _load_tool().affected

LOCK = """
version = 1

[[package]]
name = "sumu-contracts"
version = "0.1.0"
source = {{ editable = "contracts" }}
dependencies = [{{ name = "fastjsonschema" }}]

[[package]]
name = "sumu-pusher"
version = "0.1.0"
source = {{ editable = "services/pusher" }}
dependencies = [{{ name = "sumu-contracts" }}, {{ name = "aiobotocore" }}]

[[package]]
name = "sumu-presence"
version = "0.1.0"
source = {{ editable = "services/presence" }}
dependencies = [{{ name = "sumu-contracts" }}, {{ name = "boto3" }}]

[[package]]
name = "aiobotocore"
version = "{aiobotocore}"

[[package]]
name = "boto3"
version = "1.0.0"

[[package]]
name = "fastjsonschema"
version = "2.0.0"

[[package]]
name = "pytest"
version = "{pytest}"
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.email", "ci@example.invalid")
    _git(tmp_path, "config", "user.name", "ci")
    for folder in ("contracts", "services/pusher", "services/presence", "infra/local", "docs"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "README.md").write_text("v1\n")
    (tmp_path / "uv.lock").write_text(LOCK.format(aiobotocore="2.0.0", pytest="8.0.0"))
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "base")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _change(repo: Path, path: str, text: str = "v2\n") -> None:
    (repo / path).write_text(text)
    _git(repo, "commit", "-q", "-am", f"change {path}")


def test_a_service_change_runs_it_and_what_runs_it(repo: Path) -> None:
    _change(repo, "services/pusher/README.md")
    assert affected("HEAD~1..HEAD") == ["services/pusher", "infra/local"]


def test_a_conformance_kit_change_runs_every_service_it_checks(repo: Path) -> None:
    # GIVEN a change to sumu-local's code, where the conformance kit lives
    (repo / "infra/local/src/sumu_local").mkdir(parents=True)
    (repo / "infra/local/src/sumu_local/kit.py").write_text("v1\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "kit")
    _change(repo, "infra/local/src/sumu_local/kit.py")
    # THEN the services' pipelines, which run the kit against their service, run too
    assert affected("HEAD~1..HEAD") == [
        "services/authorizer",
        "services/connections",
        "services/pusher",
        "services/presence",
        "infra/local",
    ]


def test_a_javascript_client_change_runs_it_and_the_stack_that_serves_it(repo: Path) -> None:
    (repo / "clients/js").mkdir(parents=True)
    (repo / "clients/js/sumu-client.js").write_text("v1\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "client")
    _change(repo, "clients/js/sumu-client.js")
    assert affected("HEAD~1..HEAD") == ["infra/local", "clients/js"]


def test_a_change_to_sumu_local_docs_runs_only_sumu_local(repo: Path) -> None:
    _change(repo, "infra/local/README.md")
    assert affected("HEAD~1..HEAD") == ["infra/local"]


def test_a_contract_change_runs_every_package(repo: Path) -> None:
    _change(repo, "contracts/README.md")
    assert len(affected("HEAD~1..HEAD")) == 8


def test_a_change_outside_every_package_runs_nothing(repo: Path) -> None:
    _change(repo, "docs/README.md")
    assert affected("HEAD~1..HEAD") == []


def test_a_lock_bump_runs_only_the_packages_whose_runtime_closure_moved(repo: Path) -> None:
    # GIVEN a lock change that bumps the pusher's aiobotocore and a dev tool
    _change(repo, "uv.lock", LOCK.format(aiobotocore="2.1.0", pytest="8.1.0"))
    # THEN the pusher runs; presence, whose closure did not move, does not (this lock holds no
    # sumu-local, whose closure would include the pusher)
    assert affected("HEAD~1..HEAD") == ["services/pusher"]


def test_a_dev_tool_bump_alone_runs_nothing(repo: Path) -> None:
    _change(repo, "uv.lock", LOCK.format(aiobotocore="2.0.0", pytest="9.0.0"))
    assert affected("HEAD~1..HEAD") == []
