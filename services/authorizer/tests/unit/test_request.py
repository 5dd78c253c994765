from __future__ import annotations

import pytest
from sumu_authorizer.decision import Denied
from sumu_authorizer.request import bearer_token, method_arn


@pytest.mark.parametrize(
    ("event", "token"),
    [
        ({"queryStringParameters": {"authorization": "t.o.k"}}, "t.o.k"),
        ({"queryStringParameters": {"Authorization": "Bearer t.o.k"}}, "t.o.k"),
        ({"headers": {"authorization": "BEARER  t.o.k "}}, "t.o.k"),
        ({"headers": {"AuThOrIzAtIoN": "t.o.k"}}, "t.o.k"),
        ({"headers": None, "queryStringParameters": None}, None),
        ({"headers": {"authorization": None}}, None),
        ({"headers": {"authorization": "Bearer"}}, None),
        ({"headers": {"authorization": "Bearer "}}, None),
        (
            {
                "queryStringParameters": {"authorization": ""},
                "headers": {"Authorization": "h.e.ad"},
            },
            "h.e.ad",
        ),
        ({"headers": {"x-other": "t.o.k", 5: "x"}}, None),
        ({"headers": ["authorization", "t.o.k"]}, None),
        ({}, None),
        (None, None),
        ("authorization", None),
    ],
)
def test_bearer_token(event: object, token: str | None) -> None:
    assert bearer_token(event) == token


@pytest.mark.parametrize("value", [5, ["t.o.k"], {"t": 1}, True])
def test_a_credential_that_is_not_a_string_is_denied(value: object) -> None:
    with pytest.raises(Denied, match="not a string"):
        bearer_token({"headers": {"Authorization": value}})


@pytest.mark.parametrize(
    ("event", "arn"),
    [
        ({"methodArn": "arn:x"}, "arn:x"),
        ({"methodArn": ""}, None),
        ({"methodArn": 5}, None),
        ([], None),
    ],
)
def test_method_arn(event: object, arn: str | None) -> None:
    assert method_arn(event) == arn
