"""A kit that passes everything proves nothing: each deliberately broken implementation (in
``broken/``, the built-in service with one rule removed) must fail the case written for that
rule, and only cases of that kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from .kit import broken_config, run_kit

# module, service, the case that must fail, every case allowed to fail with it (same rule)
BROKEN_IMPLEMENTATIONS = [
    pytest.param(
        "broken_authorizer_skips_nbf",
        "authorizer",
        "authorizer.not-before-enforced",
        {"authorizer.not-before-enforced", "authorizer.property-any-broken-rule-denied"},
        id="authorizer-skips-nbf",
    ),
    pytest.param(
        "broken_authorizer_skips_iss",
        "authorizer",
        "authorizer.issuer-enforced",
        {"authorizer.issuer-enforced", "authorizer.property-any-broken-rule-denied"},
        id="authorizer-skips-iss",
    ),
    pytest.param(
        "broken_pusher_swallows_500",
        "pusher",
        "pusher.exhausted-500-reported",
        {"pusher.retry-500", "pusher.exhausted-500-reported", "pusher.sns-incomplete-raises"},
        id="pusher-swallows-500",
    ),
    pytest.param(
        "broken_pusher_ignores_exclude",
        "pusher",
        "pusher.exclude-applies-to-selected",
        {"pusher.exclude-applies-to-selected", "pusher.property-any-valid-request-exact"},
        id="pusher-ignores-exclude-for-selected",
    ),
    pytest.param(
        "broken_presence_eventual_read",
        "presence",
        "presence.offline-last-device",
        {
            "presence.offline-last-device",
            "presence.no-offline-while-connected",
            "presence.two-devices-one-batch",
            "presence.ttl-expiry-offline",
            "presence.read-failure-reported",
            "presence.property-multi-device-churn",
        },
        id="presence-eventually-consistent-read",
    ),
]


@pytest.mark.parametrize(("module", "service", "must_fail", "may_fail"), BROKEN_IMPLEMENTATIONS)
def test_broken_implementation_fails_its_rule_only(
    tmp_path: Path, module: str, service: str, must_fail: str, may_fail: set[str]
) -> None:
    # GIVEN the built-in service with one rule removed, named by [functions.NAME] in sumu.toml
    # WHEN the kit runs that service's suite against it
    run = run_kit(service, tmp_path, config=broken_config(service, module))

    # THEN it exits 1, the rule's own case fails, and no case of another kind does
    assert run.exit_status == 1, run.output
    assert must_fail in run.failed(), run.output
    assert run.failed() <= may_fail, run.output
    assert f"FAIL {must_fail}" in run.output
    assert module in run.report["implementations"][service]
