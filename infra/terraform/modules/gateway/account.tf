# API Gateway writes access and execution logs with one role per account and region:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_iam_policy_document" "apigw_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "apigw_logs" {
  # The role is shared by every API of the account and region (an AWS design), so it reaches the
  # region's log groups rather than only this stack's; actions are named, not wildcarded.
  statement {
    sid = "WriteApiGatewayLogs"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
      "logs:GetLogEvents",
      "logs:FilterLogEvents",
    ]
    resources = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
  }
}

resource "aws_iam_role" "apigw_logs" {
  count = var.manage_account_logging_role ? 1 : 0

  name               = "${var.prefix}-apigw-cloudwatch"
  assume_role_policy = data.aws_iam_policy_document.apigw_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "apigw_logs" {
  count = var.manage_account_logging_role ? 1 : 0

  name   = "${var.prefix}-apigw-cloudwatch"
  role   = aws_iam_role.apigw_logs[0].id
  policy = data.aws_iam_policy_document.apigw_logs.json
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_account_logging_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.apigw_logs[0].arn
  depends_on          = [aws_iam_role_policy.apigw_logs]
}
