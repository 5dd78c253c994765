# sumu-pusher: fans notification requests out to live connections. Two inputs, as the seed had:
# the notifications queue (batched, partial failures reported) and the notifications topic
# (SNS invokes asynchronously; failed invocations go to the notifications DLQ).
module "function" {
  source = "../function"

  name                   = "${var.prefix}-pusher"
  description            = "SUMU notifications pusher"
  handler                = "sumu_pusher.handler.handler"
  package                = var.package
  kms_key_arn            = var.kms_key_arn
  memory_size            = 512
  timeout                = var.timeout
  reserved_concurrency   = var.reserved_concurrency
  log_retention_days     = var.log_retention_days
  dead_letter_target_arn = var.notifications_dlq.arn
  tags                   = var.tags

  environment = {
    CONNECTIONS_TABLE_NAME   = var.connections_table.name
    APIGW_ENDPOINT           = var.apigw_endpoint
    PUSHER_CONCURRENCY       = tostring(var.concurrency)
    NOTIFICATIONS_DLQ_URL    = var.notifications_dlq.url
    SUBSCRIPTIONS_TABLE_NAME = var.subscriptions_table.name
    # Issue 18: channel seqs and history, idempotent request ids.
    HISTORY_TABLE_NAME      = var.history_table.name
    HISTORY_TTL_SECONDS     = tostring(var.history_ttl_seconds)
    IDEMPOTENCY_TABLE_NAME  = var.idempotency_table.name
    IDEMPOTENCY_TTL_SECONDS = tostring(var.idempotency_ttl_seconds)
    # Issue 19: broadcasts split into fan-out jobs on the notifications queue.
    NOTIFICATIONS_QUEUE_URL   = var.notifications_queue_url
    PUSHER_BROADCAST_SEGMENTS = var.broadcast_segments
    # Channels with more subscribers than this go out as fan-out jobs too (0.5.0).
    PUSHER_CHANNEL_SPLIT_SUBSCRIBERS = var.channel_split_subscribers
  }

  policy_statements = [
    {
      # What sumu_pusher.store calls: Query (a user's connections), Scan (broadcasts, segmented by
      # DescribeTable's item count), BatchWriteItem and a conditional DeleteItem (prune connections
      # answering 410; the condition on connected_at spares a $connect still in flight).
      sid       = "ReadAndPruneConnections"
      actions   = ["dynamodb:Query", "dynamodb:Scan", "dynamodb:DescribeTable", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"]
      resources = [var.connections_table.arn]
    },
    {
      # A channel's subscribers: Query on the table (channel is its hash key). A pruned
      # connection's subscriptions: Query on by_connection, then BatchWriteItem / DeleteItem.
      sid       = "ReadAndPruneSubscriptions"
      actions   = ["dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"]
      resources = [var.subscriptions_table.arn]
    },
    {
      sid       = "ListPrunedSubscriptions"
      actions   = ["dynamodb:Query"]
      resources = [var.subscriptions_table.by_connection_index_arn]
    },
    {
      # Issue 18: a channel's next seq (UpdateItem ADD on its head item) and the message's
      # history item (PutItem).
      sid       = "WriteChannelHistory"
      actions   = ["dynamodb:UpdateItem", "dynamodb:PutItem"]
      resources = [var.history_table.arn]
    },
    {
      # Issue 18: claim a request id / input message (conditional UpdateItem), remember its seqs.
      sid       = "ClaimRequests"
      actions   = ["dynamodb:UpdateItem"]
      resources = [var.idempotency_table.arn]
    },
    {
      sid       = "PostToConnections"
      actions   = ["execute-api:ManageConnections"]
      resources = ["${var.apigw_execution_arn}/${var.stage_name}/POST/@connections/*"]
    },
    {
      # What the event source mapping needs to poll:
      # https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions
      sid       = "PollNotificationRequests"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
      resources = [var.notifications_queue_arn]
    },
    {
      # Issue 19: a broadcast's fan-out jobs and the narrowed jobs of failed connections go back
      # on the queue the pusher polls (SendMessageBatch is authorised by sqs:SendMessage:
      # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html).
      # The queue is encrypted with the stack key: UseStackKey below covers GenerateDataKey.
      sid       = "EnqueueFanoutJobs"
      actions   = ["sqs:SendMessage"]
      resources = [var.notifications_queue_arn]
    },
    {
      sid       = "DeadLetterBadRequests"
      actions   = ["sqs:SendMessage"]
      resources = [var.notifications_dlq.arn]
    },
    {
      sid       = "UseStackKey"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [var.kms_key_arn]
    },
  ]
}

resource "aws_lambda_event_source_mapping" "notifications_queue" {
  event_source_arn = var.notifications_queue_arn
  function_name    = module.function.alias_arn
  batch_size       = var.batch_size
  # 0 delivers as soon as a request is visible; Lambda refuses a batch size above 10 from SQS
  # without a batching window of at least one second (validated in variables.tf):
  # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]
  tags                               = var.tags

  # The pusher's cap: at most this many concurrent invocations fed by the queue, without taking a
  # reservation out of the account's pool (a reservation fails on new accounts):
  # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html#events-sqs-max-concurrency
  lifecycle {
    precondition {
      condition     = var.batch_size <= 10 || var.maximum_batching_window_in_seconds >= 1
      error_message = "A batch size above 10 needs a batching window: set maximum_batching_window_in_seconds to at least 1, as Lambda requires for SQS."
    }
  }

  dynamic "scaling_config" {
    for_each = var.maximum_concurrency == null ? [] : [var.maximum_concurrency]
    content {
      maximum_concurrency = scaling_config.value
    }
  }
}

resource "aws_sns_topic_subscription" "notifications_topic" {
  topic_arn = var.notifications_topic_arn
  protocol  = "lambda"
  endpoint  = module.function.alias_arn
}

resource "aws_lambda_permission" "notifications_topic" {
  statement_id  = "AllowNotificationsTopic"
  action        = "lambda:InvokeFunction"
  function_name = module.function.function_name
  qualifier     = module.function.alias_name
  principal     = "sns.amazonaws.com"
  source_arn    = var.notifications_topic_arn
}
