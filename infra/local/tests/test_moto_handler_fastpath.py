"""The cached action lookup lists the same names as moto's, once per class."""

from __future__ import annotations

from typing import Any

import boto3
import moto.core.responses as moto_responses
import pytest
from botocore.config import Config
from moto.core import utils as moto_utils
from moto.dynamodb.responses import DynamoHandler
from moto.sns.responses import SNSResponse
from moto.sqs.responses import SQSResponse
from sumu_local import moto_handler_fastpath
from sumu_testkit.moto import MotoServer


@pytest.mark.parametrize("handler", [DynamoHandler, SQSResponse, SNSResponse])
def test_the_cached_names_are_moto_names(handler: type, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the cache installed, and moto's listing counted
    calls: list[object] = []
    original = moto_handler_fastpath._original

    def counting(clazz: object) -> list[str]:
        calls.append(clazz)
        return original(clazz)

    monkeypatch.setattr(moto_handler_fastpath, "_original", counting)
    moto_handler_fastpath.install()
    try:
        # WHEN the names are asked three times
        answers = [moto_responses.method_names_from_class(handler) for _ in range(3)]  # type: ignore[attr-defined]
    finally:
        moto_handler_fastpath.uninstall()
    # THEN they are moto's names, listed once
    assert answers == [moto_utils.method_names_from_class(handler)] * 3
    assert calls == [handler]
    assert moto_responses.method_names_from_class is not moto_handler_fastpath._cached  # type: ignore[attr-defined]


def test_requests_are_answered_with_the_cache(aws_env: MotoServer) -> None:
    # GIVEN the cache installed
    moto_handler_fastpath.install()
    try:
        dynamodb: Any = boto3.client(
            "dynamodb",
            endpoint_url=aws_env.endpoint_url,
            region_name="us-east-1",
            config=Config(retries={"total_max_attempts": 1}),
        )
        # WHEN an existing and a missing action are called
        tables = dynamodb.list_tables()["TableNames"]
        with pytest.raises(
            Exception, match=r"not been implemented|NotImplemented|500|InternalFailure"
        ):
            dynamodb.describe_contributor_insights(TableName="nope")
    finally:
        moto_handler_fastpath.uninstall()
    # THEN the first is answered as before and the second still is not
    assert tables == []
