# Topics and queues: encryption, dead-letter queues with redrive, alarms on DLQ depth.
mock_provider "aws" {
  override_during = plan

  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

override_resource {
  target          = aws_sqs_queue.dlq["notifications"]
  override_during = plan
  values          = { arn = "arn:aws:sqs:us-east-1:123456789012:test-notifications-dlq" }
}

override_resource {
  target          = aws_sqs_queue.dlq["messages"]
  override_during = plan
  values          = { arn = "arn:aws:sqs:us-east-1:123456789012:test-messages-dlq" }
}

variables {
  prefix      = "test"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "every_queue_has_a_dead_letter_queue" {
  command = plan

  module {
    source = "../integration"
  }

  assert {
    condition     = jsondecode(aws_sqs_queue_redrive_policy.this["notifications"].redrive_policy).deadLetterTargetArn == "arn:aws:sqs:us-east-1:123456789012:test-notifications-dlq"
    error_message = "The notifications queue must redrive to its own DLQ."
  }

  assert {
    condition     = jsondecode(aws_sqs_queue_redrive_policy.this["messages"].redrive_policy).deadLetterTargetArn == "arn:aws:sqs:us-east-1:123456789012:test-messages-dlq"
    error_message = "The messages queue must redrive to its own DLQ."
  }

  assert {
    condition     = alltrue([for p in aws_sqs_queue_redrive_policy.this : jsondecode(p.redrive_policy).maxReceiveCount == 5])
    error_message = "Messages must move to the DLQ after 5 receives by default."
  }

  assert {
    condition     = alltrue([for q in concat(values(aws_sqs_queue.this), values(aws_sqs_queue.dlq)) : q.kms_master_key_id == var.kms_key_arn])
    error_message = "Every queue must be encrypted with the stack key and leave redrive to aws_sqs_queue_redrive_policy."
  }

  assert {
    condition     = alltrue([for t in aws_sns_topic.this : t.kms_master_key_id == var.kms_key_arn])
    error_message = "Every topic must be encrypted with the stack key."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.dlq_depth : a.metric_name == "ApproximateNumberOfMessagesVisible" && a.threshold == 0 && a.comparison_operator == "GreaterThanThreshold"])
    error_message = "Each DLQ needs an alarm firing on its first message."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_depth["notifications"].dimensions.QueueName == "test-notifications-dlq"
    error_message = "The notifications alarm must watch the notifications DLQ."
  }
}

run "max_receive_count_is_bounded" {
  command = plan

  module {
    source = "../integration"
  }

  variables {
    max_receive_count = 0
  }

  expect_failures = [var.max_receive_count]
}

run "other_accounts_publish_notification_requests" {
  command = plan

  module {
    source = "../integration"
  }

  override_resource {
    target          = aws_sns_topic.this["notifications"]
    override_during = plan
    values          = { arn = "arn:aws:sns:us-east-1:123456789012:test-notifications" }
  }

  override_resource {
    target          = aws_sqs_queue.this["notifications"]
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:test-notifications", id = "https://sqs.us-east-1.amazonaws.com/123456789012/test-notifications" }
  }

  variables {
    publisher_account_ids = ["210987654321"]
  }

  assert {
    condition     = jsonencode(jsondecode(output.notifications_topic_policy).Statement) == jsonencode([{ Action = "sns:Publish", Effect = "Allow", Principal = { AWS = ["arn:aws:iam::210987654321:root"] }, Resource = "arn:aws:sns:us-east-1:123456789012:test-notifications", Sid = "OtherAccountsPublish" }])
    error_message = "The listed account may publish to the notifications topic, nothing else."
  }

  assert {
    condition     = jsonencode(jsondecode(output.notifications_queue_policy).Statement) == jsonencode([{ Action = "sqs:SendMessage", Effect = "Allow", Principal = { AWS = ["arn:aws:iam::210987654321:root"] }, Resource = "arn:aws:sqs:us-east-1:123456789012:test-notifications", Sid = "OtherAccountsSend" }])
    error_message = "The listed account may send to the notifications queue, nothing else."
  }
}

run "no_resource_policies_without_other_accounts" {
  command = plan

  module {
    source = "../integration"
  }

  assert {
    condition     = output.notifications_topic_policy == null && output.notifications_queue_policy == null
    error_message = "Without other accounts the topic and queue keep their default policies."
  }
}

run "rejects_malformed_account_ids" {
  command = plan

  module {
    source = "../integration"
  }

  variables {
    publisher_account_ids = ["acme"]
  }

  expect_failures = [var.publisher_account_ids]
}
