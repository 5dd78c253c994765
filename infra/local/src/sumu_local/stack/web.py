"""The local stack's own HTTP routes on the gateway's port: the JWKS and the demo page.

``GET /.well-known/jwks.json``  the local issuer's public key (what the authorizer fetches)
``GET /``                       the demo page (static files from ``sumu_local/demo``)
``GET /sumu-client.js``         the JavaScript client (``clients/js``, shipped as a copy in
                                ``sumu_local/demo``: this package is installed, not read from
                                the repository; a test keeps the copy equal to its source)
``GET /demo/token?sub=ID``      a token for any user id: the demo's "log in". Only served
                                while the local issuer is in use, never with a real provider.
                                ``&channels=room-* news:*`` adds the channels claim (the
                                patterns the connection may subscribe to, space-separated).
``GET /demo/online``            who is connected now, read from the connections table
``POST /demo/notify``           a notification request, validated, then sent to the
                                notifications queue or topic exactly as a backend would
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from sumu_contracts import ContractError, validate

from sumu_local.stack.issuer import TokenIssuer

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
CLIENT_MODULE = "sumu-client.js"  # a copy of clients/js/sumu-client.js (clients/js/sync-local-copy)
DEMO_TOKEN_TTL_SECONDS = 3600
MAX_ONLINE_PAGES = 100
MAX_CHANNEL_PATTERNS_CHARS = 2048


@dataclass
class DemoBackend:
    websocket_url: str
    issuer: TokenIssuer | None
    dynamodb: Any
    sqs: Any
    sns: Any
    connections_table: str
    notifications_queue_url: str
    notifications_topic_arn: str

    def configure_app(self, app: web.Application) -> None:
        app.router.add_get("/.well-known/jwks.json", self.jwks)
        app.router.add_get("/", self.index)
        app.router.add_get("/sumu-client.js", self.client_module)
        app.router.add_get("/demo/token", self.token)
        app.router.add_get("/demo/online", self.online)
        app.router.add_post("/demo/notify", self.notify)
        app.router.add_static("/demo/static", DEMO_DIR, show_index=False)

    async def jwks(self, request: web.Request) -> web.Response:
        if self.issuer is None:
            raise web.HTTPNotFound(text="this stack trusts an external identity provider")
        return web.json_response(self.issuer.jwks(), headers={"Cache-Control": "max-age=300"})

    async def index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(DEMO_DIR / "index.html")

    async def client_module(self, request: web.Request) -> web.FileResponse:
        # An ES module must be served with a JavaScript MIME type or the browser refuses to
        # run it (https://html.spec.whatwg.org/multipage/webappapis.html#fetch-a-single-module-script).
        return web.FileResponse(
            DEMO_DIR / CLIENT_MODULE,
            headers={"Content-Type": "application/javascript", "Cache-Control": "no-cache"},
        )

    async def token(self, request: web.Request) -> web.Response:
        if self.issuer is None:
            raise web.HTTPNotFound(text="the demo login needs the local issuer")
        subject = request.query.get("sub", "").strip()
        if not subject or len(subject) > 128:
            raise web.HTTPBadRequest(text="sub: a user id of 1 to 128 characters")
        patterns = request.query.get("channels", "").split()
        if len(" ".join(patterns)) > MAX_CHANNEL_PATTERNS_CHARS:
            raise web.HTTPBadRequest(text="channels: at most 2048 characters of patterns")
        # The claim as a list, one of the two shapes the authorizer accepts (issue 17).
        claims = {"channels": patterns} if patterns else None
        token = self.issuer.token(subject, ttl_seconds=DEMO_TOKEN_TTL_SECONDS, claims=claims)
        return web.json_response({"token": token, "websocket_url": self.websocket_url})

    async def online(self, request: web.Request) -> web.Response:
        users = await asyncio.to_thread(self._online_users)
        return web.json_response({"users": users})

    async def notify(self, request: web.Request) -> web.Response:
        # Only JSON bodies: a cross-site form POST (text/plain, no preflight) from any page in
        # the user's browser must not be able to notify through the local stack.
        if request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(text="the body must be application/json")
        try:
            document = await request.json()
        except json.JSONDecodeError:
            raise web.HTTPBadRequest(text="the body must be JSON") from None
        if not isinstance(document, dict):
            raise web.HTTPBadRequest(text="the body must be a JSON object")
        via = document.pop("via", "sqs")
        if via not in {"sqs", "sns"}:
            return web.json_response({"error": "via: sqs or sns"}, status=400)
        try:
            validate("notification-request", document)
        except ContractError as error:
            return web.json_response({"error": str(error)}, status=400)
        body = json.dumps(document)
        if via == "sns":
            response = await asyncio.to_thread(
                self.sns.publish, TopicArn=self.notifications_topic_arn, Message=body
            )
        else:
            response = await asyncio.to_thread(
                self.sqs.send_message, QueueUrl=self.notifications_queue_url, MessageBody=body
            )
        return web.json_response({"messageId": response["MessageId"], "via": via})

    def _online_users(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        request: dict[str, Any] = {
            "TableName": self.connections_table,
            "ProjectionExpression": "user_id",
        }
        for _ in range(MAX_ONLINE_PAGES):
            page = self.dynamodb.scan(**request)
            counts.update(item["user_id"]["S"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return dict(sorted(counts.items()))
