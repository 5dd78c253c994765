# The four functions: environment per DESIGN.md section 3, event sources on the aliases with
# partial batch failures, the SNS subscription, and each execution role's real policy: the JSON
# IAM receives is decoded and its actions and resources compared with what the service calls
# (grep services/*/src for the boto3 / aiobotocore calls).
mock_provider "aws" {
  override_during = plan

  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }

  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

override_resource {
  target          = module.function.aws_lambda_alias.this
  override_during = plan
  values          = { arn = "arn:aws:lambda:us-east-1:123456789012:function:test-fn:live", name = "live" }
}

override_resource {
  target          = module.function.aws_lambda_function.this
  override_during = plan
  values          = { function_name = "test-fn", arn = "arn:aws:lambda:us-east-1:123456789012:function:test-fn" }
}

variables {
  prefix      = "test"
  package     = { s3_bucket = "artifacts", s3_key = "fn.zip" }
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  connections_table = {
    name       = "test-connections"
    arn        = "arn:aws:dynamodb:us-east-1:123456789012:table/test-connections"
    stream_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/test-connections/stream/2026-11-27T00:00:00.000"
  }
  subscriptions_table = {
    name                    = "test-subscriptions"
    arn                     = "arn:aws:dynamodb:us-east-1:123456789012:table/test-subscriptions"
    by_connection_index_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/test-subscriptions/index/by_connection"
  }
  history_table = {
    name = "test-history"
    arn  = "arn:aws:dynamodb:us-east-1:123456789012:table/test-history"
  }
  idempotency_table = {
    name = "test-idempotency"
    arn  = "arn:aws:dynamodb:us-east-1:123456789012:table/test-idempotency"
  }
  messages_topic_arn = "arn:aws:sns:us-east-1:123456789012:test-messages"
  messages_queue = {
    arn = "arn:aws:sqs:us-east-1:123456789012:test-messages"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/test-messages"
  }
  notifications_topic_arn = "arn:aws:sns:us-east-1:123456789012:test-notifications"
  notifications_queue_arn = "arn:aws:sqs:us-east-1:123456789012:test-notifications"
  notifications_queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/test-notifications"
  notifications_dlq = {
    arn = "arn:aws:sqs:us-east-1:123456789012:test-notifications-dlq"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/test-notifications-dlq"
  }
  apigw_endpoint      = "https://abc123.execute-api.us-east-1.amazonaws.com/mvp"
  apigw_execution_arn = "arn:aws:execute-api:us-east-1:123456789012:abc123"
  stage_name          = "mvp"
  issuer_jwks_uri     = "https://issuer.example.com/.well-known/jwks.json"
  presence_source     = "queue"
}

run "pusher_event_sources_target_the_alias" {
  command = plan

  module {
    source = "../pusher"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.notifications_queue.function_name == "arn:aws:lambda:us-east-1:123456789012:function:test-fn:live" && aws_lambda_event_source_mapping.notifications_queue.event_source_arn == var.notifications_queue_arn
    error_message = "The notifications queue must feed the pusher's alias."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.notifications_queue.function_response_types == toset(["ReportBatchItemFailures"]) && aws_lambda_event_source_mapping.notifications_queue.batch_size == 10
    error_message = "The queue mapping must report partial batch failures, 10 requests per batch."
  }

  assert {
    condition     = aws_sns_topic_subscription.notifications_topic.protocol == "lambda" && aws_sns_topic_subscription.notifications_topic.endpoint == "arn:aws:lambda:us-east-1:123456789012:function:test-fn:live" && aws_sns_topic_subscription.notifications_topic.topic_arn == var.notifications_topic_arn
    error_message = "The pusher's alias must subscribe to the notifications topic."
  }

  assert {
    condition     = aws_lambda_permission.notifications_topic.qualifier == "live" && aws_lambda_permission.notifications_topic.principal == "sns.amazonaws.com" && aws_lambda_permission.notifications_topic.source_arn == var.notifications_topic_arn
    error_message = "Only the notifications topic may invoke the pusher's alias."
  }

  assert {
    condition = output.environment == tomap({
      CONNECTIONS_TABLE_NAME           = "test-connections"
      APIGW_ENDPOINT                   = "https://abc123.execute-api.us-east-1.amazonaws.com/mvp"
      PUSHER_CONCURRENCY               = "64"
      NOTIFICATIONS_DLQ_URL            = "https://sqs.us-east-1.amazonaws.com/123456789012/test-notifications-dlq"
      SUBSCRIPTIONS_TABLE_NAME         = "test-subscriptions"
      HISTORY_TABLE_NAME               = "test-history"
      HISTORY_TTL_SECONDS              = "300"
      IDEMPOTENCY_TABLE_NAME           = "test-idempotency"
      IDEMPOTENCY_TTL_SECONDS          = "3600"
      NOTIFICATIONS_QUEUE_URL          = "https://sqs.us-east-1.amazonaws.com/123456789012/test-notifications"
      PUSHER_BROADCAST_SEGMENTS        = "auto"
      PUSHER_CHANNEL_SPLIT_SUBSCRIBERS = "auto"
    })
    error_message = "The pusher must get its DESIGN.md environment (and, issue 19, the queue its fan-out jobs go to and the jobs per broadcast)."
  }

  assert {
    condition = jsonencode({ for st in jsondecode(output.policy).Statement : st.Sid => [sort(st.Action), st.Resource] }) == jsonencode({
      WriteOwnLogs              = [["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/test-pusher:*"]]
      Tracing                   = [["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"]]
      DecryptEnvironment        = [["kms:Decrypt"], [var.kms_key_arn]]
      DeadLetter                = [["sqs:SendMessage"], [var.notifications_dlq.arn]]
      ReadAndPruneConnections   = [["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:Query", "dynamodb:Scan"], [var.connections_table.arn]]
      ReadAndPruneSubscriptions = [["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:Query"], [var.subscriptions_table.arn]]
      ListPrunedSubscriptions   = [["dynamodb:Query"], ["arn:aws:dynamodb:us-east-1:123456789012:table/test-subscriptions/index/by_connection"]]
      WriteChannelHistory       = [["dynamodb:PutItem", "dynamodb:UpdateItem"], [var.history_table.arn]]
      ClaimRequests             = [["dynamodb:UpdateItem"], [var.idempotency_table.arn]]
      PostToConnections         = [["execute-api:ManageConnections"], ["arn:aws:execute-api:us-east-1:123456789012:abc123/mvp/POST/@connections/*"]]
      PollNotificationRequests  = [["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"], [var.notifications_queue_arn]]
      EnqueueFanoutJobs         = [["sqs:SendMessage"], [var.notifications_queue_arn]]
      DeadLetterBadRequests     = [["sqs:SendMessage"], [var.notifications_dlq.arn]]
      UseStackKey               = [["kms:Decrypt", "kms:GenerateDataKey"], [var.kms_key_arn]]
    })
    error_message = "The pusher's role must hold exactly what sumu-pusher calls (Query, Scan, DescribeTable, BatchWriteItem, the conditional DeleteItem; a channel's subscribers by Query, a pruned connection's subscriptions by Query on by_connection then deleted; ManageConnections on this stage's POST @connections; the queue it polls, the DLQ it writes), nothing more."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.notifications_queue.maximum_batching_window_in_seconds == 0 && aws_lambda_event_source_mapping.notifications_queue.scaling_config[0].maximum_concurrency == 50
    error_message = "The queue mapping delivers at once (batches of 10 need no window) and caps the pusher at 50 concurrent invocations."
  }
}

run "pusher_broadcast_segments_number_plans" {
  command = plan

  module {
    source = "../pusher"
  }

  variables {
    broadcast_segments  = "8"
    maximum_concurrency = 8
  }

  assert {
    condition     = output.environment["PUSHER_BROADCAST_SEGMENTS"] == "8" && aws_lambda_event_source_mapping.notifications_queue.scaling_config[0].maximum_concurrency == 8
    error_message = "Eight fan-out jobs per broadcast, eight pusher invocations at once from the queue."
  }
}

run "pusher_rejects_bad_broadcast_segments" {
  command = plan

  module {
    source = "../pusher"
  }

  variables {
    broadcast_segments      = "0"
    notifications_queue_url = "sqs://not-a-url"
  }

  expect_failures = [var.broadcast_segments, var.notifications_queue_url]
}

run "pusher_channel_split_subscribers_number_plans" {
  command = plan

  module {
    source = "../pusher"
  }

  variables {
    channel_split_subscribers = "0"
  }

  assert {
    condition     = output.environment["PUSHER_CHANNEL_SPLIT_SUBSCRIBERS"] == "0"
    error_message = "0 splits every channel delivery into fan-out jobs."
  }
}

run "pusher_rejects_bad_channel_split_subscribers" {
  command = plan

  module {
    source = "../pusher"
  }

  variables {
    channel_split_subscribers = "-1"
  }

  expect_failures = [var.channel_split_subscribers]
}

run "pusher_rejects_fractional_broadcast_segments" {
  command = plan

  module {
    source = "../pusher"
  }

  variables {
    broadcast_segments = "2.5"
  }

  expect_failures = [var.broadcast_segments]
}

run "pusher_batches_above_ten_need_a_window" {
  command = plan

  module {
    source = "../pusher"
  }

  variables {
    batch_size = 100
  }

  expect_failures = [aws_lambda_event_source_mapping.notifications_queue]
}

run "pusher_large_batches_with_a_window" {
  command = plan

  module {
    source = "../pusher"
  }

  variables {
    batch_size                         = 100
    maximum_batching_window_in_seconds = 1
    maximum_concurrency                = null
  }

  assert {
    condition     = aws_lambda_event_source_mapping.notifications_queue.batch_size == 100 && aws_lambda_event_source_mapping.notifications_queue.maximum_batching_window_in_seconds == 1 && length(aws_lambda_event_source_mapping.notifications_queue.scaling_config) == 0
    error_message = "A batch above 10 plans with a batching window; a null maximum_concurrency leaves scaling to Lambda."
  }
}

run "pusher_rejects_out_of_range_windows_and_caps" {
  command = plan

  module {
    source = "../pusher"
  }

  variables {
    maximum_batching_window_in_seconds = 301
    maximum_concurrency                = 1
  }

  expect_failures = [var.maximum_batching_window_in_seconds, var.maximum_concurrency]
}

run "presence_reads_the_stream_through_the_alias" {
  command = plan

  override_resource {
    target          = aws_sqs_queue.failures
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:test-presence-failures" }
  }

  module {
    source = "../presence"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.connections_stream.event_source_arn == var.connections_table.stream_arn && aws_lambda_event_source_mapping.connections_stream.function_name == "arn:aws:lambda:us-east-1:123456789012:function:test-fn:live"
    error_message = "The table stream must feed the presence alias."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.connections_stream.function_response_types == toset(["ReportBatchItemFailures"]) && aws_lambda_event_source_mapping.connections_stream.bisect_batch_on_function_error
    error_message = "The stream mapping must report partial batch failures and split failing batches."
  }

  assert {
    condition     = length(aws_lambda_event_source_mapping.connections_stream.destination_config[0].on_failure) == 1 && aws_sqs_queue.failures.kms_master_key_id == var.kms_key_arn
    error_message = "Records failing every retry must be kept in the encrypted failures queue."
  }

  assert {
    condition     = output.environment.PRESENCE_SOURCE == "queue" && output.environment.MESSAGES_QUEUE_URL == var.messages_queue.url && output.environment.CONNECTIONS_TABLE_NAME == "test-connections"
    error_message = "Presence must get its DESIGN.md environment."
  }

  assert {
    condition = jsonencode({ for st in jsondecode(output.policy).Statement : st.Sid => [sort(st.Action), st.Resource] }) == jsonencode({
      WriteOwnLogs          = [["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/test-presence:*"]]
      Tracing               = [["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"]]
      DecryptEnvironment    = [["kms:Decrypt"], [var.kms_key_arn]]
      ReadConnectionsStream = [["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"], [var.connections_table.stream_arn]]
      CountUserConnections  = [["dynamodb:Query"], [var.connections_table.arn]]
      KeepFailedRecords     = [["sqs:SendMessage"], [aws_sqs_queue.failures.arn]]
      UseStackKey           = [["kms:Decrypt", "kms:GenerateDataKey"], [var.kms_key_arn]]
      SendPresence          = [["sqs:SendMessage"], [var.messages_queue.arn]]
    })
    error_message = "With presence_source = queue, presence reads the stream, queries the table, sends to the messages queue and its failures queue, and may not publish to the topic."
  }
}

run "presence_publishes_to_the_topic_only_when_asked" {
  command = plan

  override_resource {
    target          = aws_sqs_queue.failures
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:test-presence-failures" }
  }

  module {
    source = "../presence"
  }

  variables {
    presence_source = "topic"
  }

  assert {
    condition     = jsonencode([for st in jsondecode(output.policy).Statement : st if contains(st.Action, "sns:Publish")]) == jsonencode([{ Sid = "PublishPresence", Effect = "Allow", Action = ["sns:Publish"], Resource = [var.messages_topic_arn] }]) && !contains([for st in jsondecode(output.policy).Statement : st.Resource[0]], var.messages_queue.arn)
    error_message = "With presence_source = topic, presence publishes to the messages topic and cannot send to the messages queue."
  }
}

run "presence_rejects_an_unknown_source" {
  command = plan

  module {
    source = "../presence"
  }

  variables {
    presence_source = "carrier-pigeon"
  }

  expect_failures = [var.presence_source]
}

run "connections_environment_and_grants" {
  command = plan

  module {
    source = "../connections"
  }

  assert {
    condition = output.environment == tomap({
      CONNECTIONS_TABLE_NAME   = "test-connections"
      MESSAGES_TOPIC_ARN       = "arn:aws:sns:us-east-1:123456789012:test-messages"
      MESSAGES_QUEUE_URL       = "https://sqs.us-east-1.amazonaws.com/123456789012/test-messages"
      CONNECTION_TTL_SECONDS   = "7200"
      SUBSCRIPTIONS_TABLE_NAME = "test-subscriptions"
      SUMU_PUBLIC_CHANNELS     = "public:*"
      CHANNELS_PER_CONNECTION  = "100"
      HISTORY_TABLE_NAME       = "test-history"
      HISTORY_SIZE             = "100"
      APIGW_ENDPOINT           = "https://abc123.execute-api.us-east-1.amazonaws.com/mvp"
    })
    error_message = "The connections function must get its DESIGN.md environment."
  }

  assert {
    condition = jsonencode({ for st in jsondecode(output.policy).Statement : st.Sid => [sort(st.Action), st.Resource] }) == jsonencode({
      WriteOwnLogs                = [["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/test-connections:*"]]
      Tracing                     = [["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"]]
      DecryptEnvironment          = [["kms:Decrypt"], [var.kms_key_arn]]
      TrackConnections            = [["dynamodb:DeleteItem", "dynamodb:PutItem"], [var.connections_table.arn]]
      TrackSubscriptions          = [["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"], [var.subscriptions_table.arn]]
      ListConnectionSubscriptions = [["dynamodb:Query"], ["arn:aws:dynamodb:us-east-1:123456789012:table/test-subscriptions/index/by_connection"]]
      ReadChannelHistory          = [["dynamodb:GetItem", "dynamodb:Query"], [var.history_table.arn]]
      ReplayToConnections         = [["execute-api:ManageConnections"], ["arn:aws:execute-api:us-east-1:123456789012:abc123/mvp/POST/@connections/*"]]
      PublishUserMessages         = [["sns:Publish"], [var.messages_topic_arn]]
      SendUserMessages            = [["sqs:SendMessage"], [var.messages_queue.arn]]
      UseStackKey                 = [["kms:Decrypt", "kms:GenerateDataKey"], [var.kms_key_arn]]
    })
    error_message = "The connections role must hold exactly what sumu-connections calls: PutItem / DeleteItem on the connections table; GetItem / PutItem / DeleteItem / BatchWriteItem on the subscriptions table and Query on its by_connection index only; GetItem / Query on the history table and ManageConnections on this stage (the replay of a subscribe with since); Publish to the messages topic, SendMessage to the messages queue."
  }

  assert {
    condition     = alltrue([for st in jsondecode(output.policy).Statement : alltrue([for a in st.Action : !strcontains(a, "*")]) && (st.Sid == "Tracing" || !contains(st.Resource, "*"))])
    error_message = "No wildcard action anywhere; only X-Ray (no resource-level permissions) may name resource *."
  }
}

run "connections_rejects_a_ttl_shorter_than_a_connection" {
  command = plan

  module {
    source = "../connections"
  }

  variables {
    connection_ttl_seconds = 3600
  }

  expect_failures = [var.connection_ttl_seconds]
}

run "connections_channel_settings" {
  command = plan

  module {
    source = "../connections"
  }

  variables {
    public_channels         = ["public:*", "lobby"]
    channels_per_connection = 5
  }

  assert {
    condition     = output.environment.SUMU_PUBLIC_CHANNELS == "public:*,lobby" && output.environment.CHANNELS_PER_CONNECTION == "5"
    error_message = "The public patterns and the per-connection limit must reach the connections function."
  }
}

run "connections_rejects_bad_channel_settings" {
  command = plan

  module {
    source = "../connections"
  }

  variables {
    public_channels         = ["a,b"]
    channels_per_connection = 0
  }

  expect_failures = [var.public_channels, var.channels_per_connection]
}

run "authorizer_environment" {
  command = plan

  module {
    source = "../authorizer"
  }

  variables {
    authorized_audiences    = ["app-a", "app-b"]
    verify_token_expiration = false
    context_claims          = ["email"]
  }

  assert {
    condition = output.environment == tomap({
      JWT_ISSUER_JWKS_URI      = "https://issuer.example.com/.well-known/jwks.json"
      JWT_ISSUER               = ""
      JWT_AUTHORIZED_AUDIENCES = "app-a,app-b"
      JWT_VERIFY_EXPIRATION    = "false"
      JWT_ALGORITHMS           = "RS256,RS384,RS512,PS256,ES256,ES384,EdDSA"
      JWT_LEEWAY_SECONDS       = "60"
      JWT_CONTEXT_CLAIMS       = "email"
      JWT_CHANNELS_CLAIM       = "channels"
    })
    error_message = "The authorizer must get its DESIGN.md environment."
  }

  assert {
    condition     = [for st in jsondecode(output.policy).Statement : st.Sid] == ["WriteOwnLogs", "Tracing", "DecryptEnvironment"]
    error_message = "The authorizer calls no AWS API: its role only writes its logs, traces and decrypts its environment."
  }
}

run "authorizer_fails_closed_without_issuer_or_audience" {
  command = plan

  module {
    source = "../authorizer"
  }

  expect_failures = [output.lambda]
}

run "authorizer_opt_out_is_explicit" {
  command = plan

  module {
    source = "../authorizer"
  }

  variables {
    allow_any_issuer_and_audience = true
  }

  assert {
    condition     = output.environment.JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE == "true"
    error_message = "The opt-out reaches the authorizer as JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE=true."
  }
}

run "authorizer_with_an_issuer_only" {
  command = plan

  module {
    source = "../authorizer"
  }

  variables {
    issuer = "https://securetoken.google.com/acme"
  }

  assert {
    condition     = output.environment.JWT_ISSUER == "https://securetoken.google.com/acme" && !contains(keys(output.environment), "JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE")
    error_message = "An issuer alone is enough, and no opt-out is set."
  }
}

run "authorizer_rejects_symmetric_algorithms" {
  command = plan

  module {
    source = "../authorizer"
  }

  variables {
    authorized_audiences = ["app-a"]
    algorithms           = ["HS256"]
  }

  expect_failures = [var.algorithms]
}

run "function_publishes_and_aliases" {
  command = plan

  module {
    source = "../function"
  }

  variables {
    name    = "test-fn"
    handler = "sumu_pusher.handler.handler"
  }

  assert {
    condition     = aws_lambda_function.this.publish && aws_lambda_alias.this.name == "live" && aws_lambda_alias.this.function_name == "test-fn"
    error_message = "Every function publishes versions behind the `live` alias."
  }

  assert {
    condition     = aws_lambda_function.this.runtime == "python3.12" && aws_lambda_function.this.tracing_config[0].mode == "Active" && aws_lambda_function.this.kms_key_arn == var.kms_key_arn
    error_message = "python3.12, X-Ray tracing and an encrypted environment are the defaults."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/test-fn" && aws_cloudwatch_log_group.this.retention_in_days == 365 && aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn
    error_message = "The function's log group must exist up front, with retention and encryption."
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == -1
    error_message = "No reserved concurrency by default: a new account's limit makes reservations fail."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com" && jsondecode(aws_iam_role_policy.this.policy) == jsondecode(output.policy)
    error_message = "The role is assumed by Lambda only, and the policy attached is the one the tests read."
  }
}

run "function_rejects_a_negative_reservation" {
  command = plan

  module {
    source = "../function"
  }

  variables {
    name                 = "test-fn"
    handler              = "sumu_pusher.handler.handler"
    reserved_concurrency = -1
  }

  expect_failures = [var.reserved_concurrency]
}

run "function_rejects_wildcard_actions" {
  command = plan

  module {
    source = "../function"
  }

  variables {
    name    = "test-fn"
    handler = "sumu_pusher.handler.handler"
    policy_statements = [{
      sid       = "TooBroad"
      actions   = ["dynamodb:*"]
      resources = ["arn:aws:dynamodb:us-east-1:123456789012:table/t"]
    }]
  }

  expect_failures = [var.policy_statements]
}

run "function_rejects_two_code_sources" {
  command = plan

  module {
    source = "../function"
  }

  variables {
    name    = "test-fn"
    handler = "sumu_pusher.handler.handler"
    package = { file = "fn.zip", s3_bucket = "artifacts", s3_key = "fn.zip" }
  }

  expect_failures = [var.package]
}
