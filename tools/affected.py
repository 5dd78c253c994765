"""Which packages' pipelines a git range must run.

    python tools/affected.py origin/main...HEAD      (or: make affected RANGE=...)

A package is affected by a change to its own folder, to contracts/, tools/ or the root
pyproject.toml (shared by everyone), to what it runs or ships (sumu-local: the services and the
JS client; a service: the conformance kit that checks it), or to uv.lock when the pinned
versions of its own runtime dependency closure changed (compared from the lock file at both ends
of the range, so a bump of a dev tool or of another package's dependency does not rebuild it).
Prints one package folder per line.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from typing import Any

PACKAGES = {
    "contracts": "sumu-contracts",
    "services/authorizer": "sumu-authorizer",
    "services/connections": "sumu-connections",
    "services/pusher": "sumu-pusher",
    "services/presence": "sumu-presence",
    "infra/local": "sumu-local",
    "infra/terraform": None,
    "clients/js": None,
}
# Everyone validates against the contracts and is built and checked by the same tools and
# shared ruff / mypy settings.
SHARED = ("contracts/", "tools/", "pyproject.toml")
# Packages that run other packages' code: sumu-local serves the four services' handlers, and
# each service's pipeline runs sumu-local's conformance kit against it. (The Terraform check
# applies a placeholder package, not the services' zips, so it runs no service code.)
_CONFORMANCE_KIT = "infra/local/src/sumu_local/"
RUNS = {
    # ...and ships a copy of the JavaScript client at /sumu-client.js (a test compares the two).
    "infra/local": ("services/", "clients/js/"),
    "services/authorizer": (_CONFORMANCE_KIT,),
    "services/connections": (_CONFORMANCE_KIT,),
    "services/pusher": (_CONFORMANCE_KIT,),
    "services/presence": (_CONFORMANCE_KIT,),
}


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def _lock_at(revision: str) -> dict[str, Any]:
    try:
        return tomllib.loads(_git("show", f"{revision}:uv.lock"))
    except subprocess.CalledProcessError:
        return {"package": []}


def runtime_closure(lock: dict[str, Any], name: str) -> set[tuple[str, str]]:
    """(name, version-or-source) of ``name`` and everything it needs at run time."""
    packages = {package["name"]: package for package in lock.get("package", [])}
    seen: set[tuple[str, str]] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        package = packages.get(current)
        if package is None:
            continue
        pin = (current, str(package.get("version", package.get("source"))))
        if pin in seen:
            continue
        seen.add(pin)
        dependencies = list(package.get("dependencies", []))
        for extra in package.get("optional-dependencies", {}).values():
            dependencies.extend(extra)
        pending.extend(dependency["name"] for dependency in dependencies)
    return seen


def affected(revision_range: str) -> list[str]:
    changed = _git("diff", "--name-only", revision_range).split()
    base, head = _range_ends(revision_range)
    lock_changed = "uv.lock" in changed
    old_lock, new_lock = (_lock_at(base), _lock_at(head)) if lock_changed else ({}, {})
    result = []
    for folder, name in PACKAGES.items():
        own = any(path.startswith((f"{folder}/", *RUNS.get(folder, ()))) for path in changed)
        shared = any(path.startswith(SHARED) for path in changed)
        locked = bool(
            lock_changed
            and name
            and runtime_closure(old_lock, name) != runtime_closure(new_lock, name)
        )
        if own or shared or locked:
            result.append(folder)
    return result


def _range_ends(revision_range: str) -> tuple[str, str]:
    if "..." in revision_range:
        left, right = revision_range.split("...", 1)
        right = right or "HEAD"
        return _git("merge-base", left, right).strip(), right
    if ".." in revision_range:
        left, right = revision_range.split("..", 1)
        return left, right or "HEAD"
    return revision_range, "HEAD"


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: affected.py GIT_RANGE  (e.g. origin/main...HEAD)")
    for folder in affected(sys.argv[1]):
        print(folder)


if __name__ == "__main__":
    main()
