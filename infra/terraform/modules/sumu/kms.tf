# One customer managed key encrypts the stack at rest: table and stream, topics, queues, Lambda
# environments, log groups, pipeline artifacts and builds. Key policies grant AWS services the use
# they need on behalf of this account only:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
# https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
resource "aws_kms_key" "this" {
  description             = "SUMU ${var.prefix}: encryption at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = local.tags

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncrypts"
        Effect    = "Allow"
        Principal = { Service = "logs.${data.aws_region.current.name}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"
          }
        }
      },
      {
        # Alarms and pipeline notifications publish to encrypted topics.
        Sid       = "ServicesPublishToEncryptedTopics"
        Effect    = "Allow"
        Principal = { Service = ["cloudwatch.amazonaws.com", "codestar-notifications.amazonaws.com"] }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = {
          StringEquals = { "kms:ViaService" = "sns.${data.aws_region.current.name}.amazonaws.com" }
        }
      },
      ],
      # Backends in other accounts publishing notification requests encrypt them with this key,
      # through SNS or SQS only:
      # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#sns-what-permissions-for-sse
      length(var.publisher_account_ids) == 0 ? [] : [{
        Sid       = "OtherAccountsPublishNotificationRequests"
        Effect    = "Allow"
        Principal = { AWS = [for id in var.publisher_account_ids : "arn:${data.aws_partition.current.partition}:iam::${id}:root"] }
        Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = "*"
        Condition = {
          StringEquals = { "kms:ViaService" = ["sns.${data.aws_region.current.name}.amazonaws.com", "sqs.${data.aws_region.current.name}.amazonaws.com"] }
        }
      }],
    )
  })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.prefix}"
  target_key_id = aws_kms_key.this.key_id
}
