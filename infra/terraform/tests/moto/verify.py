"""Read back, from moto, what the data-plane apply must have created (or, after destroy, removed).

    python verify.py applied ENDPOINT    # the resources exist with the contract's settings
    python verify.py destroyed ENDPOINT  # nothing of the stack is left

Reading the live API rather than Terraform's outputs proves the provider sent what the
modules declare, not only that Terraform believes it did.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import boto3

PREFIX = "moto-sumu"
ROUTE_KEYS = {
    "$connect",
    "$disconnect",
    "$default",
    "ping",
    "send",
    "publish",
    "subscribe",
    "unsubscribe",
}
FUNCTIONS = ("authorizer", "connections", "pusher", "presence")


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def check(condition: bool, what: str, failures: list[str]) -> None:
    print(f"  {'ok  ' if condition else 'FAIL'} {what}")
    if not condition:
        failures.append(what)


def verify_applied(endpoint: str) -> list[str]:
    failures: list[str] = []
    dynamodb = client("dynamodb", endpoint)
    table = dynamodb.describe_table(TableName=f"{PREFIX}-connections")["Table"]
    keys = {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]}
    check(
        keys == {"user_id": "HASH", "connection_id": "RANGE"},
        "table keyed by user_id / connection_id",
        failures,
    )
    check(table["StreamSpecification"]["StreamEnabled"], "table stream enabled", failures)
    check(
        table.get("SSEDescription", {}).get("SSEType") == "KMS",
        "table encrypted with KMS",
        failures,
    )
    ttl = dynamodb.describe_time_to_live(TableName=f"{PREFIX}-connections")["TimeToLiveDescription"]
    check(
        ttl.get("AttributeName") == "delete_at" and ttl.get("TimeToLiveStatus") == "ENABLED",
        "TTL on delete_at",
        failures,
    )
    subscriptions = dynamodb.describe_table(TableName=f"{PREFIX}-subscriptions")["Table"]
    keys = {k["AttributeName"]: k["KeyType"] for k in subscriptions["KeySchema"]}
    check(
        keys == {"channel": "HASH", "connection_id": "RANGE"},
        "subscriptions table keyed by channel / connection_id",
        failures,
    )
    indexes = {
        index["IndexName"]: {k["AttributeName"]: k["KeyType"] for k in index["KeySchema"]}
        for index in subscriptions.get("GlobalSecondaryIndexes", [])
    }
    check(
        indexes == {"by_connection": {"connection_id": "HASH", "channel": "RANGE"}},
        "subscriptions table's by_connection index",
        failures,
    )
    ttl = dynamodb.describe_time_to_live(TableName=f"{PREFIX}-subscriptions")[
        "TimeToLiveDescription"
    ]
    check(
        ttl.get("AttributeName") == "delete_at" and ttl.get("TimeToLiveStatus") == "ENABLED",
        "subscriptions TTL on delete_at",
        failures,
    )
    # Issue 18: the history (channel / seq N) and idempotency (key) tables, TTL on delete_at.
    for name, expected in (
        ("history", {"channel": "HASH", "seq": "RANGE"}),
        ("idempotency", {"key": "HASH"}),
    ):
        described = dynamodb.describe_table(TableName=f"{PREFIX}-{name}")["Table"]
        keys = {k["AttributeName"]: k["KeyType"] for k in described["KeySchema"]}
        check(keys == expected, f"{name} table keyed by {' / '.join(expected)}", failures)
        ttl = dynamodb.describe_time_to_live(TableName=f"{PREFIX}-{name}")["TimeToLiveDescription"]
        check(ttl.get("AttributeName") == "delete_at", f"{name} TTL on delete_at", failures)

    sqs = client("sqs", endpoint)
    for channel in ("notifications", "messages"):
        url = sqs.get_queue_url(QueueName=f"{PREFIX}-{channel}")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes.get("RedrivePolicy", "{}"))
        check(
            redrive.get("deadLetterTargetArn", "").endswith(f"{PREFIX}-{channel}-dlq"),
            f"{channel} queue redrives to its DLQ",
            failures,
        )
        check("KmsMasterKeyId" in attributes, f"{channel} queue encrypted with KMS", failures)

    lambda_ = client("lambda", endpoint)
    for name in FUNCTIONS:
        alias = lambda_.get_alias(FunctionName=f"{PREFIX}-{name}", Name="live")
        check(
            alias["FunctionVersion"] != "$LATEST",
            f"{name} alias points at a published version",
            failures,
        )
    mappings = lambda_.list_event_source_mappings()["EventSourceMappings"]
    sources = {m["EventSourceArn"].split(":")[2] for m in mappings}
    check(
        sources == {"sqs", "dynamodb"},
        "event source mappings on the notifications queue and the table stream",
        failures,
    )
    check(
        all(m.get("FunctionResponseTypes") == ["ReportBatchItemFailures"] for m in mappings),
        "mappings report partial batch failures",
        failures,
    )

    sqs_mappings = [m for m in mappings if m["EventSourceArn"].split(":")[2] == "sqs"]
    check(
        [m.get("ScalingConfig", {}).get("MaximumConcurrency") for m in sqs_mappings] == [50],
        "the pusher's queue mapping caps it at 50 concurrent invocations",
        failures,
    )
    check(
        all(
            "ReservedConcurrentExecutions"
            not in lambda_.get_function_concurrency(FunctionName=f"{PREFIX}-{name}")
            for name in FUNCTIONS
        ),
        "no function takes a reservation out of the account's pool",
        failures,
    )

    apigw = client("apigatewayv2", endpoint)
    apis = [a for a in apigw.get_apis()["Items"] if a["Name"] == f"{PREFIX}-websocket"]
    check(len(apis) == 1, "one WebSocket API", failures)
    if apis:
        api = apis[0]
        check(
            api["RouteSelectionExpression"] == "$request.body.action",
            "route selection on the action",
            failures,
        )
        routes = {r["RouteKey"]: r for r in apigw.get_routes(ApiId=api["ApiId"])["Items"]}
        check(set(routes) == ROUTE_KEYS, "the eight routes", failures)
        check(
            routes.get("$connect", {}).get("AuthorizationType") == "CUSTOM",
            "$connect runs the authorizer",
            failures,
        )
        # moto implements the single-item reads, not GetAuthorizers / GetStages.
        authorizer_id = routes.get("$connect", {}).get("AuthorizerId", "")
        authorizer = apigw.get_authorizer(ApiId=api["ApiId"], AuthorizerId=authorizer_id)
        check(
            authorizer["AuthorizerType"] == "REQUEST", "a REQUEST authorizer on $connect", failures
        )
        stage = apigw.get_stage(ApiId=api["ApiId"], StageName="mvp")
        check("AccessLogSettings" in stage, "the mvp stage with access logs", failures)
        connect = stage.get("RouteSettings", {}).get("$connect", {})
        check(
            connect.get("ThrottlingRateLimit") == 100
            and connect.get("ThrottlingBurstLimit") == 200,
            "$connect (the authorizer's route) throttled on its own",
            failures,
        )
        groups = client("logs", endpoint).describe_log_groups(
            logGroupNamePrefix=f"API-Gateway-Execution-Logs_{api['ApiId']}/mvp"
        )["logGroups"]
        check(
            len(groups) == 1 and groups[0].get("retentionInDays") == 365,
            "the execution log group declared with retention",
            failures,
        )
    account = client("apigateway", endpoint).get_account()
    check(
        account.get("cloudwatchRoleArn", "").endswith(f"role/{PREFIX}-apigw-cloudwatch"),
        "API Gateway's account logging role set (opted in)",
        failures,
    )
    return failures


def verify_destroyed(endpoint: str) -> list[str]:
    failures: list[str] = []
    tables = client("dynamodb", endpoint).list_tables()["TableNames"]
    check(not [t for t in tables if t.startswith(PREFIX)], "no table left", failures)
    queues = client("sqs", endpoint).list_queues(QueueNamePrefix=PREFIX).get("QueueUrls", [])
    check(not queues, "no queue left", failures)
    functions = client("lambda", endpoint).list_functions()["Functions"]
    check(
        not [f for f in functions if f["FunctionName"].startswith(PREFIX)],
        "no function left",
        failures,
    )
    apis = client("apigatewayv2", endpoint).get_apis()["Items"]
    check(not [a for a in apis if a["Name"].startswith(PREFIX)], "no WebSocket API left", failures)
    return failures


def main() -> int:
    mode, endpoint = sys.argv[1], sys.argv[2]
    failures = verify_applied(endpoint) if mode == "applied" else verify_destroyed(endpoint)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
