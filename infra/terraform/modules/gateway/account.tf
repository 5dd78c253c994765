# API Gateway writes access and execution logs with one role per account and region:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
# That setting is shared by every API of the region, so this stack only takes it over when asked
# (manage_account_logging_role): a second stack would overwrite it, and a destroy would unset it
# under every other API's logging. Otherwise the account must already have one, as the seed
# assumed: AWS refuses a stage with logging without it ("CloudWatch Logs role ARN must be set in
# account settings"), and the provider has no data source to check it at plan time.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  apigw_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "apigateway.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  # The role serves every API of the account and region (an AWS design), so it reaches the
  # region's log groups rather than only this stack's; actions are named, not wildcarded.
  apigw_logs_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "WriteApiGatewayLogs"
      Effect = "Allow"
      Action = [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
      ]
      Resource = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
    }]
  })
}

resource "aws_iam_role" "apigw_logs" {
  count = var.manage_account_logging_role ? 1 : 0

  name               = "${var.prefix}-apigw-cloudwatch"
  assume_role_policy = local.apigw_assume_role_policy
  tags               = var.tags
}

resource "aws_iam_role_policy" "apigw_logs" {
  count = var.manage_account_logging_role ? 1 : 0

  name   = "${var.prefix}-apigw-cloudwatch"
  role   = aws_iam_role.apigw_logs[0].id
  policy = local.apigw_logs_policy
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_account_logging_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.apigw_logs[0].arn
  depends_on          = [aws_iam_role_policy.apigw_logs]
}
