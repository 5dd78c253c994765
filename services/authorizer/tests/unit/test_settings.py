from __future__ import annotations

import pytest
from sumu_authorizer.settings import DEFAULT_ALGORITHMS, SettingsError, load_settings

JWKS_URI = {"JWT_ISSUER_JWKS_URI": "https://issuer.example/.well-known/jwks.json"}
JWKS = JWKS_URI | {"JWT_ISSUER": "https://issuer.example/"}


def test_defaults() -> None:
    settings = load_settings(JWKS)
    assert settings.jwks_uri == JWKS["JWT_ISSUER_JWKS_URI"]
    assert settings.issuer == "https://issuer.example/"
    assert settings.allow_any_issuer_and_audience is False
    assert settings.audiences == frozenset()
    assert settings.verify_expiration is True
    assert settings.algorithms == frozenset(DEFAULT_ALGORITHMS)
    assert settings.algorithms == {"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"}
    assert settings.leeway_seconds == 60
    assert settings.context_claims == ()
    assert settings.authorized_apis == ()


def test_lists_are_comma_separated_and_trimmed() -> None:
    settings = load_settings(
        JWKS
        | {
            "JWT_AUTHORIZED_AUDIENCES": " a, b ,,c",
            "JWT_ALGORITHMS": "ES256, EdDSA",
            "JWT_CONTEXT_CLAIMS": "email, sub, principalId, email, integrationLatency, tenant",
            "AUTHORIZED_APIS": "arn:1, arn:2",
        }
    )
    assert settings.audiences == {"a", "b", "c"}
    assert settings.algorithms == {"ES256", "EdDSA"}
    assert settings.context_claims == ("email", "tenant")  # sub always; reserved names dropped
    assert settings.authorized_apis == ("arn:1", "arn:2")


def test_an_issuer_alone_is_enough_for_discovery() -> None:
    settings = load_settings({"JWT_ISSUER": "https://issuer.example/"})
    assert settings.jwks_uri is None
    assert settings.issuer == "https://issuer.example/"


def test_a_jwks_uri_alone_is_refused_naming_issuer_and_audiences() -> None:
    # GIVEN only a key URL (Firebase's x509 map signs every Firebase project's tokens)
    # WHEN the settings are read THEN they are refused, naming both variables and the opt-out
    with pytest.raises(SettingsError) as refused:
        load_settings(JWKS_URI)
    message = str(refused.value)
    assert "JWT_ISSUER" in message
    assert "JWT_AUTHORIZED_AUDIENCES" in message
    assert "JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE=true" in message


@pytest.mark.parametrize("value", ["false", "0", "no", "off", ""])
def test_an_opt_out_that_is_not_true_still_refuses(value: str) -> None:
    with pytest.raises(SettingsError, match="JWT_AUTHORIZED_AUDIENCES"):
        load_settings(JWKS_URI | {"JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE": value})


@pytest.mark.parametrize(
    "env",
    [
        {"JWT_ISSUER": "https://issuer.example/"},
        {"JWT_AUTHORIZED_AUDIENCES": "my-app"},
        {"JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE": "true"},
    ],
)
def test_an_issuer_an_audience_or_the_explicit_opt_out_is_enough(env: dict[str, str]) -> None:
    settings = load_settings(JWKS_URI | env)
    assert settings.allow_any_issuer_and_audience is ("JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE" in env)


def test_an_audience_list_of_only_commas_is_no_audience() -> None:
    with pytest.raises(SettingsError, match="JWT_AUTHORIZED_AUDIENCES"):
        load_settings(JWKS_URI | {"JWT_AUTHORIZED_AUDIENCES": " , ,"})


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "JWT_ISSUER_JWKS_URI"),
        ({"JWT_ISSUER_JWKS_URI": "file:///etc/passwd"}, "JWT_ISSUER_JWKS_URI"),
        ({"JWT_ISSUER": "issuer-without-scheme"}, "JWT_ISSUER"),
        (JWKS | {"JWT_VERIFY_EXPIRATION": "maybe"}, "JWT_VERIFY_EXPIRATION"),
        (JWKS | {"JWT_LEEWAY_SECONDS": "soon"}, "JWT_LEEWAY_SECONDS"),
        (JWKS | {"JWT_LEEWAY_SECONDS": "-1"}, "JWT_LEEWAY_SECONDS"),
        (JWKS | {"JWT_ALGORITHMS": "HS256"}, "JWT_ALGORITHMS"),
        (JWKS | {"JWT_ALGORITHMS": "RS256,none"}, "JWT_ALGORITHMS"),
        (JWKS | {"JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE": "sure"}, "JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE"),
    ],
)
def test_a_bad_environment_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(env)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("false", False), ("FALSE", False), ("0", False), ("true", True), ("", True)],
)
def test_verify_expiration_parses_booleans(value: str, expected: bool) -> None:
    assert load_settings(JWKS | {"JWT_VERIFY_EXPIRATION": value}).verify_expiration is expected


def test_every_algorithm_that_may_be_allowed_is_one_joserfc_verifies() -> None:
    from sumu_authorizer.key_store import KeySourceConfig, KeyStore  # noqa: PLC0415
    from sumu_authorizer.settings import ASYMMETRIC_ALGORITHMS  # noqa: PLC0415
    from sumu_authorizer.verification import TokenVerifier  # noqa: PLC0415

    TokenVerifier(
        ASYMMETRIC_ALGORITHMS, KeyStore(KeySourceConfig("https://issuer.example/jwks", None))
    )
