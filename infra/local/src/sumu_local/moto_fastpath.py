"""A fast path for moto's DynamoDB Query on a table's primary key.

moto (5.x) answers a Query on a table by walking every item of the table: ``Table.query`` keeps
``[item for item in self.all_items() if item.hash_key == hash_key]``, and ``all_items()`` first
builds and sorts a list of the whole table. A selected-user notification is one Query per user,
so at 10,000 connections the embedded stack would spend its time sorting the table (measured in
``bench/moto_query.py``), while DynamoDB reads only the partition.

The remedy keeps every line of moto's own Query logic (key-condition parsing and validation,
range conditions, ``ScanIndexForward``, ``Limit``, ``ExclusiveStartKey`` / ``LastEvaluatedKey``,
the 1 MB page, ``FilterExpression``, projections, ``ConsistentRead``, ``Count``): it narrows only
the candidates that code walks. moto stores a table's items as ``items[hash_key][range_key]``
(``items[hash_key]`` for a table without a range key), and ``DynamoType`` hashes exactly as it
compares (``hash((type, cast_value))``), so ``items.get(hash_key)`` holds exactly the items its
``item.hash_key == hash_key`` filter keeps, returned in the same order as ``all_items()``.

A Query on a global or local secondary index (the subscriptions table's ``by_connection``
lookups of every subscribe and disconnect) walks the table too, and sorts it twice: moto's
``all_items()`` sort, then ``sorted_items`` on the index's keys followed by the table's keys. That
second sort orders by a key that includes the table's primary key (unique), so the first sort
never decides anything: for an index Query, ``all_items()`` here returns, unsorted, only the items
whose attributes equal every hash-key condition (moto's own test, ``attrs.get(name) ==
value``, which its loop then repeats). A Query without a hash key, and every other caller of
``all_items()`` (exports, ...), run moto's code unchanged; Scan has its own path
(``moto_scan_fastpath``, installed with this one). The narrowing is scoped to the calling thread (moto's
server answers requests on several threads), so a concurrent Scan still sees the whole table.
The Query's ``Items`` (already DynamoDB JSON once moto's ``dynamo_to_dict`` has run) are written
with ``json.dumps`` instead of moto's generic, shape-driven serializer; the rest of the response
(``Count``, ``LastEvaluatedKey``, ``ConsumedCapacity``, errors) is still serialized by moto.
``tests/test_moto_fastpath.py`` proves the answers equal to moto's own on random tables (every
attribute type) and queries, on the table and on an index.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from sumu_local import moto_handler_fastpath, moto_scan_fastpath

_original_handler_query: Callable[..., Any] = DynamoHandler.query
_original_query: Callable[..., Any] = Table.query
_original_all_items: Callable[..., Any] = Table.all_items
_QUERY_SIGNATURE = inspect.signature(_original_query)
_scope = threading.local()
_install_lock = threading.Lock()


def install() -> None:
    """Patch moto's ``Table`` (idempotent): every moto server in this process gets the path,
    the Scan one (``moto_scan_fastpath``) and the action lookup (``moto_handler_fastpath``)."""
    with _install_lock:
        Table.query = _query_one_partition  # type: ignore[method-assign]
        Table.all_items = _all_items_in_scope  # type: ignore[method-assign]
        DynamoHandler.query = _handler_query  # type: ignore[method-assign]
    moto_scan_fastpath.install()
    moto_handler_fastpath.install()


def uninstall() -> None:
    """Restore moto's own ``Table.query``, ``Table.all_items`` and Scan."""
    with _install_lock:
        Table.query = _original_query  # type: ignore[method-assign]
        Table.all_items = _original_all_items  # type: ignore[method-assign]
        DynamoHandler.query = _original_handler_query  # type: ignore[method-assign]
    moto_scan_fastpath.uninstall()
    moto_handler_fastpath.uninstall()


def installed() -> bool:
    return Table.query is _query_one_partition


@contextmanager
def disabled() -> Iterator[None]:
    """moto's own code for the duration of the block (benchmarks and equality tests)."""
    was_installed = installed()
    uninstall()
    try:
        yield
    finally:
        if was_installed:
            install()


def _handler_query(self: DynamoHandler) -> Any:
    """moto's Query, with its ``Items`` written as JSON directly: its generic serializer walks
    every attribute of every item against the operation's shapes (a channel's subscribers are
    one Query of up to thousands of items); the rest of the response is still moto's."""
    response = _original_handler_query(self)
    if type(response).__name__ != "DynamoResult" or not isinstance(response, ActionResult):
        return response
    result = response.result
    if not isinstance(result, dict) or not isinstance(result.get("Items"), list):
        return response
    return moto_scan_fastpath.RawItemsResult(
        result, moto_scan_fastpath.items_json(result.pop("Items"))
    )


def _query_one_partition(self: Table, *args: Any, **kwargs: Any) -> Any:
    call = _QUERY_SIGNATURE.bind(self, *args, **kwargs)
    if call.arguments.get("index_name") is not None:
        conditions = call.arguments.get("hash_key_conditions")
        if not conditions:
            return _original_query(self, *args, **kwargs)
        _scope.index_match = (self, list(conditions))
        try:
            return _original_query(self, *args, **kwargs)
        finally:
            _scope.index_match = None
    if call.arguments.get("hash_key") is None:
        return _original_query(self, *args, **kwargs)
    _scope.partition = (self, call.arguments["hash_key"])
    try:
        return _original_query(self, *args, **kwargs)
    finally:
        _scope.partition = None


def _all_items_in_scope(self: Table) -> Any:
    index_scope = getattr(_scope, "index_match", None)
    if index_scope is not None and index_scope[0] is self:
        _scope.index_match = None
        return _items_matching(self, index_scope[1])
    partition_scope = getattr(_scope, "partition", None)
    if partition_scope is None or partition_scope[0] is not self:
        return _original_all_items(self)
    # Once is enough: anything else Query might call that walks the table sees all of it.
    _scope.partition = None
    partition = self.items.get(partition_scope[1])
    if partition is None:
        return []
    if not self.range_key_attr:
        return [partition]
    # all_items() sorts the table by (hash, range); within one partition that is range order.
    return sorted(partition.values(), key=lambda item: item.range_key)


def _items_matching(table: Table, conditions: list[tuple[str, Any]]) -> list[Any]:
    """The items an index Query's hash conditions keep, in the table's storage order: the
    caller sorts them by a unique key (index keys, then the table's), so no order is lost."""
    if table.range_key_attr:
        # list() of each dict is one step under the GIL: a concurrent PutItem on another of
        # moto's request threads cannot change a partition while it is read.
        items = [
            item for partition in list(table.items.values()) for item in list(partition.values())
        ]
    else:
        items = list(table.items.values())
    for name, value in conditions:
        if value.type == "S":
            # A string's cast_value is its value: compare those directly (DynamoType.__eq__
            # computes cast_value in Python on both sides, most of the walk's time otherwise).
            text = value.value
            items = [
                item
                for item in items
                if (found := item.attrs.get(name)) is not None
                and found.type == "S"
                and found.value == text
            ]
        else:
            items = [
                item
                for item in items
                if (found := item.attrs.get(name)) is not None and found == value
            ]
    return items
