# sumu-connections: every WebSocket route ($connect, $disconnect, ping, send, publish, subscribe,
# unsubscribe, $default).
# API Gateway invokes it synchronously (AWS_PROXY), so it has no dead-letter queue.
module "function" {
  source = "../function"

  name                 = "${var.prefix}-connections"
  description          = "SUMU WebSocket routes"
  handler              = "sumu_connections.handler.handler"
  package              = var.package
  kms_key_arn          = var.kms_key_arn
  memory_size          = 256
  timeout              = 15 # send/publish retry SQS/SNS for up to ~12 s (sumu-connections README); API Gateway waits 29 s
  reserved_concurrency = var.reserved_concurrency
  log_retention_days   = var.log_retention_days
  tags                 = var.tags

  environment = {
    CONNECTIONS_TABLE_NAME   = var.connections_table.name
    MESSAGES_TOPIC_ARN       = var.messages_topic_arn
    MESSAGES_QUEUE_URL       = var.messages_queue.url
    CONNECTION_TTL_SECONDS   = tostring(var.connection_ttl_seconds)
    SUBSCRIPTIONS_TABLE_NAME = var.subscriptions_table.name
    SUMU_PUBLIC_CHANNELS     = join(",", var.public_channels)
    CHANNELS_PER_CONNECTION  = tostring(var.channels_per_connection)
    HISTORY_TABLE_NAME       = var.history_table.name
    HISTORY_SIZE             = tostring(var.history_size)
    APIGW_ENDPOINT           = var.apigw_endpoint
  }

  policy_statements = [
    {
      sid       = "TrackConnections"
      actions   = ["dynamodb:PutItem", "dynamodb:DeleteItem"]
      resources = [var.connections_table.arn]
    },
    {
      # subscribe: GetItem (already subscribed?) then PutItem; unsubscribe: DeleteItem;
      # $disconnect: BatchWriteItem deletes of what the index lists.
      sid       = "TrackSubscriptions"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
      resources = [var.subscriptions_table.arn]
    },
    {
      # A connection's channels: the limit check on subscribe, the cleanup on $disconnect.
      sid       = "ListConnectionSubscriptions"
      actions   = ["dynamodb:Query"]
      resources = [var.subscriptions_table.by_connection_index_arn]
    },
    {
      # subscribe with since (issue 18): the channel's head item (GetItem) and its history after
      # since (Query), both ConsistentRead; never a write.
      sid       = "ReadChannelHistory"
      actions   = ["dynamodb:GetItem", "dynamodb:Query"]
      resources = [var.history_table.arn]
    },
    {
      # The replay posts the missed messages to the subscribing connection, on this stage only.
      sid       = "ReplayToConnections"
      actions   = ["execute-api:ManageConnections"]
      resources = ["${var.apigw_execution_arn}/${var.stage_name}/POST/@connections/*"]
    },
    {
      sid       = "PublishUserMessages"
      actions   = ["sns:Publish"]
      resources = [var.messages_topic_arn]
    },
    {
      sid       = "SendUserMessages"
      actions   = ["sqs:SendMessage"]
      resources = [var.messages_queue.arn]
    },
    {
      # SSE-KMS on the table, topic and queue: writers need a data key.
      sid       = "UseStackKey"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [var.kms_key_arn]
    },
  ]
}
