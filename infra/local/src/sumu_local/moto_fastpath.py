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

Only a Query on the table itself takes the fast path. A Query on an index (moto filters on index
attributes there) or without a hash key, and every other caller of ``all_items()`` (Scan,
exports, ...), run moto's code unchanged. The narrowing is scoped to the calling thread (moto's
server answers requests on several threads), so a concurrent Scan still sees the whole table.
``tests/test_moto_fastpath.py`` proves the answers equal to moto's own on random tables and
queries.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models.table import Table

_original_query: Callable[..., Any] = Table.query
_original_all_items: Callable[..., Any] = Table.all_items
_QUERY_SIGNATURE = inspect.signature(_original_query)
_scope = threading.local()
_install_lock = threading.Lock()


def install() -> None:
    """Patch moto's ``Table`` (idempotent): every moto server in this process gets the path."""
    with _install_lock:
        Table.query = _query_one_partition  # type: ignore[method-assign]
        Table.all_items = _all_items_in_scope  # type: ignore[method-assign]


def uninstall() -> None:
    """Restore moto's own ``Table.query`` and ``Table.all_items``."""
    with _install_lock:
        Table.query = _original_query  # type: ignore[method-assign]
        Table.all_items = _original_all_items  # type: ignore[method-assign]


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


def _query_one_partition(self: Table, *args: Any, **kwargs: Any) -> Any:
    call = _QUERY_SIGNATURE.bind(self, *args, **kwargs)
    if call.arguments.get("index_name") is not None or call.arguments.get("hash_key") is None:
        return _original_query(self, *args, **kwargs)
    _scope.partition = (self, call.arguments["hash_key"])
    try:
        return _original_query(self, *args, **kwargs)
    finally:
        _scope.partition = None


def _all_items_in_scope(self: Table) -> Any:
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
