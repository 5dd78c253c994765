"""Authorizer cases: the policy API Gateway gets for every kind of token.

A case judges the answer the way API Gateway does (``sumu_local.gateway.authorizer``): a policy
that allows the ``methodArn`` is 200, a Deny 403, ``Exception("Unauthorized")`` 401, anything
else 500. "Refused" is any of 401, 403, 500: DESIGN.md section 4, "Deny or error -> the upgrade is
refused".
"""

from __future__ import annotations

import time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sumu_local.conformance import keys as jose
from sumu_local.conformance.checks import require, require_valid, short
from sumu_local.conformance.environment import AUDIENCES
from sumu_local.conformance.events import METHOD_ARN, authorizer_event
from sumu_local.conformance.report import Case, CaseFailed
from sumu_local.conformance.runtime import Outcome
from sumu_local.conformance.suite import Context, Suite, bounded
from sumu_local.gateway.authorizer import verdict_from_exception, verdict_from_response
from sumu_local.stack.functions import FunctionError

README = "services/authorizer/README.md"


def _status(outcome: Outcome) -> int:
    if outcome.failed:
        return verdict_from_exception(Exception(outcome.error_message)).status
    return verdict_from_response(outcome.result, METHOD_ARN, 1).status


def _claims(context: Context, **extra: Any) -> dict[str, Any]:
    return jose.claims_for(
        context.environment.keys.issuer, AUDIENCES[0], context.unique("user"), **extra
    )


def _token(context: Context, **extra: Any) -> str:
    return jose.sign(context.state["key"], _claims(context, **extra))


def _allowed(context: Context, token: str, *, where: str = "query", what: str) -> dict[str, Any]:
    outcome = context.invoke(authorizer_event(token, where=where))
    require(not outcome.failed, f"{what}: the authorizer failed: {outcome.describe()}")
    require_valid("authorizer-response", outcome.result, "the answer")
    status = _status(outcome)
    require(
        status == 200,
        f"{what}: refused ({status}), expected Allow on {METHOD_ARN}; got {short(outcome.result)}",
    )
    return dict(outcome.result)


def _refused(context: Context, token: str | None, *, what: str, where: str = "query") -> Outcome:
    outcome = context.invoke(authorizer_event(token, where=where))
    if not outcome.failed:
        require_valid("authorizer-response", outcome.result, "the answer")
    status = _status(outcome)
    require(status != 200, f"{what}: allowed, expected a refusal; got {outcome.describe()}")
    return outcome


def _setup(context: Context) -> None:
    key = jose.new_key("conformance-1")
    context.state["key"] = key
    context.environment.keys.mode = "ok"
    context.environment.keys.publish(key)


def valid_token(context: Context) -> None:
    claims = _claims(context)
    answer = _allowed(context, jose.sign(context.state["key"], claims), what="a valid token")
    require(
        answer["principalId"] == claims["sub"],
        f"principalId {answer['principalId']!r} is not the token's sub {claims['sub']!r}",
    )


def header_token(context: Context) -> None:
    _allowed(
        context, _token(context), where="header", what="a valid token in the Authorization header"
    )


def no_token(context: Context) -> None:
    outcome = _refused(context, None, what="no token")
    status = _status(outcome)
    require(
        status in (401, 403),
        f"no token: answered {status} ({outcome.describe()}), expected 401 or 403",
    )


def tampered_signature(context: Context) -> None:
    token = _token(context)
    forged = jose.tampered(token, _claims(context, sub="someone-else"))
    _refused(context, forged, what="a payload changed after signing")
    stranger = jose.new_key("conformance-1")  # same kid, another key
    _refused(
        context,
        jose.sign(stranger, _claims(context)),
        what="a token signed by an unpublished key under a published kid",
    )


def algorithm_confusion(context: Context) -> None:
    key = context.state["key"]
    _refused(context, jose.unsigned_token(_claims(context), key.kid), what='alg "none"')
    _refused(
        context,
        jose.hmac_with_public_key(key, _claims(context)),
        what="HS256 keyed with the RSA public key",
    )


def expiry(context: Context) -> None:
    now = int(time.time())
    _refused(context, _token(context, exp=now - 3600, iat=now - 7200), what="exp an hour ago")
    _refused(context, _token(context, exp=None), what="no exp")


def not_before(context: Context) -> None:
    now = int(time.time())
    _refused(context, _token(context, nbf=now + 3600), what="nbf an hour ahead")
    _allowed(context, _token(context, nbf=now - 3600), what="nbf an hour ago")


def issuer(context: Context) -> None:
    _refused(context, _token(context, iss="https://another-issuer.example/"), what="another iss")
    _refused(
        context,
        _token(context, iss=context.environment.keys.issuer.rstrip("/")),
        what="iss without its trailing slash",
    )
    _refused(context, _token(context, iss=None), what="no iss")


def audience_string(context: Context) -> None:
    _allowed(context, _token(context, aud=AUDIENCES[1]), what=f"aud {AUDIENCES[1]!r}")
    _refused(context, _token(context, aud="another-api"), what='aud "another-api"')


def audience_list(context: Context) -> None:
    _allowed(
        context,
        _token(context, aud=["another-api", AUDIENCES[1]]),
        what="an aud list holding an authorized audience",
    )
    _refused(
        context, _token(context, aud=["another-api", "a-third-api"]), what="an aud list without one"
    )


def missing_subject(context: Context) -> None:
    _refused(context, _token(context, sub=None), what="no sub")
    _refused(context, _token(context, sub=""), what='sub ""')


def key_rotation(context: Context) -> None:
    rotated = jose.new_key("conformance-2")
    context.environment.keys.publish(context.state["key"], rotated)
    _allowed(
        context,
        jose.sign(rotated, _claims(context)),
        what="a token signed by a key published after the first fetch",
    )
    context.environment.keys.publish(rotated)
    context.state["key"] = rotated


def unreachable_keys(context: Context) -> None:
    keys = context.environment.keys
    try:
        for mode in ("error", "hang"):
            keys.mode = mode
            unknown = jose.new_key(f"conformance-{mode}")
            keys.publish(context.state["key"], unknown)  # what it would serve, if it answered
            started = time.monotonic()
            outcome = _refused(
                context,
                jose.sign(unknown, _claims(context)),
                what=f"a new kid while the JWKS endpoint {'fails' if mode == 'error' else 'hangs'}",
            )
            took = time.monotonic() - started
            require(
                not outcome.timed_out and took < 29,
                f"JWKS {mode}: the answer took {took:.1f} s, past API Gateway's 29 s",
            )
    finally:
        keys.mode = "ok"
        keys.publish(context.state["key"])


def unconfigured_fails_closed(context: Context) -> None:
    """Without JWT_ISSUER and JWT_AUTHORIZED_AUDIENCES any token the keys sign would pass,
    whoever issued it and for whichever application: the function must refuse, not allow."""
    variables = {
        name: value
        for name, value in context.variables.items()
        if name
        not in ("JWT_ISSUER", "JWT_AUTHORIZED_AUDIENCES", "JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE")
    }
    try:
        unconfigured = context.start_another(variables)
    except FunctionError:
        return  # refusing to start is failing closed: API Gateway answers 500, nobody gets in
    try:
        token = jose.sign(
            context.state["key"], _claims(context, iss="https://anyone.example/", aud="any-app")
        )
        outcome = unconfigured.invoke(authorizer_event(token))
        status = _status(outcome)
        require(
            status != 200,
            f"with neither JWT_ISSUER nor JWT_AUTHORIZED_AUDIENCES, a token from any issuer for any audience was allowed: {outcome.describe()}",
        )
    finally:
        unconfigured.close()


_VIOLATIONS = (
    "expired",
    "not yet valid",
    "no exp",
    "other iss",
    "no iss",
    "other aud",
    "no aud in list",
    "no sub",
    "sub not a string",
)


def _violate(claims: dict[str, Any], violation: str) -> None:
    now = int(time.time())
    if violation == "expired":
        claims["exp"] = now - 3600
    elif violation == "not yet valid":
        claims["nbf"] = now + 3600
    elif violation == "no exp":
        claims.pop("exp", None)
    elif violation == "other iss":
        claims["iss"] = "https://intruder.example/"
    elif violation == "no iss":
        claims.pop("iss", None)
    elif violation == "other aud":
        claims["aud"] = "intruder-api"
    elif violation == "no aud in list":
        claims["aud"] = ["intruder-api"]
    elif violation == "no sub":
        claims.pop("sub", None)
    elif violation == "sub not a string":
        claims["sub"] = 42


_extra_claims = st.dictionaries(
    st.sampled_from(["scope", "email", "roles", "client_id", "jti"]),
    st.one_of(
        st.text(max_size=10),
        st.integers(),
        st.booleans(),
        st.lists(st.text(max_size=5), max_size=2),
    ),
    max_size=3,
)


def any_rule_broken(context: Context) -> None:
    @bounded(25)
    @given(
        violations=st.sets(st.sampled_from(_VIOLATIONS), min_size=1, max_size=3),
        extra=_extra_claims,
    )
    def check(violations: set[str], extra: dict[str, Any]) -> None:
        claims = {**extra, **_claims(context)}
        for violation in sorted(violations):
            _violate(claims, violation)
        try:
            _refused(
                context,
                jose.sign(context.state["key"], claims),
                what=f"a token with {', '.join(sorted(violations))}",
            )
        except CaseFailed as failure:
            raise CaseFailed(f"{failure} (claims {short(claims)})") from None

    check()


def any_malformed_token(context: Context) -> None:
    segment = st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=40
    )

    @bounded(25)
    @given(
        token=st.one_of(
            st.text(max_size=60),
            st.builds(lambda a, b, c: f"{a}.{b}.{c}", segment, segment, segment),
        )
    )
    def check(token: str) -> None:
        _refused(context, token, what=f"token {token!r}")

    check()


def _case(name: str, rule: str, run: Any) -> Case:
    return Case(f"authorizer.{name}", rule, run)


SUITE = Suite(
    service="authorizer",
    setup=_setup,
    cases=(
        _case(
            "valid-token-allowed",
            f"authorizer-response; {README}: valid token -> Allow, principalId = sub",
            valid_token,
        ),
        _case(
            "header-token-allowed",
            "DESIGN.md 4: token from query authorization or header Authorization",
            header_token,
        ),
        _case(
            "no-token-refused", f"DESIGN.md 4; {README}: no token -> Unauthorized (401)", no_token
        ),
        _case(
            "signature-checked",
            f"{README} step 3: signature verified against the published key",
            tampered_signature,
        ),
        _case(
            "algorithm-confusion-refused",
            f"{README}: JWT_ALGORITHMS asymmetric only; none / HS256 never verify",
            algorithm_confusion,
        ),
        _case("expired-refused", f"{README} step 4: exp required, now < exp + leeway", expiry),
        _case("not-before-enforced", f"{README} step 4: nbf <= now + leeway", not_before),
        _case(
            "issuer-enforced", f"{README} step 4: iss equal to JWT_ISSUER (exact string)", issuer
        ),
        _case(
            "audience-string",
            f"{README}: JWT_AUTHORIZED_AUDIENCES, aud as a string",
            audience_string,
        ),
        _case("audience-list", f"{README}: JWT_AUTHORIZED_AUDIENCES, aud as a list", audience_list),
        _case(
            "missing-subject-refused", f"{README} step 4: sub a non-empty string", missing_subject
        ),
        _case(
            "key-rotation",
            f"{README}: an unknown kid refetches the keys (rotation accepted at once)",
            key_rotation,
        ),
        _case(
            "jwks-unreachable-fails-closed",
            f"{README}: a failed key fetch denies, within API Gateway's timeout",
            unreachable_keys,
        ),
        _case(
            "unconfigured-fails-closed",
            f"{README}: JWT_ISSUER or JWT_AUTHORIZED_AUDIENCES required; without them nobody gets in",
            unconfigured_fails_closed,
        ),
        _case(
            "property-any-broken-rule-denied",
            "issue 15: any token outside the rules is denied (hypothesis)",
            any_rule_broken,
        ),
        _case(
            "property-any-malformed-token-denied",
            "issue 15: any token outside the rules is denied (hypothesis)",
            any_malformed_token,
        ),
    ),
)
