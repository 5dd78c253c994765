# The four functions: environment per DESIGN.md section 3, event sources on the aliases with
# partial batch failures, the SNS subscription, least-privilege statements.
mock_provider "aws" {
  override_during = plan

  # Policy documents must stay valid JSON: the provider still validates the plan.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
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
  messages_topic_arn = "arn:aws:sns:us-east-1:123456789012:test-messages"
  messages_queue = {
    arn = "arn:aws:sqs:us-east-1:123456789012:test-messages"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/test-messages"
  }
  notifications_topic_arn = "arn:aws:sns:us-east-1:123456789012:test-notifications"
  notifications_queue_arn = "arn:aws:sqs:us-east-1:123456789012:test-notifications"
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
      CONNECTIONS_TABLE_NAME = "test-connections"
      APIGW_ENDPOINT         = "https://abc123.execute-api.us-east-1.amazonaws.com/mvp"
      PUSHER_CONCURRENCY     = "64"
      NOTIFICATIONS_DLQ_URL  = "https://sqs.us-east-1.amazonaws.com/123456789012/test-notifications-dlq"
    })
    error_message = "The pusher must get its DESIGN.md environment."
  }

  assert {
    condition     = contains(flatten([for s in output.policy_statements : s.resources]), "arn:aws:execute-api:us-east-1:123456789012:abc123/mvp/POST/@connections/*")
    error_message = "The pusher may post only to this API's stage connections."
  }

  assert {
    condition     = length(setsubtract(["dynamodb:Query", "dynamodb:Scan", "dynamodb:DescribeTable", "dynamodb:BatchWriteItem"], flatten([for s in output.policy_statements : s.actions]))) == 0
    error_message = "The pusher reads connections (Query, Scan sized by DescribeTable) and prunes them in batches."
  }
}

run "presence_reads_the_stream_through_the_alias" {
  command = plan

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
    condition     = contains(flatten([for s in output.policy_statements : s.actions]), "sqs:SendMessage") && !contains(flatten([for s in output.policy_statements : s.actions]), "sns:Publish")
    error_message = "With presence_source = queue, presence may send to the queue and not publish to the topic."
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
      CONNECTIONS_TABLE_NAME = "test-connections"
      MESSAGES_TOPIC_ARN     = "arn:aws:sns:us-east-1:123456789012:test-messages"
      MESSAGES_QUEUE_URL     = "https://sqs.us-east-1.amazonaws.com/123456789012/test-messages"
      CONNECTION_TTL_SECONDS = "7200"
    })
    error_message = "The connections function must get its DESIGN.md environment."
  }

  assert {
    condition     = alltrue([for s in output.policy_statements : alltrue([for r in s.resources : r != "*"]) && alltrue([for a in s.actions : !strcontains(a, "*")])])
    error_message = "Grants must name actions and resources."
  }
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
    })
    error_message = "The authorizer must get its DESIGN.md environment."
  }
}

run "authorizer_rejects_symmetric_algorithms" {
  command = plan

  module {
    source = "../authorizer"
  }

  variables {
    algorithms = ["HS256"]
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
