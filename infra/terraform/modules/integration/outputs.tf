output "notifications_topic_arn" {
  description = "SNS topic backends publish notification requests to."
  value       = aws_sns_topic.this["notifications"].arn
}

output "notifications_queue_arn" {
  description = "SQS queue ARN backends send notification requests to."
  value       = aws_sqs_queue.this["notifications"].arn
}

output "notifications_queue_url" {
  description = "SQS queue URL backends send notification requests to."
  value       = aws_sqs_queue.this["notifications"].id
}

output "notifications_dlq_arn" {
  description = "Dead-letter queue ARN of notification requests."
  value       = aws_sqs_queue.dlq["notifications"].arn
}

output "notifications_dlq_url" {
  description = "Dead-letter queue URL of notification requests (NOTIFICATIONS_DLQ_URL)."
  value       = aws_sqs_queue.dlq["notifications"].id
}

output "messages_topic_arn" {
  description = "SNS topic carrying user messages and presence events to backends."
  value       = aws_sns_topic.this["messages"].arn
}

output "messages_queue_arn" {
  description = "SQS queue ARN carrying user messages and presence events to backends."
  value       = aws_sqs_queue.this["messages"].arn
}

output "messages_queue_url" {
  description = "SQS queue URL carrying user messages and presence events to backends."
  value       = aws_sqs_queue.this["messages"].id
}

output "messages_dlq_arn" {
  description = "Dead-letter queue ARN of backend messages."
  value       = aws_sqs_queue.dlq["messages"].arn
}

output "messages_dlq_url" {
  description = "Dead-letter queue URL of backend messages."
  value       = aws_sqs_queue.dlq["messages"].id
}

output "dlq_alarm_names" {
  description = "CloudWatch alarms on dead-letter queue depth, by channel."
  value       = { for k, a in aws_cloudwatch_metric_alarm.dlq_depth : k => a.alarm_name }
}

output "notifications_topic_policy" {
  description = "Resource policy of the notifications topic (JSON), null when no other account publishes."
  value       = one(aws_sns_topic_policy.notifications[*].policy)
}

output "notifications_queue_policy" {
  description = "Resource policy of the notifications queue (JSON), null when no other account sends."
  value       = one(aws_sqs_queue_policy.notifications[*].policy)
}

output "channels" {
  description = "Both channels as the seed's module gave them: by channel (notifications, messages), the topic (name, ARN) and the queue (name, ARN, URL)."
  value = {
    for channel in keys(local.channels) : channel => {
      topic = { name = aws_sns_topic.this[channel].name, arn = aws_sns_topic.this[channel].arn }
      queue = { name = aws_sqs_queue.this[channel].name, arn = aws_sqs_queue.this[channel].arn, url = aws_sqs_queue.this[channel].id }
    }
  }
}
