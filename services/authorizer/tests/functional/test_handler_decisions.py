"""The handler against a real JWKS server on 127.0.0.1: every Allow and Deny rule of the issue."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import pytest
from joserfc.jwk import RSAKey
from sumu_authorizer.settings import SettingsError
from sumu_contracts import validate

from ..conftest import (
    AUDIENCE,
    METHOD_ARN,
    Configure,
    JwksServer,
    Mint,
    SigningKey,
    b64url,
    connect_event,
    sign_raw,
)


def effect(response: dict[str, object]) -> str:
    validate("authorizer-response", response)
    statements = response["policyDocument"]["Statement"]  # type: ignore[index]
    assert len(statements) == 1
    return str(statements[0]["Effect"])


def assert_unauthorized(call: object) -> None:
    with pytest.raises(Exception) as raised:  # noqa: PT011 -- the exact type is what API Gateway needs
        call()  # type: ignore[operator]
    assert type(raised.value) is Exception
    assert str(raised.value) == "Unauthorized"


# --- Allow -------------------------------------------------------------------------------------


@pytest.mark.parametrize("key_name", ["rsa", "ec", "ec384", "ed25519"])
def test_a_valid_token_of_each_key_type_is_allowed(
    configure: Configure, mint: Mint, key_name: str
) -> None:
    # GIVEN the default configuration and a token signed by a published key
    handler = configure()
    # WHEN the $connect carries it in the authorization query parameter
    response = handler(connect_event(mint(key_name)), None)
    # THEN the policy allows the connect route for the token's subject
    validate("authorizer-response", response)
    assert response == {
        "principalId": "alice",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [METHOD_ARN]}
            ],
        },
        "context": {"sub": "alice"},
    }


def test_ps256_is_allowed_with_an_rsa_key(configure: Configure, mint: Mint) -> None:
    handler = configure()
    assert effect(handler(connect_event(mint("rsa", header={"alg": "PS256"})), None)) == "Allow"


@pytest.mark.parametrize(
    ("via", "name", "prefix"),
    [
        ("header", "Authorization", "Bearer "),
        ("header", "authorization", ""),
        ("header", "AUTHORIZATION", "bearer "),
        ("query", "authorization", "Bearer "),
        ("query", "Authorization", ""),
    ],
)
def test_the_token_is_found_in_query_or_header_with_an_optional_bearer_prefix(
    configure: Configure, mint: Mint, via: str, name: str, prefix: str
) -> None:
    handler = configure()
    response = handler(connect_event(prefix + mint(), via=via, name=name), None)
    assert effect(response) == "Allow"


def test_the_query_parameter_wins_over_the_header(configure: Configure, mint: Mint) -> None:
    handler = configure()
    event = connect_event(mint(sub="from-query"))
    event["headers"] = {"Authorization": mint(sub="from-header")}
    assert handler(event, None)["principalId"] == "from-query"


@pytest.mark.parametrize("key_name", ["rsa", "ec", "ed25519"])
def test_keys_from_a_firebase_x509_certificate_map_verify_tokens(
    configure: Configure, mint: Mint, jwks_server: JwksServer, key_name: str
) -> None:
    handler = configure(JWT_ISSUER_JWKS_URI=jwks_server.x509_url)
    assert effect(handler(connect_event(mint(key_name)), None)) == "Allow"
    assert jwks_server.count("/x509") == 1


def test_the_jwks_uri_is_discovered_from_the_issuer_when_only_the_issuer_is_set(
    configure: Configure, mint: Mint, jwks_server: JwksServer
) -> None:
    handler = configure(JWT_ISSUER_JWKS_URI=None)
    assert effect(handler(connect_event(mint()), None)) == "Allow"
    assert effect(handler(connect_event(mint("ec")), None)) == "Allow"
    assert jwks_server.count("/.well-known/openid-configuration") == 1
    assert jwks_server.count("/.well-known/jwks.json") == 1


def test_discovery_is_skipped_when_the_jwks_uri_is_set(
    configure: Configure, mint: Mint, jwks_server: JwksServer
) -> None:
    handler = configure()  # both JWT_ISSUER and JWT_ISSUER_JWKS_URI
    assert effect(handler(connect_event(mint()), None)) == "Allow"
    assert jwks_server.count("/.well-known/openid-configuration") == 0


def test_an_openid_configuration_naming_another_issuer_yields_no_keys(
    configure: Configure, mint: Mint, jwks_server: JwksServer
) -> None:
    jwks_server.openid_issuer = "https://impostor.example"
    handler = configure(JWT_ISSUER_JWKS_URI=None)
    assert effect(handler(connect_event(mint()), None)) == "Deny"
    assert jwks_server.count("/.well-known/jwks.json") == 0


def test_authorized_apis_replace_the_method_arn_in_the_allow_policy(
    configure: Configure, mint: Mint
) -> None:
    apis = "arn:aws:execute-api:us-east-1:1:api1/mvp/*,arn:aws:execute-api:us-east-1:1:api2/mvp/$connect"
    handler = configure(AUTHORIZED_APIS=apis)
    response = handler(connect_event(mint()), None)
    assert response["policyDocument"]["Statement"][0]["Resource"] == apis.split(",")


def test_context_claims_copies_only_primitive_claims(configure: Configure, mint: Mint) -> None:
    handler = configure(
        JWT_CONTEXT_CLAIMS="email, email_verified,auth_time,score,groups,profile,absent,principalId"
    )
    token = mint(
        email="a@example.com",
        email_verified=True,
        auth_time=1700000000,
        score=0.5,
        groups=["admin"],
        profile={"x": 1},
        principalId="mallory",
    )
    response = handler(connect_event(token), None)
    validate("authorizer-response", response)
    assert response["context"] == {
        "sub": "alice",
        "email": "a@example.com",
        "email_verified": True,
        "auth_time": 1700000000,
        "score": 0.5,
    }


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"aud": [AUDIENCE, "other"]}, "Allow"),
        ({"aud": ["other", "another"]}, "Deny"),
        ({"aud": "other"}, "Deny"),
        ({"aud": None}, "Deny"),
        ({"aud": None, "client_id": AUDIENCE}, "Allow"),  # a Cognito access token
        ({"aud": None, "client_id": "other"}, "Deny"),
        ({"aud": [], "client_id": AUDIENCE}, "Deny"),  # client_id only stands in for a missing aud
        ({"aud": 5}, "Deny"),
    ],
)
def test_audience_rules(
    configure: Configure, mint: Mint, claims: dict[str, object], expected: str
) -> None:
    handler = configure()
    assert effect(handler(connect_event(mint(**claims)), None)) == expected


@pytest.mark.parametrize("audiences", ["", None])
def test_no_authorized_audiences_accepts_any_audience(
    configure: Configure, mint: Mint, audiences: str | None
) -> None:
    handler = configure(JWT_AUTHORIZED_AUDIENCES=audiences)
    assert effect(handler(connect_event(mint(aud="anyone")), None)) == "Allow"
    assert effect(handler(connect_event(mint(aud=None)), None)) == "Allow"


# --- Deny: claims ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FromNow:
    """A NumericDate relative to the moment the test runs, not to collection time: a suite that
    runs long (or late in a bigger run) must not age an "expired 30 s ago" case past the leeway."""

    seconds: float

    def resolve(self) -> float:
        return int(time.time()) + self.seconds


class _Now:
    def __add__(self, seconds: float) -> FromNow:
        return FromNow(seconds)

    def __sub__(self, seconds: float) -> FromNow:
        return FromNow(-seconds)


NOW = _Now()


@pytest.mark.parametrize(
    ("env", "claims", "expected"),
    [
        ({}, {"exp": NOW - 120}, "Deny"),
        ({}, {"exp": NOW - 30}, "Allow"),  # within the default 60 s leeway
        ({"JWT_LEEWAY_SECONDS": "0"}, {"exp": NOW - 30}, "Deny"),
        ({"JWT_VERIFY_EXPIRATION": "false"}, {"exp": NOW - 86400}, "Allow"),
        ({"JWT_VERIFY_EXPIRATION": "false"}, {"exp": None}, "Allow"),
        ({}, {"exp": None}, "Deny"),
        ({}, {"exp": "tomorrow"}, "Deny"),
        ({}, {"exp": True}, "Deny"),
        ({}, {"exp": NOW + 600.5}, "Allow"),  # NumericDate may be fractional (RFC 7519 2)
        ({}, {"exp": 10**30}, "Deny"),
        ({}, {"exp": 1e300}, "Deny"),
        ({}, {"nbf": NOW + 600}, "Deny"),
        ({}, {"nbf": NOW + 30}, "Allow"),
        ({"JWT_LEEWAY_SECONDS": "0"}, {"nbf": NOW + 30}, "Deny"),
        ({}, {"nbf": "soon"}, "Deny"),
        ({}, {"iat": NOW + 600}, "Deny"),
        ({}, {"iat": NOW + 30}, "Allow"),
        ({}, {"iss": "https://other.example"}, "Deny"),
        ({}, {"iss": None}, "Deny"),
        ({"JWT_ISSUER": None}, {"iss": "https://other.example"}, "Allow"),
        ({}, {"sub": None}, "Deny"),
        ({}, {"sub": ""}, "Deny"),
        ({}, {"sub": 42}, "Deny"),
    ],
)
def test_claim_rules(
    configure: Configure,
    mint: Mint,
    env: dict[str, str | None],
    claims: dict[str, object],
    expected: str,
) -> None:
    handler = configure(**env)
    claims = {name: v.resolve() if isinstance(v, FromNow) else v for name, v in claims.items()}
    assert effect(handler(connect_event(mint(**claims)), None)) == expected


# --- Deny: signature and algorithm ----------------------------------------------------------------


def test_a_token_signed_by_an_unpublished_key_with_a_published_kid_is_denied(
    configure: Configure, jwks_server: JwksServer
) -> None:
    handler = configure()
    impostor = RSAKey.generate_key(2048)
    claims = {
        "sub": "mallory",
        "iss": jwks_server.base_url,
        "aud": AUDIENCE,
        "exp": int(time.time()) + 600,
    }
    token = sign_raw({"alg": "RS256", "kid": "rsa-1"}, claims, impostor)
    assert effect(handler(connect_event(token), None)) == "Deny"


def test_a_tampered_payload_is_denied(configure: Configure, mint: Mint) -> None:
    handler = configure()
    header, _, signature = mint().split(".")
    forged = b64url(
        json.dumps({"sub": "admin", "aud": AUDIENCE, "exp": int(time.time()) + 600}).encode()
    )
    assert effect(handler(connect_event(f"{header}.{forged}.{signature}"), None)) == "Deny"


def unsigned_token(
    header: dict[str, object], claims: dict[str, object], signature: bytes = b""
) -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}.{b64url(signature) or 'AA'}"


def test_alg_none_is_denied(configure: Configure, jwks_server: JwksServer) -> None:
    handler = configure()
    claims = {
        "sub": "mallory",
        "iss": jwks_server.base_url,
        "aud": AUDIENCE,
        "exp": int(time.time()) + 600,
    }
    for alg in ("none", "None", "NONE"):
        assert (
            effect(
                handler(connect_event(unsigned_token({"alg": alg, "kid": "rsa-1"}, claims)), None)
            )
            == "Deny"
        )


def test_hmac_signed_with_the_published_public_key_is_denied(
    configure: Configure, keys: dict[str, object], jwks_server: JwksServer
) -> None:
    # The classic key-confusion attack: HS256 keyed with the RSA public key everyone can read.
    handler = configure()
    public_pem = keys["rsa"].key.as_pem(private=False)  # type: ignore[attr-defined]
    claims = {
        "sub": "mallory",
        "iss": jwks_server.base_url,
        "aud": AUDIENCE,
        "exp": int(time.time()) + 600,
    }
    for secret in (public_pem, json.dumps(keys["rsa"].key.as_dict(private=False)).encode()):  # type: ignore[attr-defined]
        for alg, digest in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
            signing_input = unsigned_token({"alg": alg, "kid": "rsa-1"}, claims).rsplit(".", 1)[0]
            signature = hmac.new(secret, signing_input.encode(), digest).digest()
            token = f"{signing_input}.{b64url(signature)}"
            assert effect(handler(connect_event(token), None)) == "Deny"


def test_an_algorithm_outside_the_allow_list_is_denied(configure: Configure, mint: Mint) -> None:
    handler = configure(JWT_ALGORITHMS="ES256")
    assert effect(handler(connect_event(mint("rsa")), None)) == "Deny"
    assert effect(handler(connect_event(mint("ec")), None)) == "Allow"


def test_an_algorithm_that_does_not_fit_the_key_is_denied(
    configure: Configure, mint: Mint, keys: dict[str, object]
) -> None:
    # ES384 claimed for the P-256 key, RS256 claimed for the EC key: joserfc's check_key refuses.
    handler = configure()
    ec_token = mint("ec")
    header = json.loads(base64.urlsafe_b64decode(ec_token.split(".")[0] + "=="))
    for alg in ("ES384", "RS256", "EdDSA"):
        forged = (
            b64url(json.dumps(header | {"alg": alg}).encode()) + ec_token[ec_token.index(".") :]
        )
        assert effect(handler(connect_event(forged), None)) == "Deny"


@pytest.mark.parametrize("algorithms", ["HS256", "none", "RS256,HS512", "RS256,bogus"])
def test_hmac_none_or_unknown_algorithms_are_a_configuration_error(
    configure: Configure, mint: Mint, algorithms: str
) -> None:
    handler = configure(JWT_ALGORITHMS=algorithms)
    with pytest.raises(SettingsError, match="JWT_ALGORITHMS"):
        handler(connect_event(mint()), None)


def test_a_crit_header_is_denied(configure: Configure, mint: Mint) -> None:
    handler = configure()
    assert effect(handler(connect_event(mint(header={"crit": ["exp"]})), None)) == "Deny"


def test_a_kid_not_in_the_jwks_is_denied(configure: Configure, mint: Mint) -> None:
    handler = configure()
    assert effect(handler(connect_event(mint(header={"kid": "unknown"})), None)) == "Deny"


def test_a_token_without_kid_is_tried_against_every_key(configure: Configure, mint: Mint) -> None:
    handler = configure()
    assert effect(handler(connect_event(mint("ec", header={"kid": None})), None)) == "Allow"


# --- Deny fast: malformed input, no key fetch -------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "x" * 8193,
        "abc",
        "a.b",
        "a.b.c.d",
        "a..c",
        "!!!.???.***",
        "eyJhbGciOiJSUzI1NiJ9.e30.===",
        f"{b64url(b'[1,2]')}.e30.AA",
        f"{b64url(b'not json')}.e30.AA",
        f"{b64url(b'{}')}.e30.AA",
        f"{b64url(json.dumps({'alg': 'RS256', 'kid': 7}).encode())}.e30.AA",
        f"{b64url(json.dumps({'alg': 'RS256', 'kid': 'k' * 300}).encode())}.e30.AA",
        b64url(b'{"alg": NaN}') + ".e30.AA",
        "Bearer Bearer x.y.z",
    ],
)
def test_malformed_tokens_are_denied_without_fetching_keys(
    configure: Configure, jwks_server: JwksServer, token: str
) -> None:
    handler = configure()  # fetches the keys once, at init
    fetched_at_init = list(jwks_server.requests)
    assert effect(handler(connect_event(token), None)) == "Deny"
    assert jwks_server.requests == fetched_at_init


def test_an_oversized_but_otherwise_valid_token_is_denied(
    configure: Configure, mint: Mint, jwks_server: JwksServer
) -> None:
    handler = configure()
    fetched_at_init = list(jwks_server.requests)
    token = mint(padding="p" * 8192)
    assert effect(handler(connect_event(token), None)) == "Deny"
    assert jwks_server.requests == fetched_at_init


def test_a_non_string_credential_is_denied(configure: Configure) -> None:
    handler = configure()
    event = connect_event()
    event["queryStringParameters"] = {"authorization": ["a.b.c"]}
    assert effect(handler(event, None)) == "Deny"


@pytest.mark.parametrize(
    "event",
    [
        connect_event(),
        {"methodArn": METHOD_ARN},
        {"methodArn": METHOD_ARN, "headers": None, "queryStringParameters": None},
        connect_event(""),
        connect_event("   "),
        connect_event("Bearer "),
        connect_event("Bearer", via="header"),
        connect_event("", via="header"),
        {},
        None,
        [],
        "event",
    ],
)
def test_no_token_raises_unauthorized_for_a_401(configure: Configure, event: object) -> None:
    handler = configure()
    assert_unauthorized(lambda: handler(event, None))


def test_without_method_arn_a_valid_token_is_denied_everywhere(
    configure: Configure, mint: Mint
) -> None:
    handler = configure()
    response = handler(connect_event(mint(), method_arn=None), None)
    assert effect(response) == "Deny"
    assert response["policyDocument"]["Statement"][0]["Resource"] == "*"


def test_a_deny_names_the_method_arn_and_no_principal(configure: Configure, mint: Mint) -> None:
    handler = configure()
    response = handler(connect_event(mint(exp=1)), None)
    assert response == {
        "principalId": "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": METHOD_ARN}
            ],
        },
    }


# --- configuration -----------------------------------------------------------------------------------


def test_missing_key_source_is_a_clear_configuration_error(
    configure: Configure, mint: Mint
) -> None:
    handler = configure(JWT_ISSUER_JWKS_URI=None, JWT_ISSUER=None)
    with pytest.raises(SettingsError, match="JWT_ISSUER_JWKS_URI"):
        handler(connect_event(mint()), None)


@pytest.mark.parametrize("url", ["jwks_url", "x509_url"])
def test_a_key_url_alone_fails_every_invocation_loudly(
    configure: Configure, mint: Mint, jwks_server: JwksServer, url: str
) -> None:
    # GIVEN keys but neither an issuer nor an audience (Firebase's x509 URL signs every
    # Firebase project's tokens: this configuration would let any of their users in)
    handler = configure(
        JWT_ISSUER_JWKS_URI=getattr(jwks_server, url),
        JWT_ISSUER=None,
        JWT_AUTHORIZED_AUDIENCES=None,
    )
    # WHEN tokens arrive, valid ones or none at all
    # THEN every invocation raises the settings error naming both variables (a 500 through API
    # Gateway, never an Allow), and the container never even fetched the keys
    for event in (connect_event(mint()), connect_event(mint(iss="x", aud="y")), connect_event()):
        with pytest.raises(SettingsError, match="JWT_ISSUER nor JWT_AUTHORIZED_AUDIENCES"):
            handler(event, None)
    assert jwks_server.requests == []


def test_the_explicit_opt_out_allows_any_issuer_and_audience(
    configure: Configure, mint: Mint
) -> None:
    handler = configure(
        JWT_ISSUER=None, JWT_AUTHORIZED_AUDIENCES=None, JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE="true"
    )
    token = mint(iss="https://any.example", aud="any-app")
    assert effect(handler(connect_event(token), None)) == "Allow"


@pytest.mark.parametrize(
    ("env", "claims", "expected"),
    [
        ({"JWT_ISSUER": None}, {"iss": "https://other.example"}, "Allow"),
        ({"JWT_ISSUER": None}, {"aud": "other-app"}, "Deny"),
        ({"JWT_AUTHORIZED_AUDIENCES": None}, {"aud": "other-app"}, "Allow"),
        ({"JWT_AUTHORIZED_AUDIENCES": None}, {"iss": "https://other.example"}, "Deny"),
    ],
)
def test_an_issuer_or_an_audience_alone_is_a_usable_configuration(
    configure: Configure,
    mint: Mint,
    env: dict[str, str | None],
    claims: dict[str, object],
    expected: str,
) -> None:
    handler = configure(**env)
    assert effect(handler(connect_event(mint(**claims)), None)) == expected


def test_a_key_published_without_kid_verifies_a_token_that_names_one(
    configure: Configure, mint: Mint, jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    # GIVEN a JWKS whose keys carry no kid
    jwks_server.published = [
        SigningKey(None, key.alg, key.key) for key in (keys["rsa"], keys["ec"])
    ]
    handler = configure()
    # THEN tokens naming a kid, or none, are still verified by signature against those keys
    assert effect(handler(connect_event(mint("rsa")), None)) == "Allow"
    assert effect(handler(connect_event(mint("ec", header={"kid": None})), None)) == "Allow"
    assert effect(handler(connect_event(mint("rsa-next")), None)) == "Deny"


def test_discovery_works_with_an_issuer_that_ends_in_a_slash(
    configure: Configure, mint: Mint, jwks_server: JwksServer
) -> None:
    # Auth0-style issuers end with "/": the configuration URL has one slash, iss keeps its own.
    issuer = jwks_server.base_url + "/"
    jwks_server.openid_issuer = issuer
    handler = configure(JWT_ISSUER_JWKS_URI=None, JWT_ISSUER=issuer)
    assert effect(handler(connect_event(mint(iss=issuer)), None)) == "Allow"
    assert effect(handler(connect_event(mint()), None)) == "Deny"  # iss without the slash
    assert jwks_server.requests[0] == "/.well-known/openid-configuration"


def test_a_failing_discovery_denies(
    configure: Configure, mint: Mint, jwks_server: JwksServer
) -> None:
    jwks_server.status = 500
    handler = configure(JWT_ISSUER_JWKS_URI=None)
    assert effect(handler(connect_event(mint()), None)) == "Deny"
    assert jwks_server.count("/.well-known/jwks.json") == 0
