"""The kit's own parts, each checked directly: the management API stand-in, the DynamoDB
consistency proxy, the key server and the reports."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sumu_local.conformance.environment import Environment
from sumu_local.conformance.report import CaseResult, summary, write_json, write_junit
from sumu_local.stack.aws import aws_client


@pytest.fixture(scope="module")
def environment() -> Iterator[Environment]:
    started = Environment.start()
    try:
        yield started
    finally:
        started.stop()


def _post(url: str, data: bytes) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_management_api_answers_like_api_gateway(environment: Environment) -> None:
    api = environment.management
    api.reset()
    api.live("live-1")
    api.script("flaky-1", [429, 500], then=200)
    base = f"{api.endpoint}/@connections"

    assert _post(f"{base}/live-1", b'"hi"')[0] == 200
    status, headers, body = _post(f"{base}/unknown-1", b'"hi"')
    assert (status, headers["x-amzn-ErrorType"], json.loads(body)) == (
        410,
        "GoneException",
        {"message": None},
    )
    assert [_post(f"{base}/flaky-1", b"1")[0] for _ in range(4)] == [429, 500, 200, 200]
    status, headers, _ = _post(f"{base}/live-1", b"x" * (128 * 1024 + 1))
    assert (status, headers["x-amzn-ErrorType"]) == (413, "PayloadTooLargeException")
    assert api.delivered() == {"live-1": [b'"hi"'], "flaky-1": [b"1", b"1"]}
    assert [post.answer for post in api.posts_to("flaky-1")] == [429, 500, 200, 200]


def test_proxy_serves_deleted_items_to_eventually_consistent_reads_only(
    environment: Environment,
) -> None:
    item = environment.put_connection("ghost-user", "ghost-conn")
    environment.delete_connection("ghost-user", "ghost-conn")
    environment.proxy.ghost(item)
    through_proxy = aws_client("dynamodb", environment.proxy.url, "us-east-1")
    query = {
        "TableName": environment.table,
        "KeyConditionExpression": "user_id = :u",
        "ExpressionAttributeValues": {":u": {"S": "ghost-user"}},
    }
    try:
        assert len(through_proxy.query(**query)["Items"]) == 1
        assert through_proxy.query(**query, ConsistentRead=True)["Items"] == []
        assert through_proxy.query(**query, Select="COUNT")["Count"] == 1
    finally:
        environment.proxy.clear_ghosts()
    assert through_proxy.query(**query)["Items"] == []


def test_proxy_fails_chosen_operations(environment: Environment) -> None:
    through_proxy = boto3.session.Session().client(
        "dynamodb",
        endpoint_url=environment.proxy.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}),
    )
    environment.proxy.failing.add("DescribeTable")
    try:
        with pytest.raises(ClientError) as raised:
            through_proxy.describe_table(TableName=environment.table)
        assert raised.value.response["Error"]["Code"] == "InternalServerError"
    finally:
        environment.proxy.failing.clear()
    assert (
        through_proxy.describe_table(TableName=environment.table)["Table"]["TableName"]
        == environment.table
    )


def test_key_server_publishes_fails_and_recovers(environment: Environment) -> None:
    from sumu_local.conformance.keys import new_key  # noqa: PLC0415 - RSA generation is slow

    keys = environment.keys
    keys.publish(new_key("k1"))
    with urllib.request.urlopen(keys.jwks_uri, timeout=5) as response:  # noqa: S310 - loopback
        assert [key["kid"] for key in json.loads(response.read())["keys"]] == ["k1"]
        assert "d" not in json.loads(json.dumps(keys.document()))["keys"][0]  # public only
    keys.mode = "error"
    try:
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(keys.jwks_uri, timeout=5)  # noqa: S310 - loopback
    finally:
        keys.mode = "ok"


def test_reports(tmp_path: Path) -> None:
    results = [
        CaseResult("pusher", "pusher.a", "rule a", "PASS", "", 0.1),
        CaseResult("pusher", "pusher.b", "rule b", "FAIL", "saw x", 0.2),
        CaseResult("presence", "presence.c", "rule c", "SKIP", "why", 0.0),
    ]
    assert results[1].line() == "FAIL pusher.b  [rule b]  observed: saw x"
    assert results[2].line() == "SKIP presence.c  [rule c]  why: why"
    assert summary(results, 1.0) == "3 cases: 1 passed, 1 failed, 1 skipped in 1.0 s -> FAILED"
    write_json(tmp_path / "r.json", results, 1.0, {"pusher": "x.handler"})
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["passed"] is False
    assert [case["status"] for case in document["cases"]] == ["PASS", "FAIL", "SKIP"]
    write_junit(tmp_path / "r.xml", results, 1.0)
    root = ElementTree.parse(tmp_path / "r.xml").getroot()  # noqa: S314 - written just above
    pusher = root.find("testsuite[@name='conformance.pusher']")
    assert pusher is not None
    assert (pusher.get("tests"), pusher.get("failures")) == ("2", "1")
    assert root.find(".//testcase[@name='presence.c']/skipped") is not None
