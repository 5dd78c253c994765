"""A fast path for moto's DynamoDB Scan of a table (not an index).

moto (5.x) answers each Scan request, and each segment of a parallel Scan, by building and sorting
a list of the whole table (``Table.all_items``), hashing every item's key to test its segment
(``Item.is_within_segment``), deep-copying every item it returns, and serializing the response
through its generic, shape-driven ``ResponseSerializer`` (per attribute of every item). At
10,000 connections a pusher broadcast (a 3-segment Scan) took ~4 s of moto's time, past the
pusher's 10 s read timeout once the machine was busy (``/work/notes/perf.md``).

This path keeps moto's request parsing and validation (``DynamoHandler.scan`` runs unchanged up to
the table) and moto's answer, and does the table's part in one walk:

- the items of the requested segment only (its test cached per hash value), sorted in moto's
  ``all_items`` order (hash, then range; the same ``DynamoType`` comparisons, taken on their
  ``cast_value``), the page start found by bisection instead of walking the previous pages;
- moto's page rules: ``Limit`` counts the items read, the 1 MB page (``RESULT_SIZE_LIMIT``, the
  same ``Item.size``), ``LastEvaluatedKey`` only when an item is left over (moto's behaviour;
  DynamoDB may also return one on a page that ends exactly at the last item), ``ScannedCount``
  before and ``Count`` after the ``FilterExpression`` (moto's own expression object);
- ``ProjectionExpression``: top-level string and number attributes are copied (numbers in the
  form moto's projection gives them: boto3's ``TypeSerializer``); any other projection goes
  through moto's own ``Item.project``;
- ``Items`` are written as DynamoDB JSON straight from the stored attributes; the rest of the
  response (``Count``, ``ScannedCount``, ``LastEvaluatedKey``, ``ConsumedCapacity``) still goes
  through moto's serializer, so its headers and fields are moto's.

Anything else runs moto's code unchanged: a Scan of an index, the legacy ``ScanFilter``, a table
whose keys are not all strings or numbers (binary keys, or mixed types), an ``ExclusiveStartKey``
that is not exactly one of the table's keys, and the (impossible) page whose first item alone
exceeds 1 MB. ``tests/test_moto_scan_fastpath.py`` proves the answers equal to moto's on random
tables and requests. https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html
"""

from __future__ import annotations

import base64
import bisect
import inspect
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT
from moto.core.responses import ActionContext, ActionResult
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table
from moto.dynamodb.responses import DynamoHandler

_original_handler_scan: Callable[..., Any] = DynamoHandler.scan
_original_table_scan: Callable[..., Any] = Table.scan
_TABLE_SCAN_SIGNATURE = inspect.signature(_original_table_scan)
_KEY_TYPES = frozenset({"S", "N"})
_scope = threading.local()
_install_lock = threading.Lock()


class _Fallback(Exception):
    """The request is one this path does not answer: moto's own code does."""


@dataclass
class _Request:
    count_only: bool
    items: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Placeholder:
    """What ``DynamoHandler.scan`` reads of each returned item (``item.attrs``): a cheap token,
    the item itself is already in ``_Request.items``."""

    attrs: str = ""


def install() -> None:
    """Patch moto's ``DynamoHandler.scan`` and ``Table.scan`` (idempotent)."""
    with _install_lock:
        DynamoHandler.scan = _handler_scan  # type: ignore[method-assign]
        Table.scan = _table_scan  # type: ignore[method-assign]


def uninstall() -> None:
    with _install_lock:
        DynamoHandler.scan = _original_handler_scan  # type: ignore[method-assign]
        Table.scan = _original_table_scan  # type: ignore[method-assign]


def installed() -> bool:
    return Table.scan is _table_scan


class RawItemsResult(ActionResult):
    """moto's serializer for everything but ``Items``, which are spliced in as JSON."""

    def __init__(self, result: dict[str, Any], items_json: str) -> None:
        super().__init__(result)
        self._items_json = items_json

    def execute_result(self, context: ActionContext) -> Any:
        status, headers, body = super().execute_result(context)
        text = body.decode() if isinstance(body, bytes) else str(body)
        text = text.rstrip()
        if not text.endswith("}"):  # pragma: no cover - moto's JSON serializer writes an object
            raise RuntimeError(f"unexpected Scan body from moto's serializer: {text[:80]!r}")
        separator = "" if text[:-1].rstrip().endswith("{") else ", "
        return status, headers, f'{text[:-1]}{separator}"Items": {self._items_json}}}'


def items_json(items: list[Any]) -> str:
    """``Items`` already converted by moto's ``dynamo_to_dict`` (binary values as bytes) as the
    JSON its serializer writes: blobs base64, everything else as it is."""
    return json.dumps(items, default=_blob)


def _blob(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not JSON: {type(value).__name__}")


def _handler_scan(self: DynamoHandler) -> Any:
    request = _Request(count_only=self.body.get("Select") == "COUNT")
    _scope.request = request
    try:
        response = _original_handler_scan(self)
    finally:
        _scope.request = None
    if request.items is None or not isinstance(response, ActionResult):
        return response  # moto answered itself
    result = response.result
    if not isinstance(result, dict):  # pragma: no cover - Scan answers an object
        return response
    items = result.pop("Items", None)
    if items is None:  # Select=COUNT
        return response
    return RawItemsResult(result, json.dumps(request.items))


def _table_scan(self: Table, *args: Any, **kwargs: Any) -> Any:
    request: _Request | None = getattr(_scope, "request", None)
    _scope.request = None  # once per request: any other Scan on this thread is moto's
    if request is None:
        return _original_table_scan(self, *args, **kwargs)
    call = _TABLE_SCAN_SIGNATURE.bind(self, *args, **kwargs)
    call.apply_defaults()
    arguments = call.arguments
    try:
        if arguments["filters"] or arguments["index_name"]:
            raise _Fallback
        results, scanned_count, last_evaluated_key = _scan_table(
            self,
            limit=arguments["limit"],
            exclusive_start_key=arguments["exclusive_start_key"],
            segments=arguments["segments"],
        )
    except _Fallback:
        return _original_table_scan(self, *args, **kwargs)
    filter_expression = arguments["filter_expression"]
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    projection = arguments["projection_expression"]
    if not request.count_only:
        request.items = [_project_wire(item, projection) for item in results]
    return [_Placeholder() for _ in results], scanned_count, last_evaluated_key


def _scan_table(
    table: Table,
    *,
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    segments: tuple[int | None, int | None],
) -> tuple[list[Item], int, dict[str, Any] | None]:
    keyed, hash_types, range_types = _segment_items(table, segments)
    if len(hash_types) > 1 or len(range_types) > 1 or not hash_types | range_types <= _KEY_TYPES:
        raise _Fallback  # moto compares mixed (or binary) key types by its own rules
    # all_items() order: DynamoType compares by cast_value (same type here), so this is its sort.
    keyed.sort(key=lambda pair: pair[0])
    start = 0
    if exclusive_start_key is not None:
        start_key = _start_key(table, exclusive_start_key, hash_types, range_types)
        start = bisect.bisect_right(keyed, start_key, key=lambda pair: pair[0])
    results: list[Item] = []
    result_size = 0
    last_evaluated_key = None
    for _, item in keyed[start:]:
        size = _size(item)
        if len(results) == limit or result_size + size > RESULT_SIZE_LIMIT:
            if not results:
                raise _Fallback  # moto fails on results[-1] here; let it
            last_evaluated_key = table._get_last_evaluated_key(results[-1], None)
            break
        results.append(item)
        result_size += size
    return results, len(results), last_evaluated_key


def _segment_items(
    table: Table, segments: tuple[int | None, int | None]
) -> tuple[list[tuple[Any, Item]], set[str], set[str]]:
    """One walk of the table: the segment's items with their sort keys, and the key types."""
    ranged = bool(table.range_key_attr)
    keyed: list[tuple[Any, Item]] = []
    hash_types: set[str] = set()
    range_types: set[str] = set()
    whole_table = segments == (None, None)
    in_segment: dict[str, bool] = {}
    for partition in list(table.items.values()):
        members: list[Item] = list(partition.values()) if ranged else [partition]  # type: ignore[list-item]
        for item in members:
            hash_key = item.hash_key
            hash_types.add(hash_key.type)
            if not whole_table:
                # moto hashes the stored hash value's text (md5), so equal numbers written
                # differently ("1", "1.0") may land in different segments: cache per text.
                inside = in_segment.get(hash_key.value)
                if inside is None:
                    inside = in_segment[hash_key.value] = item.is_within_segment(segments)  # type: ignore[arg-type]
                if not inside:
                    continue
            if not ranged:
                keyed.append((_sort_value(hash_key), item))
                continue
            range_key = item.range_key
            if range_key is None:
                raise _Fallback
            range_types.add(range_key.type)
            keyed.append(((_sort_value(hash_key), _sort_value(range_key)), item))
    return keyed, hash_types, range_types


def _sort_value(key: DynamoType) -> Any:
    # DynamoType orders by cast_value: a string's is its value (skip the property's type tests)
    return key.value if key.type == "S" else key.cast_value


def _size(item: Item) -> int:
    """``Item.size()`` (moto's page limit), computed inline for string and number attributes."""
    total = 0
    for name, value in item.attrs.items():
        kind = value.type
        if kind == "S":
            total += len(name.encode()) + len(value.value.encode())
        elif kind == "N":
            total += len(name.encode()) + len(str(value.value))
        else:
            return item.size()
    return total


def _start_key(
    table: Table, start: dict[str, Any], hash_types: set[str], range_types: set[str]
) -> Any:
    """The ExclusiveStartKey as a sort key, when it is exactly one key of this table; moto
    skips the items at or before it (``_item_comes_before_dct``): a bisection to its right."""
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    if not isinstance(start, dict) or set(start) != set(names):
        raise _Fallback
    values = []
    for name, types in zip(names, (hash_types, range_types), strict=False):
        value = start[name]
        if not isinstance(value, dict) or len(value) != 1:
            raise _Fallback
        ((kind, raw),) = value.items()
        if kind not in _KEY_TYPES or (types and kind not in types) or not isinstance(raw, str):
            raise _Fallback
        try:
            values.append(DynamoType({kind: raw}).cast_value)
        except ArithmeticError as error:  # decimal's InvalidOperation: moto's error, not ours
            raise _Fallback from error
    return tuple(values) if table.range_key_attr else values[0]


def _project_wire(item: Item, projection: list[list[str]] | None) -> dict[str, Any]:
    if not projection:
        return {name: _wire(value) for name, value in item.attrs.items()}
    projected: dict[str, Any] = {}
    for path in projection:
        name = path[0]
        if len(path) != 1 or "[" in name:
            return _wire_attrs(item.project(projection))  # nested: moto's own projection
        value = item.attrs.get(name)
        if value is None:
            continue
        if value.type == "S":
            projected[name] = {"S": value.value}
        elif value.type == "N":
            # moto projects through boto3's TypeDeserializer/TypeSerializer: Decimal's text
            projected[name] = {"N": str(DYNAMODB_CONTEXT.create_decimal(value.value))}
        else:
            return _wire_attrs(item.project(projection))
    return projected


def _wire_attrs(item: Item) -> dict[str, Any]:
    return {name: _wire(value) for name, value in item.attrs.items()}


def _wire(value: DynamoType) -> Any:
    """DynamoDB JSON of a stored value, as moto's ``dynamo_to_dict`` + serializer write it."""
    kind = value.type
    if kind == "M":
        return {"M": {key: _wire(DynamoType(child)) for key, child in value.value.items()}}
    if kind == "L":
        return {"L": [_wire(DynamoType(child)) for child in value.value]}
    if kind == "B":
        return {"B": _base64(value.value)}
    if kind == "BS":
        return {"BS": [_base64(member) for member in value.value]}
    return {kind: value.value}


def _base64(value: str | bytes) -> str:
    # moto keeps wire values base64 and projected ones raw; its serializer re-encodes the bytes
    raw = value if isinstance(value, bytes) else base64.b64decode(value)
    return base64.b64encode(raw).decode("ascii")
