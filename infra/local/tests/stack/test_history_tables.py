"""Issue 18's tables in the local stack: history (channel / seq, TTL) and idempotency (key, TTL),
and the sweeper that expires message items but never a channel's head item."""

from __future__ import annotations

import json
import time
from typing import Any

from sumu_local.stack.manifest import StackManifest
from sumu_local.stack.sources.ttl import ServiceDeletions, TtlSweeper

from .factories import clients, resources


def test_the_history_and_idempotency_tables_are_keyed_with_ttl(aws_env: Any) -> None:
    aws = clients()
    stack = resources(aws)
    for name, keys in (
        (stack.history_table, [("channel", "HASH"), ("seq", "RANGE")]),
        (stack.idempotency_table, [("key", "HASH")]),
    ):
        table = aws["dynamodb"].describe_table(TableName=name)["Table"]
        assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == keys
        ttl = aws["dynamodb"].describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["AttributeName"] == "delete_at"
    history = aws["dynamodb"].describe_table(TableName=stack.history_table)["Table"]
    types = {a["AttributeName"]: a["AttributeType"] for a in history["AttributeDefinitions"]}
    assert types == {"channel": "S", "seq": "N"}


def test_the_sweeper_expires_history_items_but_never_the_head(aws_env: Any) -> None:
    aws = clients()
    table = resources(aws).history_table
    now = int(time.time())
    items = [
        {"channel": {"S": "room-1"}, "seq": {"N": "0"}, "head": {"N": "2"}},
        {
            "channel": {"S": "room-1"},
            "seq": {"N": "1"},
            "frame": {"S": "{}"},
            "delete_at": {"N": str(now - 1)},
        },
        {
            "channel": {"S": "room-1"},
            "seq": {"N": "2"},
            "frame": {"S": "{}"},
            "delete_at": {"N": str(now + 300)},
        },
    ]
    for item in items:
        aws["dynamodb"].put_item(TableName=table, Item=item)
    sweeper = TtlSweeper(
        dynamodb=aws["dynamodb"],
        table_name=table,
        deletions=ServiceDeletions(),
        key_names=("channel", "seq"),
    )
    assert sweeper.sweep_once() == 1
    remaining = aws["dynamodb"].scan(TableName=table)["Items"]
    assert sorted(int(item["seq"]["N"]) for item in remaining) == [0, 2]


def test_a_stack_json_written_before_the_history_keys_still_reads(tmp_path: Any) -> None:
    manifest = StackManifest(
        **{
            name: 1 if name == "pid" else "x"
            for name in StackManifest.__dataclass_fields__
            if name not in {"history_table", "idempotency_table"}
        }
    )
    path = manifest.write(tmp_path)
    document = json.loads(path.read_text("utf-8"))
    del document["history_table"], document["idempotency_table"]
    path.write_text(json.dumps(document), "utf-8")
    assert StackManifest.read(path).history_table == ""
