"""``LocalStack``: moto, the resources, the gateway and the event sources, started and stopped
together. ``sumu up`` runs one in the foreground; tests run one in-process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sumu_local.gateway import Gateway, GatewayConfig
from sumu_local.gateway.config import HandlerRef
from sumu_local.gateway.invocation import HandlerTimeoutError
from sumu_local.stack.aws import LOCAL_CREDENTIALS, aws_client
from sumu_local.stack.config import FUNCTION_NAMES, LOCAL_AUDIENCE, StackConfig
from sumu_local.stack.functions import Function, FunctionError, FunctionTimeout, open_functions
from sumu_local.stack.issuer import TokenIssuer, load_or_create_key
from sumu_local.stack.lambda_runtime import HandlerLoadError, Invocable, LocalFunction
from sumu_local.stack.manifest import (
    STACK_FILE,
    ManifestError,
    StackManifest,
    process_is_alive,
)
from sumu_local.stack.moto_server import MotoServer, start_moto, start_moto_process
from sumu_local.stack.resources import StackResources, create_resources
from sumu_local.stack.sources import (
    ServiceDeletions,
    SnsEventSource,
    SqsEventSource,
    StreamEventSource,
    TtlSweeper,
)
from sumu_local.stack.web import DemoBackend

logger = logging.getLogger("sumu_local.stack")

# Every route of the WebSocket API goes to the connections function, as in the Terraform.
CONNECTION_ROUTES = (
    "$connect",
    "$disconnect",
    "$default",
    "ping",
    "send",
    "publish",
    "subscribe",
    "unsubscribe",
)
SOURCE_JOIN_SECONDS = 5.0


class StackError(RuntimeError):
    """The stack cannot start: a port in use, a handler that does not import..."""


@dataclass
class LocalStack:
    config: StackConfig
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _moto: MotoServer | None = None
    _gateway: Gateway | None = None
    _functions: dict[str, Function] = field(default_factory=dict)
    manifest: StackManifest | None = None
    resources: StackResources | None = None
    issuer: TokenIssuer | None = None

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            raise StackError("the stack is not started")
        return self._gateway

    async def start(self) -> StackManifest:
        config = self.config
        _refuse_a_second_stack(config.state_dir / STACK_FILE)
        port = _resolve_port(config.host, config.port, "--port")
        aws_port = _resolve_port(config.host, config.aws_port, "--aws-port")
        # 0.1's design keeps moto in this process too; functions in processes of their own get
        # it in a process of its own (see moto_server).
        start: Callable[[str, int], MotoServer] = (
            start_moto if config.function_mode == "inprocess" else start_moto_process
        )
        try:
            moto = await asyncio.to_thread(start, config.host, aws_port)
        except RuntimeError as error:
            raise StackError(f"--aws-port {aws_port}: {error}") from error
        self._moto = moto
        endpoint = moto.endpoint_url
        try:
            return await self._start_on(port, endpoint)
        except BaseException:
            await self.stop()
            raise

    async def _start_on(self, port: int, endpoint: str) -> StackManifest:
        config = self.config
        clients = {name: aws_client(name, endpoint, config.region) for name in _SERVICES}
        resources = await asyncio.to_thread(
            create_resources,
            stage=config.stage,
            timeouts=config.timeouts,
            dynamodb=clients["dynamodb"],
            sqs=clients["sqs"],
            sns=clients["sns"],
        )
        self.resources = resources
        base_url = f"http://{config.host}:{port}"
        signing_key_file = ""
        if config.uses_local_issuer:
            key, key_path = load_or_create_key(config.state_dir)
            signing_key_file = str(key_path.resolve())
            self.issuer = TokenIssuer(key=key, issuer=base_url, audience=LOCAL_AUDIENCE)
            jwks_url, issuer, audience = (
                f"{base_url}/.well-known/jwks.json",
                base_url,
                LOCAL_AUDIENCE,
            )
        else:
            jwks_url = str(config.jwks_uri)
            issuer, audience = config.issuer or "", config.audience or ""
        management_url = f"{base_url}/{config.stage}"
        environment = _handler_environment(
            config=config,
            resources=resources,
            endpoint=endpoint,
            management_url=management_url,
            jwks_url=jwks_url,
            issuer=issuer,
            audience=audience,
        )
        functions, gateway_handlers = await self._start_functions(environment)
        demo = DemoBackend(
            websocket_url=f"ws://{config.host}:{port}/{config.stage}",
            issuer=self.issuer,
            dynamodb=clients["dynamodb"],
            sqs=clients["sqs"],
            sns=clients["sns"],
            connections_table=resources.connections_table,
            notifications_queue_url=resources.notifications_queue_url,
            notifications_topic_arn=resources.notifications_topic_arn,
        )
        timeouts = config.timeouts
        self._gateway = Gateway(
            GatewayConfig(
                routes=dict.fromkeys(CONNECTION_ROUTES, gateway_handlers["connections"]),
                authorizer=gateway_handlers["authorizer"],
                # No identity-source gate: DESIGN.md lets a client carry its token in the
                # `authorization` query parameter (browsers) or the Authorization header, and a
                # gate can only require both or one. The authorizer itself answers Unauthorized
                # (401) when it finds neither; infra/terraform configures the same.
                identity_sources=(),
                host=config.host,
                port=port,
                stage=config.stage,
                region=config.region,
                idle_timeout_seconds=timeouts.idle_timeout_seconds,
                max_duration_seconds=timeouts.max_duration_seconds,
                handler_timeout_seconds=timeouts.integration_timeout_seconds,
                # The gateway waits for each function at most its Lambda timeout (capped at
                # the integration timeout, API Gateway's 29 s).
                handler_timeouts={
                    **dict.fromkeys(
                        CONNECTION_ROUTES, config.function_spec("connections").timeout_seconds
                    ),
                    "authorizer": config.function_spec("authorizer").timeout_seconds,
                },
                # In-process handlers read the stack's variables from os.environ; functions in
                # processes of their own get them in their process's environment instead.
                environment=environment if config.function_mode == "inprocess" else {},
            ),
            configure_app=demo.configure_app,
        )
        await self._gateway.start()
        self._start_sources(functions, clients, resources)
        self.manifest = StackManifest(
            websocket_url=self._gateway.websocket_url,
            management_url=self._gateway.management_url,
            aws_endpoint_url=endpoint,
            region=config.region,
            stage=config.stage,
            connections_table=resources.connections_table,
            connections_stream_arn=resources.connections_stream_arn,
            subscriptions_table=resources.subscriptions_table,
            history_table=resources.history_table,
            idempotency_table=resources.idempotency_table,
            notifications_topic_arn=resources.notifications_topic_arn,
            notifications_queue_url=resources.notifications_queue_url,
            notifications_dlq_url=resources.notifications_dlq_url,
            messages_topic_arn=resources.messages_topic_arn,
            messages_queue_url=resources.messages_queue_url,
            messages_dlq_url=resources.messages_dlq_url,
            jwks_url=jwks_url,
            issuer=issuer,
            audience=audience,
            presence_source=config.presence_source,
            demo_url=f"{base_url}/",
            signing_key_file=signing_key_file,
            pid=os.getpid(),
        )
        self.manifest.write(config.state_dir)
        return self.manifest

    async def _start_functions(
        self, environment: dict[str, str]
    ) -> tuple[dict[str, Invocable], dict[str, HandlerRef]]:
        """The four functions for the event sources, and the gateway's handlers for two."""
        config = self.config
        if config.function_mode == "inprocess":
            # Every function runs in this process, so they share one environment, as their
            # Lambda configurations would if they were merged (none disagree on a variable).
            os.environ.update(environment)
            local = {
                name: LocalFunction(
                    name,
                    spec.handler or "",
                    spec.timeout_seconds,
                    region=config.region,
                )
                for name, spec in ((n, config.function_spec(n)) for n in FUNCTION_NAMES)
            }
            for function in local.values():
                try:
                    await asyncio.to_thread(function.load)  # a bad dotted path fails here
                except HandlerLoadError as error:
                    raise StackError(f"[handlers] {function.name}: {error}") from error
            paths: dict[str, HandlerRef] = {
                name: function.handler_path for name, function in local.items()
            }
            return dict(local), paths
        specs = {name: config.function_spec(name) for name in FUNCTION_NAMES}
        try:
            self._functions = await asyncio.to_thread(
                open_functions, specs, environment=environment, region=config.region
            )
        except FunctionError as error:
            # The message names the function and ends with its last lines of output.
            raise StackError(f"function {error}") from error
        for spec in specs.values():
            logger.info(
                "function %s: %s, timeout %ss, at most %d environments",
                spec.name,
                spec.description,
                spec.timeout_seconds,
                spec.concurrency,
            )
        handlers: dict[str, HandlerRef] = {
            name: gateway_handler(self._functions[name]) for name in ("authorizer", "connections")
        }
        return dict(self._functions), handlers

    def _start_sources(
        self,
        functions: dict[str, Invocable],
        clients: dict[str, Any],
        resources: StackResources,
    ) -> None:
        timeouts = self.config.timeouts
        region = self.config.region
        deletions = ServiceDeletions()
        # Each poller gets its own clients: botocore clients are thread-safe, but one slow long
        # poll must not hold a connection another poller waits for.
        endpoint = clients["sqs"].meta.endpoint_url
        # Lambda polls an SQS queue with several pollers and runs their batches concurrently; a
        # second poller also keeps one batch's deletes from delaying the next batch's receive.
        # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
        runners: dict[str, Callable[[threading.Event], None]] = {
            f"notifications-sqs-{index}": SqsEventSource(
                function=functions["pusher"],
                sqs=aws_client("sqs", endpoint, region),
                queue_url=resources.notifications_queue_url,
                queue_arn=resources.notifications_queue_arn,
                region=region,
                batch_size=timeouts.sqs_batch_size,
                wait_seconds=timeouts.sqs_wait_seconds,
            ).run
            for index in range(max(1, timeouts.sqs_pollers))
        }
        runners |= {
            # SNS invokes a Lambda subscriber asynchronously, side by side up to the function's
            # concurrency (None: ``spec.concurrency``). Safe since moto's Scan no longer walks
            # and sorts the table per segment (sumu_local.moto_scan_fastpath): concurrent
            # broadcasts each Scanning 10,000 items stay well inside the pusher's read timeout.
            # https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
            "notifications-sns": SnsEventSource(
                function=functions["pusher"],
                sqs=aws_client("sqs", endpoint, region),
                delivery_queue_url=resources.sns_delivery_queue_url,
                subscription_arn=resources.sns_delivery_subscription_arn,
                wait_seconds=timeouts.sqs_wait_seconds,
                concurrency=None,
            ).run,
            "connections-stream": StreamEventSource(
                function=functions["presence"],
                streams=aws_client("dynamodbstreams", endpoint, region),
                stream_arn=resources.connections_stream_arn,
                region=region,
                deletions=deletions,
                batch_size=timeouts.stream_batch_size,
                poll_seconds=timeouts.stream_poll_seconds,
                max_retries=timeouts.stream_max_retries,
            ).run,
            "ttl-sweeper": TtlSweeper(
                dynamodb=aws_client("dynamodb", endpoint, region),
                table_name=resources.connections_table,
                deletions=deletions,
                interval_seconds=timeouts.ttl_sweep_seconds,
            ).run,
            # Subscriptions carry their connection's delete_at, so a connection that expires
            # loses its channels in the same sweep period, as DynamoDB's TTL would do.
            "ttl-sweeper-subscriptions": TtlSweeper(
                dynamodb=aws_client("dynamodb", endpoint, region),
                table_name=resources.subscriptions_table,
                deletions=ServiceDeletions(),  # no stream reads this table
                interval_seconds=timeouts.ttl_sweep_seconds,
                key_names=("channel", "connection_id"),
            ).run,
            # Issue 18: history items expire HISTORY_TTL_SECONDS after publishing (head items
            # carry no delete_at and are never swept); idempotency items after their TTL.
            "ttl-sweeper-history": TtlSweeper(
                dynamodb=aws_client("dynamodb", endpoint, region),
                table_name=resources.history_table,
                deletions=ServiceDeletions(),
                interval_seconds=timeouts.ttl_sweep_seconds,
                key_names=("channel", "seq"),
            ).run,
            "ttl-sweeper-idempotency": TtlSweeper(
                dynamodb=aws_client("dynamodb", endpoint, region),
                table_name=resources.idempotency_table,
                deletions=ServiceDeletions(),
                interval_seconds=timeouts.ttl_sweep_seconds,
                key_names=("key",),
            ).run,
        }
        for name, run in runners.items():
            thread = threading.Thread(target=run, args=(self._stop,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    async def stop(self) -> None:
        """Stop the pollers, close every connection (each gets $disconnect), then moto."""
        self._stop.set()
        if self._gateway is not None:
            await self._gateway.stop()
            self._gateway = None
        for thread in self._threads:
            await asyncio.to_thread(thread.join, SOURCE_JOIN_SECONDS)
        self._threads.clear()
        functions, self._functions = list(self._functions.values()), {}
        for function in functions:
            await asyncio.to_thread(function.close)
        if self._moto is not None:
            await asyncio.to_thread(self._moto.stop)
            self._moto = None
        if self.manifest is not None:
            (self.config.state_dir / STACK_FILE).unlink(missing_ok=True)


_SERVICES = ("dynamodb", "sqs", "sns")


def gateway_handler(function: Function) -> HandlerRef:
    """The gateway's handler for a function: awaited on the gateway's loop; a Lambda timeout
    becomes the integration timeout API Gateway reports (504, the error frame)."""

    async def invoke(event: Any, context: Any) -> Any:
        try:
            return await function.ainvoke(event)
        except FunctionTimeout as error:
            raise HandlerTimeoutError(str(error)) from error

    invoke.__qualname__ = function.name  # the function name in the gateway's logs
    return invoke


def _handler_environment(
    *,
    config: StackConfig,
    resources: StackResources,
    endpoint: str,
    management_url: str,
    jwks_url: str,
    issuer: str,
    audience: str,
) -> dict[str, str]:
    environment = {
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "CONNECTIONS_TABLE_NAME": resources.connections_table,
        "SUBSCRIPTIONS_TABLE_NAME": resources.subscriptions_table,
        # Issue 18: the pusher writes both; the connections function reads history and posts
        # its replay through APIGW_ENDPOINT (set below for both).
        "HISTORY_TABLE_NAME": resources.history_table,
        "IDEMPOTENCY_TABLE_NAME": resources.idempotency_table,
        "MESSAGES_TOPIC_ARN": resources.messages_topic_arn,
        "MESSAGES_QUEUE_URL": resources.messages_queue_url,
        "CONNECTION_TTL_SECONDS": str(config.timeouts.connection_ttl_seconds),
        "CONNECTION_TTL_ALLOW_SHORT": "true",  # emulation only: TTL tests run 2 s lifetimes
        "APIGW_ENDPOINT": management_url,
        "NOTIFICATIONS_DLQ_URL": resources.notifications_dlq_url,
        # Issue 19: the pusher enqueues a broadcast's fan-out jobs on its own queue.
        "NOTIFICATIONS_QUEUE_URL": resources.notifications_queue_url,
        "PRESENCE_SOURCE": config.presence_source,
        "JWT_ISSUER_JWKS_URI": jwks_url,
        "JWT_ISSUER": issuer,
        "JWT_AUTHORIZED_AUDIENCES": audience,
    }
    return {**environment, **config.environment}


def _refuse_a_second_stack(manifest_path: Path) -> None:
    """One stack per state directory: a second would overwrite the first one's stack.json."""
    try:
        running = StackManifest.read(manifest_path)
    except ManifestError:
        return  # none, or a damaged file that this stack will replace
    if running.pid != os.getpid() and process_is_alive(running.pid):
        raise StackError(
            f"a stack is already running from {manifest_path.parent} (pid {running.pid}); "
            "stop it first or use another --state-dir"
        )


def _resolve_port(host: str, port: int, flag: str) -> int:
    """The port to use: a free one for 0, else the given one once it is known to be free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise StackError(
                f"{flag} {port}: {host}:{port} is in use ({error.strerror})"
            ) from error
        return int(probe.getsockname()[1])
