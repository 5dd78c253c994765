# The integration surface backends use:
#   notifications (input):  backend -> topic / queue -> pusher  (contract notification-request)
#   messages (output):      connections / presence -> topic / queue -> backends
#                           (contracts user-message and presence-event)
# Every queue has a dead-letter queue; the redrive policies are separate resources because an
# inline redrive_policy drifts on JSON whitespace against some endpoints (moto in the tests).
locals {
  channels = {
    notifications = "Notification requests from backends to the pusher"
    messages      = "Messages from connected users (and presence events) to backends"
  }
}

resource "aws_sns_topic" "this" {
  for_each = local.channels

  name              = "${var.prefix}-${each.key}"
  display_name      = each.value
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sqs_queue" "dlq" {
  for_each = local.channels

  name                              = "${var.prefix}-${each.key}-dlq"
  message_retention_seconds         = var.dlq_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags
}

resource "aws_sqs_queue" "this" {
  for_each = local.channels

  name                       = "${var.prefix}-${each.key}"
  visibility_timeout_seconds = var.visibility_timeout_seconds
  # Short polling keeps delivery as fast as SNS for the pusher's event source mapping.
  receive_wait_time_seconds         = 0
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags

  # aws_sqs_queue_redrive_policy owns the redrive policy.
  lifecycle {
    ignore_changes = [redrive_policy]
  }
}

resource "aws_sqs_queue_redrive_policy" "this" {
  for_each = local.channels

  queue_url = aws_sqs_queue.this[each.key].id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  for_each = local.channels

  alarm_name          = "${var.prefix}-${each.key}-dlq-not-empty"
  alarm_description   = "${each.value}: messages reached the dead-letter queue and need attention."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq[each.key].name }
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

# Backends in other accounts publish notification requests here. The policies exist only when
# there are such accounts; this account's principals are allowed by their IAM policies.
locals {
  publisher_principals = [for id in var.publisher_account_ids : "arn:${data.aws_partition.current.partition}:iam::${id}:root"]
}

data "aws_partition" "current" {}

resource "aws_sns_topic_policy" "notifications" {
  count = length(var.publisher_account_ids) == 0 ? 0 : 1

  arn = aws_sns_topic.this["notifications"].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OtherAccountsPublish"
      Effect    = "Allow"
      Principal = { AWS = local.publisher_principals }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.this["notifications"].arn
    }]
  })
}

resource "aws_sqs_queue_policy" "notifications" {
  count = length(var.publisher_account_ids) == 0 ? 0 : 1

  queue_url = aws_sqs_queue.this["notifications"].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OtherAccountsSend"
      Effect    = "Allow"
      Principal = { AWS = local.publisher_principals }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.this["notifications"].arn
    }]
  })
}
