"""The Scan fast path answers exactly what moto's own code answers.

Property: on the same table (hash-only or hash + range, string or number keys, random items with
every attribute type), any Scan (random TotalSegments, Limit, ExclusiveStartKey, projection,
filter, ConsistentRead, Select=COUNT, ReturnConsumedCapacity), walked segment by segment and page
by page through LastEvaluatedKey, gives the same HTTP status and the same JSON body with the fast
path as with moto's own Scan; and a walk over every segment returns every item exactly once.
Over HTTP against the moto server of the test session: the raw response bodies are compared
(json.loads), not boto3's parsed view of them.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.dynamodb.models.table import Table
from sumu_local import moto_scan_fastpath
from sumu_testkit.moto import MotoServer

HASH_VALUES = {
    "S": ["alice", "bob", "carol", "a", "dave", "eve"],
    "N": ["1", "2", "3.5", "-7", "10", "0.25"],
}
RANGE_VALUES = {
    "S": ["a", "ab", "abc", "b", "conn-1", "conn-2", "z"],
    "N": ["0", "1", "2", "11", "-3"],
}
NUMBERS = ["0", "1", "-5", "3.50", "1e2", "0.001", "12345678901234567890"]


@pytest.fixture
def endpoint(aws_env: MotoServer) -> Iterator[str]:
    moto_scan_fastpath.uninstall()
    try:
        yield aws_env.endpoint_url
    finally:
        moto_scan_fastpath.uninstall()


def client(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(retries={"total_max_attempts": 1}),
    )


def raw_scan(endpoint: str, request: dict[str, Any]) -> tuple[int, Any]:
    """POST a Scan as the SDKs do; the status and the parsed JSON body."""
    http_request = urllib.request.Request(  # noqa: S310 - the local moto server
        endpoint,
        data=json.dumps(request).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.Scan",
            "Authorization": (
                "AWS4-HMAC-SHA256 Credential=testing/20261128/us-east-1/dynamodb/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(http_request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        try:
            return error.code, json.loads(text)
        except ValueError:  # moto's own 500 page
            return error.code, text


@st.composite
def values(  # noqa: PLR0911 - one return per DynamoDB type
    draw: st.DrawFn, depth: int = 0
) -> dict[str, Any]:
    kinds = ["S", "N", "BOOL", "NULL", "SS", "NS", "B", "BS"] + (["L", "M"] if depth < 2 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "S":
        return {"S": draw(st.text(max_size=12))}
    if kind == "N":
        return {"N": draw(st.sampled_from(NUMBERS))}
    if kind == "BOOL":
        return {"BOOL": draw(st.booleans())}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "SS":
        return {
            "SS": draw(
                st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=3, unique=True)
            )
        }
    if kind == "NS":
        return {
            "NS": draw(
                st.lists(
                    st.sampled_from(["1", "2", "3.5", "-4"]), min_size=1, max_size=3, unique=True
                )
            )
        }
    if kind == "B":
        return {"B": draw(st.binary(max_size=8))}
    if kind == "BS":
        return {
            "BS": draw(
                st.lists(st.binary(min_size=1, max_size=4), min_size=1, max_size=3, unique=True)
            )
        }
    if kind == "L":
        return {"L": draw(st.lists(values(depth + 1), max_size=3))}
    keys = st.sampled_from(["inner", "x", "y"])
    return {"M": draw(st.dictionaries(keys, values(depth + 1), max_size=3))}


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    hash_type = draw(st.sampled_from(["S", "N"]))
    range_type = draw(st.sampled_from(["S", "N", None]))
    keys = st.tuples(
        st.sampled_from(HASH_VALUES[hash_type]),
        st.sampled_from(RANGE_VALUES[range_type]) if range_type else st.none(),
    )
    rows = draw(st.lists(keys, max_size=30, unique=True))
    items = []
    for hash_value, range_value in rows:
        item: dict[str, Any] = {"pk": {hash_type: hash_value}}
        if range_type:
            item["sk"] = {range_type: range_value}
        if draw(st.booleans()):
            item["payload"] = {"S": draw(st.text(max_size=20))}
        if draw(st.booleans()):
            item["n"] = {"N": draw(st.sampled_from(NUMBERS))}
        for name in draw(
            st.lists(
                st.sampled_from(["flag", "map", "list", "blob", "other"]), max_size=3, unique=True
            )
        ):
            item[name] = draw(values())
        items.append(item)
    return {"hash_type": hash_type, "range_type": range_type, "items": items}


@st.composite
def scans(  # noqa: PLR0912 - one branch per request parameter
    draw: st.DrawFn, table: dict[str, Any]
) -> dict[str, Any]:
    scan: dict[str, Any] = {"TotalSegments": draw(st.integers(1, 4))}
    if draw(st.booleans()):
        scan["Limit"] = draw(st.integers(1, 7))
    if draw(st.booleans()):
        scan["ConsistentRead"] = draw(st.booleans())
    if draw(st.booleans()):
        scan["ReturnConsumedCapacity"] = draw(st.sampled_from(["NONE", "TOTAL", "INDEXES"]))
    names: dict[str, str] = {}
    attribute_values: dict[str, Any] = {}
    choice = draw(st.sampled_from(["all", "projection", "count", "filter", "filter+projection"]))
    if "projection" in choice:
        projection = draw(
            st.sampled_from(
                ["pk", "payload, n", "#p, pk", "n", "map.inner", "flag, pk", "list[0]", "blob"]
            )
        )
        scan["ProjectionExpression"] = projection
        if "#p" in projection:
            names["#p"] = "payload"
    if choice == "count":
        scan["Select"] = "COUNT"
    if "filter" in choice:
        scan["FilterExpression"] = draw(
            st.sampled_from(
                [
                    "attribute_exists(payload) OR #n > :zero",
                    "attribute_not_exists(#n)",
                    "size(payload) > :zero",
                ]
            )
        )
        if "#n" in scan["FilterExpression"]:
            names["#n"] = "n"
        if ":zero" in scan["FilterExpression"]:
            attribute_values[":zero"] = {"N": "0"}
    if names:
        scan["ExpressionAttributeNames"] = names
    if attribute_values:
        scan["ExpressionAttributeValues"] = attribute_values
    if draw(st.booleans()):  # start after a key that may or may not be in the table
        start = {"pk": {table["hash_type"]: draw(st.sampled_from(HASH_VALUES[table["hash_type"]]))}}
        if table["range_type"]:
            start["sk"] = {
                table["range_type"]: draw(st.sampled_from(RANGE_VALUES[table["range_type"]]))
            }
        scan["ExclusiveStartKey"] = start
    return scan


def walk(endpoint: str, table_name: str, scan: dict[str, Any]) -> list[list[Any]]:
    """Every page of every segment (bounded), each as (status, body)."""
    segments = []
    total = scan["TotalSegments"]
    for segment in range(total):
        pages: list[Any] = []
        request = {**scan, "TableName": table_name}
        if total > 1:
            request["Segment"] = segment
        else:
            request.pop("TotalSegments")
        for _ in range(80):
            status, body = raw_scan(endpoint, request)
            pages.append((status, body))
            if status != 200 or "LastEvaluatedKey" not in body:
                break
            request["ExclusiveStartKey"] = body["LastEvaluatedKey"]
        else:
            raise AssertionError("pagination did not end within 80 pages")
        segments.append(pages)
    return segments


def create(endpoint: str, table: dict[str, Any]) -> str:
    dynamodb = client(endpoint)
    name = f"scan-{uuid.uuid4().hex[:10]}"
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": table["hash_type"]}]
    if table["range_type"]:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": table["range_type"]})
    dynamodb.create_table(
        TableName=name,
        KeySchema=schema,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
    )
    for start in range(0, len(table["items"]), 25):
        batch = [{"PutRequest": {"Item": item}} for item in table["items"][start : start + 25]]
        dynamodb.batch_write_item(RequestItems={name: batch})
    return name


def key_of(item: dict[str, Any]) -> str:
    return json.dumps([item.get("pk"), item.get("sk")], sort_keys=True)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), table=tables())
def test_fast_path_answers_every_scan_page_as_moto_does(
    endpoint: str, data: st.DataObject, table: dict[str, Any]
) -> None:
    # GIVEN a table with random items
    name = create(endpoint, table)
    try:
        for _ in range(4):
            scan = data.draw(scans(table))
            # WHEN the same Scan is walked (every segment, every page) with moto's code, then
            # with the fast path
            moto_scan_fastpath.uninstall()
            expected = walk(endpoint, name, scan)
            moto_scan_fastpath.install()
            actual = walk(endpoint, name, scan)
            moto_scan_fastpath.uninstall()
            # THEN every status and body is the same
            assert actual == expected, scan
    finally:
        moto_scan_fastpath.uninstall()
        client(endpoint).delete_table(TableName=name)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=tables(), total=st.integers(1, 5), limit=st.one_of(st.none(), st.integers(1, 4)))
def test_a_parallel_scan_returns_every_item_exactly_once(
    endpoint: str, table: dict[str, Any], total: int, limit: int | None
) -> None:
    # GIVEN a table with random items and the fast path
    name = create(endpoint, table)
    moto_scan_fastpath.install()
    try:
        scan: dict[str, Any] = {"TotalSegments": total}
        if limit is not None:
            scan["Limit"] = limit
        # WHEN every segment is read page by page
        seen = [
            key_of(item)
            for pages in walk(endpoint, name, scan)
            for status, body in pages
            if status == 200
            for item in body["Items"]
        ]
        # THEN each item of the table came back once, whole
        assert sorted(seen) == sorted(key_of(item) for item in table["items"])
    finally:
        moto_scan_fastpath.uninstall()
        client(endpoint).delete_table(TableName=name)


def test_a_page_stops_at_one_megabyte_as_moto_does(endpoint: str) -> None:
    # GIVEN 14 items of ~100 KB (1.4 MB)
    table = {
        "hash_type": "S",
        "range_type": None,
        "items": [
            {"pk": {"S": f"user-{index:02d}"}, "blob": {"S": "x" * 100_000}} for index in range(14)
        ],
    }
    name = create(endpoint, table)
    try:
        scan = {"TotalSegments": 1}
        # WHEN it is scanned with moto's code and with the fast path
        expected = walk(endpoint, name, scan)
        moto_scan_fastpath.install()
        actual = walk(endpoint, name, scan)
        # THEN both split it into the same pages, the first one under 1 MB
        assert actual == expected
        assert [body["Count"] for _, body in actual[0]] == [9, 5]
    finally:
        moto_scan_fastpath.uninstall()
        client(endpoint).delete_table(TableName=name)


def test_an_index_scan_and_a_bad_start_key_run_moto_code(endpoint: str) -> None:
    # GIVEN a table with an index
    dynamodb = client(endpoint)
    dynamodb.create_table(
        TableName="scan-index",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "owner", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-owner",
                "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for index in range(9):
        item = {"pk": {"S": f"p{index}"}}
        if index % 2:
            item["owner"] = {"S": f"o{index % 3}"}
        dynamodb.put_item(TableName="scan-index", Item=item)
    requests = [
        {"TableName": "scan-index", "IndexName": "by-owner", "Limit": 2},
        {"TableName": "scan-index", "ExclusiveStartKey": {"pk": {"S": "p3"}, "extra": {"S": "x"}}},
        {"TableName": "scan-index", "ExclusiveStartKey": {"pk": {"N": "3"}}},
        {"TableName": "scan-index", "Segment": 3, "TotalSegments": 2},
        {"TableName": "scan-index", "ScanFilter": {"owner": {"ComparisonOperator": "NOT_NULL"}}},
    ]
    # WHEN each is sent with and without the fast path
    expected = [raw_scan(endpoint, request) for request in requests]
    moto_scan_fastpath.install()
    actual = [raw_scan(endpoint, request) for request in requests]
    # THEN the answers agree (the index holds the 4 items with an owner)
    assert actual == expected
    assert expected[0][0] == 200
    assert expected[3][0] == 400


@pytest.mark.parametrize("projection", ["n", "n, pk", "payload, n", "map.inner", "nums, n"])
def test_projected_numbers_read_as_moto_writes_them(endpoint: str, projection: str) -> None:
    # GIVEN numbers written in every form moto's projection rewrites (1e2 -> 1E+2, ...)
    items = [
        {
            "pk": {"S": f"u{index}"},
            "n": {"N": number},
            "nums": {"NS": [number]},
            "map": {"M": {"inner": {"N": number}}},
        }
        for index, number in enumerate(NUMBERS)
    ]
    name = create(endpoint, {"hash_type": "S", "range_type": None, "items": items})
    try:
        scan = {"TotalSegments": 1, "ProjectionExpression": projection}
        # WHEN it is scanned with a projection, with moto's code and with the fast path
        expected = walk(endpoint, name, scan)
        moto_scan_fastpath.install()
        actual = walk(endpoint, name, scan)
        # THEN the numbers read the same
        assert actual == expected
        assert expected[0][0][1]["Count"] == len(NUMBERS)
    finally:
        moto_scan_fastpath.uninstall()
        client(endpoint).delete_table(TableName=name)


def test_a_table_scan_does_not_sort_the_table(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the fast path, and moto's whole-table sort made to fail
    table = {
        "hash_type": "S",
        "range_type": "S",
        "items": [{"pk": {"S": f"u{index % 4}"}, "sk": {"S": f"c{index}"}} for index in range(20)],
    }
    name = create(endpoint, table)
    moto_scan_fastpath.install()

    def no_sort(self: Table) -> Any:
        raise AssertionError("all_items() called")

    monkeypatch.setattr(Table, "all_items", no_sort)
    try:
        # WHEN the table is scanned in 3 segments
        pages = walk(endpoint, name, {"TotalSegments": 3, "Limit": 4})
        # THEN the fast path answered every page (moto's code would have failed)
        assert all(status == 200 for segment in pages for status, _ in segment)
        assert sum(body["Count"] for segment in pages for _, body in segment) == 20
    finally:
        moto_scan_fastpath.uninstall()
        monkeypatch.undo()
        client(endpoint).delete_table(TableName=name)


def test_scans_during_concurrent_writes_answer(endpoint: str) -> None:
    # GIVEN the fast path and a table being written to from another thread
    name = create(endpoint, {"hash_type": "S", "range_type": "S", "items": []})
    moto_scan_fastpath.install()
    writer_client = client(endpoint)
    done = threading.Event()

    def write() -> None:
        for index in range(300):
            writer_client.put_item(
                TableName=name,
                Item={"pk": {"S": f"u{index % 7}"}, "sk": {"S": f"c{index:04d}"}},
            )
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        # WHEN it is scanned while the writes go on
        statuses = []
        while not done.is_set() and len(statuses) < 500:
            statuses.extend(
                status
                for segment in walk(endpoint, name, {"TotalSegments": 2})
                for status, _ in segment
            )
        writer.join(timeout=60)
        final = walk(endpoint, name, {"TotalSegments": 2})
    finally:
        moto_scan_fastpath.uninstall()
        client(endpoint).delete_table(TableName=name)
    # THEN every Scan was answered, and the last one sees every item
    assert statuses
    assert set(statuses) == {200}
    assert sum(body["Count"] for segment in final for _, body in segment) == 300


def test_install_is_idempotent_and_uninstall_restores_moto() -> None:
    moto_scan_fastpath.install()
    moto_scan_fastpath.install()
    assert moto_scan_fastpath.installed()
    moto_scan_fastpath.uninstall()
    assert not moto_scan_fastpath.installed()
