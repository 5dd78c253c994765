"""DynamoDB as the functions see it: moto behind a proxy that reads like DynamoDB can.

moto answers every read from the latest state, so it cannot tell a strongly consistent read
from an eventually consistent one. DynamoDB can: an eventually consistent read may return an
item deleted a moment ago
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html).
The proxy reproduces that one effect: items the kit marks as just deleted ("ghosts") are still
returned by reads without ``ConsistentRead``. It can also fail chosen operations with a 500.
Everything else is forwarded to moto unchanged.
"""

from __future__ import annotations

import http.client
import json
import threading
import zlib
from typing import Any

from sumu_local.conformance.http_servers import LoopbackServer, QuietHandler

_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class DynamoDbProxy:
    def __init__(self, moto_host: str, moto_port: int) -> None:
        self.moto = (moto_host, moto_port)
        self._lock = threading.Lock()
        self._ghosts: dict[str, dict[str, dict[str, Any]]] = {}  # user_id -> connection_id -> item
        self.failing: set[str] = set()  # operation names (Query, PutItem...) answered with a 500
        # Ghosts are connection records: reads of another table (subscriptions) never see them.
        self.ghost_table = ""
        self._server = LoopbackServer(_Handler, self)

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def ghost(self, item: dict[str, Any]) -> None:
        """Keep returning ``item`` (DynamoDB JSON) to eventually consistent reads."""
        with self._lock:
            user = item["user_id"]["S"]
            self._ghosts.setdefault(user, {})[item["connection_id"]["S"]] = item

    def clear_ghosts(self) -> None:
        with self._lock:
            self._ghosts.clear()

    def _ghosts_for(self, operation: str, request: dict[str, Any]) -> list[dict[str, Any]]:
        other_table = bool(self.ghost_table) and request.get("TableName") != self.ghost_table
        if request.get("ConsistentRead") is True or other_table:
            return []
        with self._lock:
            if not self._ghosts:
                return []
            if operation == "Scan":
                return [item for items in self._ghosts.values() for item in items.values()]
            if operation == "Query":
                users = _query_users(request)
                return [item for user in users for item in self._ghosts.get(user, {}).values()]
            if operation == "GetItem":
                key = request.get("Key", {})
                user = key.get("user_id", {}).get("S")
                connection = key.get("connection_id", {}).get("S")
                found = self._ghosts.get(user or "", {}).get(connection or "")
                return [found] if found else []
        return []


def _query_users(request: dict[str, Any]) -> list[str]:
    values = request.get("ExpressionAttributeValues") or {}
    users = [value["S"] for value in values.values() if isinstance(value, dict) and "S" in value]
    for condition in (request.get("KeyConditions") or {}).values():
        users += [value.get("S", "") for value in condition.get("AttributeValueList", [])]
    return users


def _project(item: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    if request.get("ProjectionExpression") or request.get("Select") == "COUNT":
        return {key: item[key] for key in ("user_id", "connection_id") if key in item}
    return item


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        proxy: DynamoDbProxy = self.server.owner  # type: ignore[attr-defined]
        body = self.read_body()
        operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
        if operation in proxy.failing:
            self.answer(
                500,
                json.dumps(
                    {
                        "__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                        "message": "conformance: injected failure",
                    }
                ).encode(),
                {"Content-Type": "application/x-amz-json-1.0"},
            )
            return
        status, headers, answer = self._forward(proxy, body)
        if status == 200 and operation in ("Query", "Scan", "GetItem"):
            changed = self._with_ghosts(proxy, operation, body, answer)
            if changed is not answer:
                # DynamoDB signs its body with a CRC32 header that botocore checks.
                headers = {k: v for k, v in headers.items() if k.lower() != "x-amz-crc32"}
                headers["x-amz-crc32"] = str(zlib.crc32(changed))
                answer = changed
        self.answer(status, answer, headers)

    def _forward(self, proxy: DynamoDbProxy, body: bytes) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(*proxy.moto, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
            connection.request("POST", self.path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            kept = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_HEADERS}
            return response.status, kept, answer
        finally:
            connection.close()

    def _with_ghosts(
        self, proxy: DynamoDbProxy, operation: str, body: bytes, answer: bytes
    ) -> bytes:
        try:
            request = json.loads(body or b"{}")
            document = json.loads(answer)
        except ValueError:
            return answer
        ghosts = proxy._ghosts_for(operation, request)
        if not ghosts:
            return answer
        if request.get("Select") == "COUNT":
            document["Count"] = document.get("Count", 0) + len(ghosts)
        elif operation == "GetItem":
            document.setdefault("Item", _project(ghosts[0], request))
        else:
            items = document.setdefault("Items", [])
            present = {
                (i.get("user_id", {}).get("S"), i.get("connection_id", {}).get("S")) for i in items
            }
            for ghost in ghosts:
                key = (ghost["user_id"]["S"], ghost["connection_id"]["S"])
                if key not in present:
                    items.append(_project(ghost, request))
            document["Count"] = len(items)
            document["ScannedCount"] = max(document.get("ScannedCount", 0), len(items))
        return json.dumps(document).encode()
