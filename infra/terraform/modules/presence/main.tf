# sumu-presence: turns the connections table stream (INSERT / REMOVE) into ONLINE / OFFLINE
# presence events on the messages topic or queue. Records that keep failing are kept, with their
# stream position, in a failures queue watched by an alarm.
locals {
  publish_statements = {
    topic = [{
      sid       = "PublishPresence"
      actions   = ["sns:Publish"]
      resources = [var.messages_topic_arn]
    }]
    queue = [{
      sid       = "SendPresence"
      actions   = ["sqs:SendMessage"]
      resources = [var.messages_queue.arn]
    }]
    stream = []
  }
}

resource "aws_sqs_queue" "failures" {
  name                              = "${var.prefix}-presence-failures"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags
}

module "function" {
  source = "../function"

  name                 = "${var.prefix}-presence"
  description          = "SUMU presence watchdog"
  handler              = "sumu_presence.handler.handler"
  package              = var.package
  kms_key_arn          = var.kms_key_arn
  memory_size          = 256
  timeout              = 30
  reserved_concurrency = var.reserved_concurrency
  log_retention_days   = var.log_retention_days
  tags                 = var.tags

  environment = {
    CONNECTIONS_TABLE_NAME = var.connections_table.name
    PRESENCE_SOURCE        = var.presence_source
    MESSAGES_TOPIC_ARN     = var.messages_topic_arn
    MESSAGES_QUEUE_URL     = var.messages_queue.url
  }

  policy_statements = concat([
    {
      # https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#events-dynamodb-permissions
      sid       = "ReadConnectionsStream"
      actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
      resources = [var.connections_table.stream_arn]
    },
    {
      # OFFLINE only when the user's last connection is gone: look up the remaining ones.
      sid       = "CountUserConnections"
      actions   = ["dynamodb:Query"]
      resources = [var.connections_table.arn]
    },
    {
      sid       = "KeepFailedRecords"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.failures.arn]
    },
    {
      sid       = "UseStackKey"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [var.kms_key_arn]
    },
  ], local.publish_statements[var.presence_source])
}

resource "aws_lambda_event_source_mapping" "connections_stream" {
  event_source_arn  = var.connections_table.stream_arn
  function_name     = module.function.alias_arn
  starting_position = "TRIM_HORIZON"
  batch_size        = var.batch_size
  # Retry only the records after the first failure the handler reports, and split poisoned batches.
  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = true
  maximum_retry_attempts         = var.maximum_retry_attempts
  maximum_record_age_in_seconds  = 3600
  tags                           = var.tags

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.failures.arn
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "failures_depth" {
  alarm_name          = "${var.prefix}-presence-failures-not-empty"
  alarm_description   = "Presence stream records failed every retry and wait in the failures queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.failures.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
