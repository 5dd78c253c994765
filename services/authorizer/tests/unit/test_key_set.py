from __future__ import annotations

import warnings

import pytest
from joserfc.jwk import ECKey, RSAKey
from sumu_authorizer.key_set import KeyDocumentError, parse_key_document

from ..conftest import SigningKey, certificate_pem


def test_a_jwks_keeps_signature_keys_and_skips_the_rest(keys: dict[str, SigningKey]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc warns about the 1024-bit key, which is the point
        weak = RSAKey.generate_key(1024, parameters={"kid": "weak"}).as_dict(private=False)
    document = {
        "keys": [
            keys["rsa"].key.as_dict(private=True),  # private members are dropped, the key is kept
            keys["ec"].key.as_dict(private=False) | {"use": "sig"},
            keys["ed25519"].key.as_dict(private=False),
            keys["ec384"].key.as_dict(private=False) | {"use": "enc"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "RSA", "kid": "broken", "n": "AA", "e": "AQAB"},
            {"kty": "EC", "kid": 5},
            weak,
            "not a key",
            None,
        ]
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ring = parse_key_document(document)
    assert [key.kid for key in ring.keys] == ["rsa-1", "ec-1", "ed-1"]
    assert not ring.by_kid["rsa-1"][0].key.is_private
    assert ring.candidates(None) == ring.keys
    assert ring.candidates("hmac") == ()


def test_a_firebase_certificate_map_yields_one_key_per_kid(keys: dict[str, SigningKey]) -> None:
    document = {
        "a": certificate_pem(keys["rsa"].key),
        "b": certificate_pem(keys["ec"].key),
        "c": "garbage",
    }
    ring = parse_key_document(document)
    assert sorted(ring.by_kid) == ["a", "b"]
    assert isinstance(ring.by_kid["a"][0].key, RSAKey)
    assert isinstance(ring.by_kid["b"][0].key, ECKey)


@pytest.mark.parametrize(
    "document", [None, [], "keys", {}, {"keys": 5}, {"a": 1}, {"keys": {"kid": "x"}}]
)
def test_a_document_of_another_shape_is_an_error(document: object) -> None:
    with pytest.raises(KeyDocumentError):
        parse_key_document(document)
