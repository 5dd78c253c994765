# One Lambda function as every SUMU service is deployed: its own role, a KMS-encrypted log group
# with retention, X-Ray tracing, a published version and an alias that integrations target.
data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${var.name}"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

locals {
  # Policies are rendered here rather than by aws_iam_policy_document so that the plan, and the
  # tests that read it, hold the real JSON: actions and resources are asserted, not mocked.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  dead_letter_statements = var.dead_letter_target_arn == null ? [] : [{
    Sid      = "DeadLetter"
    Effect   = "Allow"
    Action   = startswith(split(":", var.dead_letter_target_arn)[2], "sqs") ? ["sqs:SendMessage"] : ["sns:Publish"]
    Resource = [var.dead_letter_target_arn]
  }]

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "WriteOwnLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${local.log_group_arn}:*"]
        },
        {
          # X-Ray segments have no resource-level permissions:
          # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
          Sid      = "Tracing"
          Effect   = "Allow"
          Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
          Resource = ["*"]
        },
        {
          Sid      = "DecryptEnvironment"
          Effect   = "Allow"
          Action   = ["kms:Decrypt"]
          Resource = [var.kms_key_arn]
        },
      ],
      local.dead_letter_statements,
      [for s in var.policy_statements : { Sid = s.sid, Effect = "Allow", Action = s.actions, Resource = s.resources }],
    )
  })
}

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = local.assume_role_policy
  tags               = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = local.policy
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:SUMU functions call public AWS endpoints and the issuer's JWKS URL; a VPC would add NAT cost and latency for no isolation gain.
  #checkov:skip=CKV_AWS_272:Code is built and deployed by the package pipeline from the repository; code signing is left to adopters who run AWS Signer.
  function_name = var.name
  description   = var.description
  role          = aws_iam_role.this.arn
  handler       = var.handler
  runtime       = var.runtime
  memory_size   = var.memory_size
  timeout       = var.timeout
  # Unreserved by default: a new account's concurrency limit (often 10) leaves nothing to
  # reserve, and AWS refuses a reservation that would leave fewer than 100 unreserved.
  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  publish                        = true

  filename = var.package.file
  # Only the first apply uploads this zip; later applies from a checkout without dist/ must not
  # fail on a missing file the pipeline has long replaced.
  source_code_hash = var.package.file == null ? null : try(filebase64sha256(var.package.file), null)
  s3_bucket        = var.package.s3_bucket
  s3_key           = var.package.s3_key

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = "Active"
  }

  dynamic "dead_letter_config" {
    for_each = var.dead_letter_target_arn == null ? [] : [var.dead_letter_target_arn]
    content {
      target_arn = dead_letter_config.value
    }
  }

  tags = var.tags

  # The package pipeline ships new code and versions; Terraform owns the configuration only.
  lifecycle {
    ignore_changes = [filename, source_code_hash, s3_bucket, s3_key, s3_object_version]
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_alias" "this" {
  name          = var.alias_name
  description   = "Traffic alias, moved by the package pipeline"
  function_name = aws_lambda_function.this.function_name
  # The version the first apply published; from then on the package pipeline moves it.
  function_version = aws_lambda_function.this.version

  # After the first apply the pipeline owns the alias: a release or a rollback with
  # `aws lambda update-alias` is not undone by the next apply.
  lifecycle {
    ignore_changes = [function_version]
  }
}
