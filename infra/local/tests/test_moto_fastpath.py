"""The Query fast path answers exactly what moto's own code answers.

Property: on the same table (random key types, random items), any Query (random hash value,
range condition, direction, Limit, ConsistentRead, projection, filter, Select=COUNT), followed
page by page through LastEvaluatedKey, gives the same pages, counts and errors with the fast path
as with moto's own Query. Over HTTP against the moto server of the test session.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.dynamodb.models.table import Table
from sumu_local import moto_fastpath
from sumu_testkit.moto import MotoServer

HASH_VALUES = {"S": ["alice", "bob", "carol", "a", ""], "N": ["1", "2", "3.5", "-7", "10"]}
RANGE_VALUES = {"S": ["a", "ab", "abc", "b", "conn-1", "conn-2", "z"], "N": ["0", "1", "2", "11"]}
OPERATORS = ["=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"]


@pytest.fixture
def dynamodb(aws_env: MotoServer) -> Iterator[Any]:
    moto_fastpath.uninstall()
    try:
        # One attempt: some drawn queries make moto answer 5xx, and botocore's default retries
        # would sleep through their backoff on both paths (minutes per run) to compare the same
        # error in the end.
        yield boto3.client(
            "dynamodb",
            endpoint_url=aws_env.endpoint_url,
            region_name="us-east-1",
            config=Config(retries={"total_max_attempts": 1}),
        )
    finally:
        moto_fastpath.uninstall()


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    hash_type = draw(st.sampled_from(["S", "N"]))
    range_type = draw(st.sampled_from(["S", "N", None]))
    keys = st.tuples(
        st.sampled_from(HASH_VALUES[hash_type][:-1] if hash_type == "S" else HASH_VALUES["N"]),
        st.sampled_from(RANGE_VALUES[range_type]) if range_type else st.none(),
    )
    rows = draw(st.lists(keys, max_size=25, unique=True))
    items = []
    for hash_value, range_value in rows:
        item: dict[str, Any] = {"pk": {hash_type: hash_value}}
        if range_type:
            item["sk"] = {range_type: range_value}
        if draw(st.booleans()):
            item["payload"] = {"S": draw(st.text(max_size=20))}
        if draw(st.booleans()):
            item["n"] = {"N": str(draw(st.integers(-5, 5)))}
        if draw(st.booleans()):  # every other type, as the Query's Items are written as JSON
            item["other"] = draw(OTHER_VALUES)
        items.append(item)
    return {"hash_type": hash_type, "range_type": range_type, "items": items}


_SCALARS = st.one_of(
    st.builds(lambda text: {"S": text}, st.text(max_size=8)),
    st.builds(lambda number: {"N": number}, st.sampled_from(["0", "1e2", "-3.50", "7"])),
    st.builds(lambda blob: {"B": blob}, st.binary(max_size=6)),
    st.builds(lambda flag: {"BOOL": flag}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(
        lambda texts: {"SS": texts},
        st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=3, unique=True),
    ),
    st.builds(
        lambda numbers: {"NS": numbers},
        st.lists(st.sampled_from(["1", "2.5", "-4"]), min_size=1, max_size=3, unique=True),
    ),
    st.builds(
        lambda blobs: {"BS": blobs},
        st.lists(st.binary(min_size=1, max_size=4), min_size=1, max_size=3, unique=True),
    ),
)
OTHER_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.builds(lambda values: {"L": values}, st.lists(children, max_size=3)),
        st.builds(
            lambda values: {"M": values},
            st.dictionaries(st.sampled_from(["a", "b"]), children, max_size=2),
        ),
    ),
    max_leaves=6,
)


@st.composite
def queries(draw: st.DrawFn, table: dict[str, Any]) -> dict[str, Any]:
    hash_type, range_type = table["hash_type"], table["range_type"]
    values: dict[str, Any] = {":h": {hash_type: draw(st.sampled_from(HASH_VALUES[hash_type]))}}
    condition = "pk = :h"
    if range_type and draw(st.booleans()):
        operator = draw(st.sampled_from(OPERATORS))
        values[":r1"] = {range_type: draw(st.sampled_from(RANGE_VALUES[range_type]))}
        if operator == "BETWEEN":
            values[":r2"] = {range_type: draw(st.sampled_from(RANGE_VALUES[range_type]))}
            condition += " AND sk BETWEEN :r1 AND :r2"
        elif operator == "begins_with":
            condition += " AND begins_with(sk, :r1)"
        else:
            condition += f" AND sk {operator} :r1"
    query: dict[str, Any] = {
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": draw(st.booleans()),
        "ConsistentRead": draw(st.booleans()),
    }
    if draw(st.booleans()):
        query["Limit"] = draw(st.integers(1, 6))
    choice = draw(st.sampled_from(["all", "projection", "count", "filter"]))
    if choice == "projection":
        query["ProjectionExpression"] = draw(
            st.sampled_from(["pk", "payload", "n, pk", "#p", "other"])
        )
        if query["ProjectionExpression"] == "#p":
            query["ExpressionAttributeNames"] = {"#p": "payload"}
    elif choice == "count":
        query["Select"] = "COUNT"
    elif choice == "filter":
        query["FilterExpression"] = "attribute_exists(payload) OR n > :zero"
        values[":zero"] = {"N": "0"}
    return query


def all_pages(dynamodb: Any, table_name: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of the query (bounded), or the error it raised, as comparable values."""
    pages: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    for _ in range(60):
        request = {**query, "TableName": table_name}
        if start is not None:
            request["ExclusiveStartKey"] = start
        try:
            page = dynamodb.query(**request)
        except ClientError as error:
            pages.append({"error": error.response["Error"]})
            return pages
        page.pop("ResponseMetadata", None)
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if start is None:
            return pages
    raise AssertionError("pagination did not end within 60 pages")


def create(dynamodb: Any, table: dict[str, Any]) -> str:
    name = f"fastpath-{uuid.uuid4().hex[:10]}"
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


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), table=tables())
def test_fast_path_answers_every_query_page_as_moto_does(
    dynamodb: Any, data: st.DataObject, table: dict[str, Any]
) -> None:
    # GIVEN a table with random items
    name = create(dynamodb, table)
    try:
        for _ in range(4):
            query = data.draw(queries(table))
            # WHEN the same query is paged through with moto's code, then with the fast path
            moto_fastpath.uninstall()
            expected = all_pages(dynamodb, name, query)
            moto_fastpath.install()
            actual = all_pages(dynamodb, name, query)
            # THEN every page, count, key and error is the same
            assert actual == expected, query
    finally:
        moto_fastpath.uninstall()
        dynamodb.delete_table(TableName=name)


def test_an_index_query_runs_moto_code_and_agrees(dynamodb: Any) -> None:
    # GIVEN a table with a global secondary index on "owner"
    dynamodb.create_table(
        TableName="with-index",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
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
    for index in range(12):
        dynamodb.put_item(
            TableName="with-index",
            Item={
                "pk": {"S": f"p{index % 4}"},
                "sk": {"S": f"s{index}"},
                "owner": {"S": f"o{index % 3}"},
            },
        )
    query = {
        "IndexName": "by-owner",
        "KeyConditionExpression": "#o = :o",
        "ExpressionAttributeNames": {"#o": "owner"},
        "ExpressionAttributeValues": {":o": {"S": "o1"}},
        "Limit": 2,
    }
    # WHEN it is queried on the index with and without the fast path
    expected = all_pages(dynamodb, "with-index", query)
    moto_fastpath.install()
    actual = all_pages(dynamodb, "with-index", query)
    # THEN the answers agree (and hold the 4 items of owner o1)
    assert actual == expected
    assert sum(page["Count"] for page in actual) == 4


def test_other_threads_and_other_callers_still_see_the_whole_table(dynamodb: Any) -> None:
    # GIVEN the fast path installed and a table of 3 users
    moto_fastpath.install()
    name = create(
        dynamodb,
        {
            "hash_type": "S",
            "range_type": "S",
            "items": [{"pk": {"S": user}, "sk": {"S": "c"}} for user in ("a", "b", "ab")],
        },
    )
    # WHEN a Scan runs while this thread is inside a narrowed Query scope
    seen: list[int] = []
    original_all_items = moto_fastpath._original_all_items

    def query_then_scan_elsewhere(self: Table) -> Any:
        if seen:  # the Scan's own call
            return moto_fastpath._all_items_in_scope(self)
        seen.append(-1)
        thread = threading.Thread(
            target=lambda: seen.append(dynamodb.scan(TableName=name)["Count"])
        )
        thread.start()
        thread.join(timeout=10)
        return moto_fastpath._all_items_in_scope(self)

    Table.all_items = query_then_scan_elsewhere  # type: ignore[method-assign]
    try:
        answer = dynamodb.query(
            TableName=name,
            KeyConditionExpression="pk = :h",
            ExpressionAttributeValues={":h": {"S": "a"}},
        )
    finally:
        Table.all_items = original_all_items  # type: ignore[method-assign]
    # THEN the Query read one partition and the concurrent Scan the whole table
    assert answer["Count"] == 1
    assert seen == [-1, 3]


def test_install_is_idempotent_and_uninstall_restores_moto() -> None:
    moto_fastpath.install()
    moto_fastpath.install()
    assert moto_fastpath.installed()
    with moto_fastpath.disabled():
        assert not moto_fastpath.installed()
    assert moto_fastpath.installed()
    moto_fastpath.uninstall()
    assert Table.query is moto_fastpath._original_query
    assert Table.all_items is moto_fastpath._original_all_items


OWNERS = ["o1", "o2", "o3"]
RANKS = ["1", "2", "10", "-3"]


@st.composite
def indexed_tables(draw: st.DrawFn) -> dict[str, Any]:
    table = draw(tables())
    table["index_range"] = draw(st.sampled_from(["rank", None]))
    for item in table["items"]:
        if draw(st.integers(0, 4)):  # most items are in the index, some are not
            item["owner"] = {"S": draw(st.sampled_from(OWNERS))}
        if draw(st.booleans()):
            item["rank"] = {"N": draw(st.sampled_from(RANKS))}
    return table


@st.composite
def index_queries(draw: st.DrawFn, table: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {":o": {"S": draw(st.sampled_from([*OWNERS, "nobody"]))}}
    condition = "#o = :o"
    if table["index_range"] and draw(st.booleans()):
        operator = draw(st.sampled_from(["=", "<", ">=", "BETWEEN"]))
        values[":r1"] = {"N": draw(st.sampled_from(RANKS))}
        if operator == "BETWEEN":
            values[":r2"] = {"N": draw(st.sampled_from(RANKS))}
            condition += " AND #r BETWEEN :r1 AND :r2"
        else:
            condition += f" AND #r {operator} :r1"
    query: dict[str, Any] = {
        "IndexName": "by-owner",
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": {"#o": "owner"},
        "ExpressionAttributeValues": values,
        "ScanIndexForward": draw(st.booleans()),
    }
    if "#r" in condition:
        query["ExpressionAttributeNames"]["#r"] = "rank"
    if draw(st.booleans()):
        query["Limit"] = draw(st.integers(1, 5))
    choice = draw(st.sampled_from(["all", "projection", "count", "filter"]))
    if choice == "projection":
        query["ProjectionExpression"] = draw(st.sampled_from(["pk", "payload, #o", "n"]))
        if "#o" not in query["ProjectionExpression"] and "#o" not in condition:
            pass
    elif choice == "count":
        query["Select"] = "COUNT"
    elif choice == "filter":
        query["FilterExpression"] = "attribute_exists(payload) OR n > :zero"
        values[":zero"] = {"N": "0"}
    return query


def create_indexed(dynamodb: Any, table: dict[str, Any]) -> str:
    name = f"fastpath-gsi-{uuid.uuid4().hex[:10]}"
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [
        {"AttributeName": "pk", "AttributeType": table["hash_type"]},
        {"AttributeName": "owner", "AttributeType": "S"},
    ]
    if table["range_type"]:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": table["range_type"]})
    index_schema = [{"AttributeName": "owner", "KeyType": "HASH"}]
    if table["index_range"]:
        index_schema.append({"AttributeName": "rank", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "rank", "AttributeType": "N"})
    dynamodb.create_table(
        TableName=name,
        KeySchema=schema,
        AttributeDefinitions=attributes,
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-owner",
                "KeySchema": index_schema,
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for start in range(0, len(table["items"]), 25):
        batch = [{"PutRequest": {"Item": item}} for item in table["items"][start : start + 25]]
        dynamodb.batch_write_item(RequestItems={name: batch})
    return name


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), table=indexed_tables())
def test_fast_path_answers_every_index_query_page_as_moto_does(
    dynamodb: Any, data: st.DataObject, table: dict[str, Any]
) -> None:
    # GIVEN a table with a global secondary index and random items (some outside the index)
    name = create_indexed(dynamodb, table)
    try:
        for _ in range(4):
            query = data.draw(index_queries(table))
            # WHEN the same index query is paged through with moto's code, then with the fast path
            moto_fastpath.uninstall()
            expected = all_pages(dynamodb, name, query)
            moto_fastpath.install()
            actual = all_pages(dynamodb, name, query)
            # THEN every page, count, key and error is the same
            assert actual == expected, query
    finally:
        moto_fastpath.uninstall()
        dynamodb.delete_table(TableName=name)


def test_an_index_query_does_not_sort_the_table(dynamodb: Any) -> None:
    # GIVEN the fast path and a table of 3 owners' items, with moto's whole-table sort spied on
    moto_fastpath.install()
    name = create_indexed(
        dynamodb,
        {
            "hash_type": "S",
            "range_type": None,
            "index_range": None,
            "items": [
                {"pk": {"S": f"p{index}"}, "owner": {"S": OWNERS[index % 3]}} for index in range(12)
            ],
        },
    )
    sorted_tables: list[str] = []
    original_all_items = moto_fastpath._original_all_items

    def spy(self: Table) -> Any:
        sorted_tables.append(self.name)
        return original_all_items(self)

    moto_fastpath._original_all_items = spy
    try:
        # WHEN the index is queried
        answer = dynamodb.query(
            TableName=name,
            IndexName="by-owner",
            KeyConditionExpression="#o = :o",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":o": {"S": "o2"}},
        )
    finally:
        moto_fastpath._original_all_items = original_all_items
        moto_fastpath.uninstall()
    # THEN it found the owner's 4 items without moto's sort of the table
    assert answer["Count"] == 4
    assert sorted_tables == []
