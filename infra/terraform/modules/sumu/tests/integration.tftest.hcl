# Topics and queues: encryption, dead-letter queues with redrive, alarms on DLQ depth.
mock_provider "aws" {
  override_during = plan

  # Policy documents must stay valid JSON: the provider still validates the plan.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
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
