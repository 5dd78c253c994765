"""pytest plugin: ``moto_server`` (one per session, reset per test) and ``aws_env``.

Also registers the hypothesis profiles: ``dev`` (default) and ``ci`` (selected with
``HYPOTHESIS_PROFILE=ci`` or ``CI=true``, more examples, no deadline since CI machines are shared).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sumu_testkit.moto import (
    MotoServer,
    apply_environment,
    aws_environment,
    restore_environment,
    start_moto_server,
)

try:
    from hypothesis import HealthCheck, settings

    settings.register_profile("dev", max_examples=50, deadline=None)
    settings.register_profile(
        "ci",
        max_examples=150,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    default_profile = "ci" if os.environ.get("CI", "").lower() in {"1", "true"} else "dev"
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", default_profile))
except ImportError:  # hypothesis is a dev dependency; the plugin works without it
    pass


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = start_moto_server()
    previous = apply_environment(aws_environment(server.endpoint_url))
    try:
        yield server
    finally:
        restore_environment(previous)
        server.stop()


@pytest.fixture
def aws_env(moto_server: MotoServer) -> Iterator[MotoServer]:
    """A moto server with no resources, and AWS_* variables pointing at it."""
    moto_server.reset()
    previous = apply_environment(aws_environment(moto_server.endpoint_url))
    try:
        yield moto_server
    finally:
        restore_environment(previous)
