"""Whatever a function answers or a queue holds, the event sources never crash on it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sumu_local.stack.config import StackConfig
from sumu_local.stack.resources import StackResources
from sumu_local.stack.runner import _handler_environment
from sumu_local.stack.sources.sns import sns_record
from sumu_local.stack.sources.sqs import failed_message_ids
from sumu_local.stack.sources.stream import first_failed_index

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["batchItemFailures", "itemIdentifier", "x"]), children, max_size=3
        )
    ),
    max_leaves=12,
)


@given(json_values)
def test_any_sqs_response_is_success_a_subset_or_a_whole_batch_failure(response: Any) -> None:
    failed = failed_message_ids(response, {"m1", "m2"})
    assert failed is None or failed <= {"m1", "m2"}


@given(json_values)
def test_any_stream_response_retries_from_inside_the_batch_or_not_at_all(response: Any) -> None:
    records = [{"dynamodb": {"SequenceNumber": str(n)}} for n in (1, 2, 3)]
    index = first_failed_index(response, records)
    assert index is None or 0 <= index < 3


@given(st.dictionaries(st.text(max_size=12), json_values, max_size=6))
def test_an_envelope_becomes_an_sns_record_or_a_clear_error(envelope: dict[str, Any]) -> None:
    try:
        record = sns_record(envelope, "arn:sub")
    except (KeyError, TypeError, ValueError):
        return
    assert record["EventSource"] == "aws:sns"
    json.dumps(record)


def test_a_real_identity_provider_is_what_the_authorizer_is_told_to_trust() -> None:
    config = StackConfig(environment={"JWT_LEEWAY_SECONDS": "30"}).with_overrides(
        jwks_uri="https://idp.example/jwks.json", issuer="https://idp.example/", audience="a,b"
    )
    resources = StackResources(*(f"r{n}" for n in range(len(dataclasses.fields(StackResources)))))
    environment = _handler_environment(
        config=config,
        resources=resources,
        endpoint="http://127.0.0.1:4566",
        management_url="http://127.0.0.1:3001/mvp",
        jwks_url=str(config.jwks_uri),
        issuer=str(config.issuer),
        audience=str(config.audience),
    )
    assert environment["JWT_ISSUER_JWKS_URI"] == "https://idp.example/jwks.json"
    assert environment["JWT_ISSUER"] == "https://idp.example/"
    assert environment["JWT_AUTHORIZED_AUDIENCES"] == "a,b"
    assert environment["APIGW_ENDPOINT"] == "http://127.0.0.1:3001/mvp"
    assert environment["JWT_LEEWAY_SECONDS"] == "30"  # [environment] adds to what the stack sets
